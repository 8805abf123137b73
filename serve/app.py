"""The FastAPI app: lifespan (load, warm up, batcher), limits, auth, thin routes, metrics and the demo page."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Match

from model.actors import ActorRegistry
from model.pipeline import Predictions
from model.types import Pair
from serve.batcher import MicroBatcher
from serve.errors import ApiError, error_response, install_error_handlers, internal_error, invalid_json, too_large
from serve.labelling import LabelQueue
from serve.metrics import ServiceMetrics
from serve.pages import page
from serve.schemas import (
    AnalyzeRequest,
    AnalyzeResponse,
    ClassifyRequest,
    ClassifyResponse,
    ReloadRequest,
    classify_result,
    document_out,
    error_responses,
)
from serve.settings import Settings
from serve.state import ModelHandle, base_model_name, load_handle, resolve_model_name

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

    def label_queue(self) -> LabelQueue:
        if self.labels is None:
            raise ApiError(404, "labelling_disabled", "labelling is off: set STANCE_LABEL_QUEUE to a file of items")
        return self.labels

    def model_path(self) -> tuple[Path, str]:
        given = Path(self.settings.model)
        if given.is_dir():
            return given, given.name
        if given.is_absolute() or len(given.parts) > 1:
            raise ApiError(404, "model_not_found", f"model {self.settings.model!r}: no such directory", field="model")
        return resolve_model_name(Path(self.settings.models_root), self.settings.model), self.settings.model

    async def load(self, path: Path, name: str) -> ModelHandle:
        return await run_in_threadpool(load_handle, path, name, self.registry, self.settings.model_batch_size)

    def ready_handle(self) -> ModelHandle:
        if self.handle is None:
            detail = f": {self.load_error}" if self.load_error else " yet"
            raise ApiError(503, "not_ready", f"no model loaded{detail}")
        return self.handle


def get_state(request: Request) -> ServiceState:
    return request.app.state.service


State = Annotated[ServiceState, Depends(get_state)]


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (scheme in any case); None without one. Any other
    scheme, or a bare token, is no credential at all."""
    scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def require_api_key(request: Request, state: State) -> None:
    """Prediction routes, when keys are set: the key in ``X-API-Key`` or as ``Authorization: Bearer <key>``."""
    keys = state.settings.api_keys
    if not keys:
        return
    given = request.headers.get("x-api-key") or bearer_token(request) or ""
    if not any(hmac.compare_digest(given.encode(), k.encode()) for k in keys):
        raise ApiError(401, "unauthorized", "missing or wrong API key (header X-API-Key, or Authorization: Bearer)")


def require_admin(request: Request, state: State) -> None:
    token = state.settings.admin_token
    if token is None:
        raise ApiError(404, "admin_disabled", "admin endpoints are off: set STANCE_ADMIN_TOKEN to enable them")
    given = bearer_token(request) or ""
    if not hmac.compare_digest(given.encode(), token.get_secret_value().encode()):
        raise ApiError(401, "unauthorized", "missing or wrong admin token (header Authorization: Bearer ...)")


