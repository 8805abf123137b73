"""Every service setting, read from the environment (prefix ``STANCE_``) or set by `stance serve` flags."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Service settings; each can be set as ``STANCE_<NAME>`` (e.g. ``STANCE_MAX_DOCUMENTS=100``)."""

    model_config = SettingsConfigDict(env_prefix="STANCE_", env_file=None, extra="ignore")

    model: str = Field("default", description="model to serve: a directory name under models_root, or a path")
    models_root: str = Field("models", description="folder holding model directories; reload only names these")
    actors_file: str | None = Field(
        None, description="actor registry YAML, added to the default actors unless it says replace_defaults: true"
    )
    host: str = Field("127.0.0.1", description="interface to listen on")
    port: int = Field(8000, description="TCP port")

    max_body_bytes: int = Field(2_000_000, description="largest request body accepted (bytes) -> 413")
    max_documents: int = Field(64, description="documents per /v1/analyze request -> 413")
    max_document_chars: int = Field(100_000, description="characters per document -> 413")
    max_classify_items: int = Field(512, description="items per /v1/classify request -> 413")
    max_inline_actors: int = Field(50, description="inline actors per request -> 413")

    batch_max_items: int = Field(256, description="most sentences + pairs the micro-batcher runs in one model call")
    batch_max_wait_ms: float = Field(
        0.0, ge=0, description="how long the batcher waits for more requests to join a batch; 0: none (requests that "
        "arrive while the model is busy form the next batch)",
    )  # fmt: skip
    queue_max_items: int = Field(8192, description="sentences + pairs waiting for the model; more -> 429 at once")
    request_timeout_s: float = Field(60.0, description="per-request time limit -> 504")
    max_queue_wait_s: float = Field(
        30.0, description="most model work (estimated seconds at the measured throughput) a new request may find "
        "ahead of it; more -> 429 at once with Retry-After; keep it under request_timeout_s",
    )  # fmt: skip
    shutdown_drain_s: float = Field(
        1.0, ge=0, description="on SIGTERM, /readyz answers 503 and requests keep being accepted this long before the "
        "graceful shutdown, so connections already open are served, not closed",
    )  # fmt: skip
    model_batch_size: int = Field(
        0, ge=0, description="at most this many inputs per forward pass inside a model call (0: as many as the token "
        "budget allows, up to 256)",
    )  # fmt: skip
    model_batch_tokens: int = Field(
        0,
        ge=0,
        description="padded tokens per forward pass, inputs sorted by length (0: 2048 on a CPU, 16384 on a GPU)",
    )
    torch_threads: int = Field(0, description="CPU threads for torch (0: torch's default)")
    backend: Literal["auto", "torch-fp32", "torch-bf16", "onnx-fp32", "onnx-int8"] = Field(
        "auto",
        description="how the network runs: auto is the fastest backend `stance export` checked (model/backends.py)",
    )

    label_queue: str | None = Field(
        None, description="JSONL or CSV of items to label (from `stance suggest`), unique ids; enables /label"
    )
    label_output: str = Field(
        "labels.jsonl", description="append-only .jsonl file the labelling page saves to; '{annotator}' in the path "
        "gives each annotator their own file; replicas may share it on one host or on a filesystem whose locks work",
    )  # fmt: skip

    api_keys: list[str] = Field(default_factory=list, description="if set, prediction routes need X-API-Key")
    admin_token: SecretStr | None = Field(None, description="bearer token for /v1/admin/*; unset: admin is off")
    cors_origins: list[str] = Field(default_factory=list, description="origins allowed by CORS; empty: no CORS")
