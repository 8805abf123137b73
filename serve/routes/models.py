"""The model being served: its card (/v1/model), the actor registry (/v1/actors), and swapping it for another
(/v1/admin/reload, admin token only)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends

from serve.deps import State, require_admin
from serve.handle import base_model_name
from serve.schemas import ReloadRequest, error_responses

router = APIRouter()


@router.get("/v1/model", responses=error_responses(503))
async def model_info(state: State) -> dict[str, Any]:
    """What the model card holds: id, content hash, base model, tasks and labels, actors, data, metrics, and the
    calibration every prediction applies (temperature and stance prior correction per task), and the backend the
    network runs on with its check against float32 (model/backends.py)."""
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
        "backend": handle.predictor.backend,
        "backend_check": asdict(check) if (check := handle.predictor.backend_check) else None,
    }


@router.get("/v1/actors", responses=error_responses())
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


@router.post(
    "/v1/admin/reload", dependencies=[Depends(require_admin)], responses=error_responses(400, 401, 404, 413, 422)
)
async def reload(body: ReloadRequest, state: State) -> dict[str, Any]:
    """Load and warm up another model under the models root while the current one serves, then swap."""
    handle, previous = await state.reload(body.model)
    return {"model": handle.model_id, "previous": previous.model_id if previous else None}
