"""What the routes share (settings, actor registry, the current model, the batcher, metrics) and the lifespan that
starts it: the batcher runs, the model loads in the background, and a failed load leaves the server up at 503."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from model.actors import ActorRegistry
from model.model_dir import is_model_name
from serve.batcher import MicroBatcher
from serve.errors import LabellingDisabled, ModelNotFound, NotReady, ReloadFailed
from serve.handle import ModelHandle, load_handle, resolve_model_name
from serve.heap import HeapKeeper
from serve.labelling import LabelQueue
from serve.metrics import ServiceMetrics
from serve.settings import Settings

log = logging.getLogger("stance.serve")


class ServiceState:
    """What the routes share: settings, registry, the current model handle, the batcher and metrics."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.metrics = ServiceMetrics()
        self.registry = (
            ActorRegistry.from_file(settings.actors_file) if settings.actors_file else ActorRegistry.default()
        )
        self.handle: ModelHandle | None = None
        self.load_error: str | None = None
        self.batcher: MicroBatcher | None = None
        self.reload_lock = asyncio.Lock()
        self.draining = False  # set on SIGTERM (serve/server.py): /readyz says 503 while requests are still served
        self.labels = LabelQueue(settings.label_queue, settings.label_output) if settings.label_queue else None
        self._loader: asyncio.Task | None = None
        self.in_flight = 0  # prediction requests being answered (serve/middleware.py counts them)
        self.heap = HeapKeeper(busy=lambda: self.in_flight > 0)

    def label_queue(self) -> LabelQueue:
        if self.labels is None:
            raise LabellingDisabled()
        return self.labels

    def model_path(self) -> tuple[Path, str]:
        """The directory and name of the model to serve at start-up (``settings.model``: a path or a name)."""
        if not is_model_name(self.settings.model):
            given = Path(self.settings.model)
            if not given.is_dir():
                raise ModelNotFound(f"model {self.settings.model!r}: no such directory")
            return given, given.name
        return resolve_model_name(Path(self.settings.models_root), self.settings.model), self.settings.model

    async def load(self, path: Path, name: str) -> ModelHandle:
        """Load and warm up a model in a thread of its own that ends with the load, then warm it up once more on the
        model thread.

        Every thread that runs torch operations keeps its own OpenMP team, and once the process holds more OpenMP
        threads than CPUs, libgomp stops spinning between parallel regions: each forward pass then pays thread
        wake-ups (one pair, torch-bf16, 2 cores: 8 ms with one team, 17 ms with two). So a load never runs on a
        pooled thread that lives on: its team ends with its thread, and the batcher's one model thread is the only
        lasting one (the current model keeps being served meanwhile).
        """
        settings = self.settings
        loader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stance-load")
        try:
            handle = await asyncio.get_running_loop().run_in_executor(
                loader, load_handle, path, name, self.registry, settings.model_batch_size or None, settings.backend,
                settings.model_batch_tokens or None,
            )  # fmt: skip
        finally:
            loader.shutdown(wait=False)  # the thread ends as soon as the load returns
        await self.running_batcher().warm_up(handle)
        return handle

    def ready_handle(self) -> ModelHandle:
        if self.handle is None:
            detail = f": {self.load_error}" if self.load_error else " yet"
            raise NotReady(f"no model loaded{detail}")
        return self.handle

    def running_batcher(self) -> MicroBatcher:
        assert self.batcher is not None, "the batcher starts with the app (lifespan)"
        return self.batcher

    async def reload(self, name: str) -> tuple[ModelHandle, ModelHandle | None]:
        """Load and warm up the model ``name`` under the models root while the current one serves, then swap;
        returns (the new handle, the previous one)."""
        path = resolve_model_name(Path(self.settings.models_root), name)
        async with self.reload_lock:
            try:
                handle = await self.load(path, name)
            except Exception as exc:
                current = self.handle.model_id if self.handle else None
                raise ReloadFailed(name, current, str(getattr(exc, "message", exc))) from exc
            previous, self.handle = self.handle, handle
            self.load_error = None
            self.metrics.set_model(handle.model_id, name)
        return handle, previous

    async def start(self) -> None:
        """Start the batcher and the background load of the model in the settings."""
        settings = self.settings
        if settings.torch_threads:
            import torch

            torch.set_num_threads(settings.torch_threads)
        self.batcher = MicroBatcher(
            settings.batch_max_items, settings.batch_max_wait_ms / 1000, settings.queue_max_items, self.metrics,
            max_queue_wait_s=settings.max_queue_wait_s,
        )  # fmt: skip
        self.batcher.start()
        self.heap.start()
        try:
            path, name = self.model_path()  # a wrong name is reported now, before "startup complete"
            log.info("loading model %s", path)
            self._loader = asyncio.create_task(self._initial_load(path, name))
        except Exception as exc:
            self._failed(exc)

    async def stop(self) -> None:
        """Stop loading, finish the queued model work, stop the batcher."""
        if self._loader is not None:
            self._loader.cancel()
        await self.running_batcher().stop()
        await self.heap.stop()

    async def _initial_load(self, path: Path, name: str) -> None:
        try:
            self.handle = await self.load(path, name)
            self.metrics.set_model(self.handle.model_id, name)
            log.info("ready: serving %s", self.handle.model_id)
        except Exception as exc:
            self._failed(exc)

    def _failed(self, exc: Exception) -> None:
        self.load_error = str(getattr(exc, "message", exc))
        log.error(
            "could not load the model %r (STANCE_MODEL / --model): %s. The server keeps running, but /readyz and "
            "the prediction routes answer 503 until a model loads (POST /v1/admin/reload)", self.settings.model,
            self.load_error,
        )  # fmt: skip


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The app's lifespan: `ServiceState.start` at start-up, `ServiceState.stop` at shutdown."""
    state: ServiceState = app.state.service
    await state.start()
    yield
    await state.stop()