class BodyLimit:
    """ASGI middleware: a body larger than the limit gets 413 before it is parsed, whether it announces its size
    (Content-Length) or not (chunked): the body is read up to the limit first, then handed on. A JSON body that is
    not UTF-8 gets 422 invalid_json naming the first bad byte."""

    def __init__(self, app, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            return await self._reject(scope, receive, send, int(length))
        chunks, seen, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunks.append(message.get("body", b""))
            seen += len(chunks[-1])
            more = message.get("more_body", False)
            if seen > self.limit:
                return await self._reject(scope, receive, send, seen)
        body: bytes | None = b"".join(chunks)
        if body and b"json" in headers.get(b"content-type", b"json").lower():
            try:
                body.decode("utf-8")
            except UnicodeDecodeError as exc:  # JSON is UTF-8 (RFC 8259); FastAPI itself would answer a bare 400
                reason = f"it is not UTF-8 (byte 0x{body[exc.start]:02x} at byte {exc.start + 1})"
                return await invalid_json(reason)(scope, receive, send)

        async def replay():
            nonlocal body
            if body is None:
                return await receive()
            message, body = {"type": "http.request", "body": body, "more_body": False}, None
            return message

        await self.app(scope, replay, send)

    async def _reject(self, scope, receive, send, size: int) -> None:
        error = too_large("request body (bytes)", self.limit, "max_body_bytes", got=size)
        await error_response(error.status, error.code, error.message, **error.details)(scope, receive, send)


class Observe:
    """ASGI middleware around everything else: the per-request time limit (a timed-out request is cancelled, so
    its queued model work is skipped), one JSON 500 for any unhandled error, and request metrics for every answer."""

    def __init__(self, app, service: ServiceState, routes: FastAPI) -> None:
        self.app, self.service, self.routes = app, service, routes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        settings, started, status = self.service.settings, time.perf_counter(), None

        async def tracked_send(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        timeout = settings.request_timeout_s if scope["path"].startswith("/v1/") else None
        response = None
        try:
            async with asyncio.timeout(timeout) as limit:
                await self.app(scope, receive, tracked_send)
        except TimeoutError:
            if not limit.expired():
                log.exception("unhandled error in %s %s", scope["method"], scope["path"])
                response = internal_error()
            else:
                response = error_response(
                    504, "timeout", f"request took longer than {settings.request_timeout_s} s "
                    "(setting STANCE_REQUEST_TIMEOUT_S)", limit=settings.request_timeout_s,
                    setting="request_timeout_s",
                )  # fmt: skip
        except Exception:
            log.exception("unhandled error in %s %s", scope["method"], scope["path"])
            response = internal_error()
        if response is not None and status is None:
            await response(scope, receive, tracked_send)
        name = self.route_name(scope)
        self.service.metrics.requests.labels(route=name, status=str(status or 500)).inc()
        self.service.metrics.latency.labels(route=name).observe(time.perf_counter() - started)

    def route_name(self, scope) -> str:
        """The route's path template; 'unmatched' for paths no route serves (keeps the label set small)."""
        route = scope.get("route")
        if route is not None:
            return getattr(route, "path", "unmatched")
        probe = {**scope, "method": scope.get("method", "GET")}
        for candidate in self.routes.router.routes:
            match, _ = candidate.matches(probe)
            if match is not Match.NONE:
                return getattr(candidate, "path", "unmatched")
        return "unmatched"


class JSONBytes(Response):
    """A JSON body serialised in a worker thread (the route's ``response_model`` still documents its shape)."""

    media_type = "application/json"


def json_bytes(payload: Any) -> bytes:
    """``payload`` as compact JSON. The outer levels (response, documents, document, sentences) are written item by
    item: one C-level dump of a response with thousands of sentences holds the GIL for a third of a second, long
    enough to stall /healthz even from a worker thread."""
    return "".join(_json_pieces(payload, 0)).encode("utf-8")


def _json_pieces(value: Any, depth: int) -> Iterator[str]:
    if depth >= 4 or not isinstance(value, dict | list) or len(value) < 2:
        yield json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    elif isinstance(value, dict):
        for i, (key, item) in enumerate(value.items()):
            yield ("{" if i == 0 else ",") + json.dumps(str(key), ensure_ascii=False) + ":"
            yield from _json_pieces(item, depth + 1)
        yield "}"
    else:
        for i, item in enumerate(value):
            yield "[" if i == 0 else ","
            yield from _json_pieces(item, depth + 1)
        yield "]"


def create_app(settings: Settings | None = None) -> FastAPI:
    """The service; the model loads in the background after start-up (``/readyz`` says when)."""
    settings = settings or Settings()
    state = ServiceState(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if settings.torch_threads:
            import torch

            torch.set_num_threads(settings.torch_threads)
        state.batcher = MicroBatcher(
            settings.batch_max_items, settings.batch_max_wait_ms / 1000, settings.queue_max_items,
            settings.model_batch_size, state.metrics, max_queue_wait_s=settings.max_queue_wait_s,
        )  # fmt: skip
        state.batcher.start()

        def failed(exc: Exception) -> None:
            state.load_error = str(getattr(exc, "message", exc))
            log.error(
                "could not load the model %r (STANCE_MODEL / --model): %s. The server keeps running, but /readyz and "
                "the prediction routes answer 503 until a model loads (POST /v1/admin/reload)", settings.model,
                state.load_error,
            )  # fmt: skip

        async def initial_load(path: Path, name: str) -> None:
            try:
                state.handle = await state.load(path, name)
                state.metrics.set_model(state.handle.model_id, name)
                log.info("ready: serving %s", state.handle.model_id)
            except Exception as exc:
                failed(exc)

        loader = None
        try:
            path, name = state.model_path()  # a wrong name is reported now, before "startup complete"
            log.info("loading model %s", path)
            loader = asyncio.create_task(initial_load(path, name))
        except Exception as exc:
            failed(exc)
        yield
        if loader is not None:
            loader.cancel()
        await state.batcher.stop()

    app = FastAPI(
        title="Actor Stance",
        version="1",
        summary="Stance toward named actors and sentence sentiment in news text.",
        lifespan=lifespan,
    )
    app.state.service = state
    install_error_handlers(app)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    app.add_middleware(Observe, service=state, routes=app)
    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "X-API-Key", "Authorization"],
            expose_headers=["Retry-After"],
        )

    predict = error_responses(401, 413, 422, 429, 503, 504)

    @app.post("/v1/analyze", response_model=AnalyzeResponse, dependencies=[Depends(require_api_key)], responses=predict)
    async def analyze(body: AnalyzeRequest, state: State) -> Response:
        """Sentences, actor mentions, stance per actor and sentence sentiment, per document (as `stance analyze`)."""
        handle = state.ready_handle()
        documents = body.to_documents()
        check_analyze_limits(body, documents, settings)
        registry = None
        if body.actors is not None:
            registry = ActorRegistry.from_records([a.model_dump() for a in body.actors], source="request actors")
        assert state.batcher is not None
        batcher = state.batcher

        async def predict(pairs: Sequence[Pair], texts: Sequence[str]) -> Predictions:
            return await batcher.predict(handle, pairs, texts)

        results = await handle.analyzer.analyze_async(documents, predict, body.score_all_actors, registry)

        def respond() -> bytes:
            return json_bytes({"model": handle.model_id, "documents": [document_out(r) for r in results]})

        # Serialising a large response takes long enough to stall /healthz: off the event loop.
        return JSONBytes(await run_in_threadpool(respond))

    @app.post(
        "/v1/classify", response_model=ClassifyResponse, dependencies=[Depends(require_api_key)], responses=predict
    )
    async def classify(body: ClassifyRequest, state: State) -> Response:
        """Stance and sentiment, with probabilities, for (text, target) pairs you already have."""
        handle = state.ready_handle()
        if len(body.items) > settings.max_classify_items:
            raise too_large("items", settings.max_classify_items, "max_classify_items", len(body.items), "items")
        for i, item in enumerate(body.items):
            if len(item.text) > settings.max_document_chars:
                raise too_large(
                    "text (characters)", settings.max_document_chars, "max_document_chars", len(item.text),
                    f"items[{i}].text",
                )  # fmt: skip
        pairs = [item.to_pair(handle.analyzer.registry.find_actor) for item in body.items]
        assert state.batcher is not None
        stance, sentiment = await state.batcher.predict(handle, pairs, [p.text for p in pairs])

        def respond() -> bytes:
            merged = [
                classify_result(p, s.__class__(tasks={**s.tasks, **t.tasks}, truncated=s.truncated or t.truncated))
                for p, s, t in zip(pairs, stance, sentiment, strict=True)
            ]
            return ClassifyResponse(model=handle.model_id, items=merged).model_dump_json().encode("utf-8")

        return JSONBytes(await run_in_threadpool(respond))

    @app.get("/v1/model", responses=error_responses(503))
    async def model_info(state: State) -> dict[str, Any]:
        """What the model card holds: id, content hash, base model, tasks and labels, actors, data, metrics, and the
        calibration every prediction applies (temperature and stance prior correction per task)."""
        handle = state.ready_handle()
        project = handle.predictor.project
        return {
            "id": handle.model_id,
            "name": handle.name,
            "content_hash": project.weights_sha256,
            "base_model": project.base_model,
            "base_model_resolved": base_model_name(project.base_model, handle.path),
            "created": project.created,
            "tasks": [t.to_dict() for t in project.tasks],
            "input_format": project.input_format.to_dict(),
            "default_actors": state.registry.names,
            "training_data": project.training_data,
            "metrics": project.metrics,
            "calibration": {name: c.to_dict() for name, c in project.calibration.items()},
        }

    @app.get("/v1/actors", responses=error_responses())
    async def actors(state: State) -> dict[str, Any]:
        """The active actor registry."""
        return {
            "source": state.registry.source,
            "actors": [
                {"name": a.name, "aliases": list(a.aliases), "case_sensitive": list(a.case_sensitive),
                 "patterns": list(a.patterns), "exclude": list(a.exclude)}
                for a in state.registry.actors
            ],
        }  # fmt: skip

    @app.post("/v1/admin/reload", dependencies=[Depends(require_admin)], responses=error_responses(401, 404, 413, 422))
    async def reload(body: ReloadRequest, state: State) -> dict[str, Any]:
        """Load and warm up another model under the models root while the current one serves, then swap."""
        path = resolve_model_name(Path(settings.models_root), body.model)
        async with state.reload_lock:
            try:
                handle = await state.load(path, body.model)
            except Exception as exc:
                current = state.handle.model_id if state.handle else None
                raise ApiError(
                    422, "invalid_model", f"model {body.model!r} not loaded, still serving {current}: "
                    f"{getattr(exc, 'message', exc)}", field="model",
                ) from exc  # fmt: skip
            previous, state.handle = state.handle, handle
            state.load_error = None
            state.metrics.set_model(handle.model_id, body.model)
        return {"model": handle.model_id, "previous": previous.model_id if previous else None}

    @app.get("/healthz", responses=error_responses())
    async def healthz() -> dict[str, str]:
        """The process is alive."""
        return {"status": "ok"}

    @app.get("/readyz", responses=error_responses(503))
    async def readyz(state: State) -> JSONResponse:
        """200 once a model is loaded and its warm-up prediction succeeded; 503 before (or if loading failed)."""
        if state.draining:
            return error_response(503, "shutting_down", "shutting down: finishing the requests in flight")
        if state.handle is None:
            detail = state.load_error or "model still loading"
            return error_response(503, "not_ready", detail)
        return JSONResponse({"status": "ready", "model": state.handle.model_id})

    @app.get(
        "/metrics",
        response_class=PlainTextResponse,
        responses={200: {"content": {"text/plain": {}}}, **error_responses()},
    )
    async def metrics(state: State) -> Response:
        return Response(state.metrics.render(), media_type="text/plain; version=0.0.4")

    @app.get("/v1/label/next", dependencies=[Depends(require_api_key)], responses=error_responses(401, 404, 422))
    async def label_next(state: State, annotator: str = "anonymous") -> dict[str, Any]:
        """The next item this annotator has not labelled, and their progress."""
        return state.label_queue().next_item(annotator)

    @app.post("/v1/label", dependencies=[Depends(require_api_key)], responses=error_responses(401, 404, 413, 422))
    async def label_save(answer: dict[str, Any], state: State, annotator: str = "anonymous") -> dict[str, Any]:
        """Append one answer ({id, stance, sentiment, confidence}) to the labelled file; returns the next item."""
        queue = state.label_queue()
        return await run_in_threadpool(queue.save, annotator, answer)

    @app.get("/label", response_class=HTMLResponse, include_in_schema=False)
    async def label_page(state: State) -> HTMLResponse:
        state.label_queue()  # 404 when labelling is off
        return page("label.html")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def demo() -> HTMLResponse:
        return page("index.html")

    return app


def check_analyze_limits(body: AnalyzeRequest, documents, settings: Settings) -> None:
    if len(documents) > settings.max_documents:
        raise too_large("documents", settings.max_documents, "max_documents", len(documents), "documents")
    for i, doc in enumerate(documents):
        if len(doc.text) > settings.max_document_chars:
            field = "text" if body.text is not None else f"documents[{i}].text"
            raise too_large(
                "document text (characters)", settings.max_document_chars, "max_document_chars", len(doc.text), field
            )
    if body.actors is not None and len(body.actors) > settings.max_inline_actors:
        raise too_large("inline actors", settings.max_inline_actors, "max_inline_actors", len(body.actors), "actors")
