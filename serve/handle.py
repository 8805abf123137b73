"""One loaded model (predictor, document analyzer, the facts /v1/model reports): loading, warm-up, safe names."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from model.actors import ActorRegistry
from model.backends import BackendError
from model.base import DEFAULT_BASE_HUB_ID as MINILM
from model.base import DEFAULT_BASE_NAMES
from model.model_dir import ModelDirError
from model.pipeline import DocumentAnalyzer
from model.predictor import StancePredictor
from model.types import Pair, Span
from serve.errors import InvalidModelName, ModelNotFound
from serve.heap import freeze_long_lived_objects

SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")


@dataclass(frozen=True)
class ModelHandle:
    """One loaded, warmed-up model; requests keep the handle they started with across a reload."""

    name: str
    path: Path
    predictor: StancePredictor
    analyzer: DocumentAnalyzer

    @property
    def content_hash(self) -> str:
        return self.predictor.project.weights_sha256

    @property
    def model_id(self) -> str:
        return f"{self.name}@{self.content_hash[:12]}"


def load_handle(
    path: Path,
    name: str,
    registry: ActorRegistry,
    batch_size: int | None,
    backend: str = "auto",
    max_tokens: int | None = None,
) -> ModelHandle:
    """Load a model directory and run a warm-up prediction; raises `ModelDirError` when either fails."""
    try:
        predictor = StancePredictor.from_dir(path, backend=backend, max_tokens=max_tokens)
    except BackendError as exc:
        raise ModelDirError(str(exc)) from exc
    try:
        warm_up(predictor)
    except Exception as exc:  # a model that loads but cannot predict must not be served
        raise ModelDirError(f"{path}: warm-up prediction failed ({exc})") from exc
    handle = ModelHandle(name, path, predictor, DocumentAnalyzer.from_predictor(predictor, registry, batch_size))
    freeze_long_lived_objects()  # the model and libraries leave the collector's walks (serve/heap.py)
    return handle


def warm_up(predictor: StancePredictor) -> None:
    """One prediction of each kind of task: the first pass's one-off costs are paid before a request arrives."""
    text = "Damascus has every right to expel terrorists from its territory."
    predictor.predict([Pair(text, "Syria", (Span(0, 8),))])
    predictor.predict_sentences([text])


def base_model_name(base_model: str | None, model_dir: Path) -> str | None:
    """The base encoder a model was trained from, by name: "default" is all-MiniLM-L6-v2; otherwise the hub id
    recorded in the model's config.json (the encoder's, nested under "encoder" since format 2), else the name as the
    model card gives it."""
    if not base_model or base_model in DEFAULT_BASE_NAMES:
        return MINILM
    try:
        config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
        recorded = config.get("_name_or_path") or config.get("encoder", {}).get("_name_or_path")
    except (OSError, ValueError, AttributeError):
        recorded = None
    if isinstance(recorded, str) and recorded and not Path(recorded).is_absolute():
        return recorded
    return base_model


def resolve_model_name(root: Path, name: str) -> Path:
    """The directory ``root/name``, refusing anything that is not a plain name of a directory inside ``root``."""
    if not SAFE_NAME.match(name) or name in (".", ".."):
        raise InvalidModelName(f"model {name!r}: give the name of a directory under the models root, not a path or URL")
    root = root.resolve()
    candidate = root / name
    if not candidate.exists():
        raise ModelNotFound(f"model {name!r}: no such directory under the models root")
    resolved = candidate.resolve()
    if resolved.parent != root and root not in resolved.parents:
        raise InvalidModelName(f"model {name!r} points outside the models root")
    if not resolved.is_dir():
        raise InvalidModelName(f"model {name!r} is not a directory")
    return resolved
