"""Liveness (/healthz), readiness (/readyz: a model loaded and warmed up, not draining) and Prometheus /metrics."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from serve.deps import State
from serve.errors import NotReady, ShuttingDown
from serve.schemas import error_responses

router = APIRouter()


@router.get("/healthz", responses=error_responses())
async def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz", responses=error_responses(503))
async def readyz(state: State) -> JSONResponse:
    """200 once a model is loaded and its warm-up prediction succeeded; 503 before (or if loading failed)."""
    if state.draining:
        raise ShuttingDown()
    if state.handle is None:
        raise NotReady(state.load_error or "model still loading")
    return JSONResponse({"status": "ready", "model": state.handle.model_id})


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}}, **error_responses()},
)
async def metrics(state: State) -> Response:
    return Response(state.metrics.render(), media_type="text/plain; version=0.0.4")
