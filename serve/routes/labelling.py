"""The labelling routes behind the /label page: the next item for an annotator, and saving an answer."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool

from serve.deps import State, require_api_key
from serve.schemas import error_responses

router = APIRouter(dependencies=[Depends(require_api_key)])


@router.get("/v1/label/next", responses=error_responses(401, 404, 422))
async def label_next(state: State, annotator: str = "anonymous") -> dict[str, Any]:
    """The next item this annotator has not labelled, and their progress."""
    queue = state.label_queue()
    return await run_in_threadpool(queue.next_item, annotator)  # reads the answers file, under its lock


@router.post("/v1/label", responses=error_responses(401, 404, 413, 422))
async def label_save(answer: dict[str, Any], state: State, annotator: str = "anonymous") -> dict[str, Any]:
    """Append one answer ({id, stance, sentiment, confidence}) to the labelled file; returns the next item."""
    queue = state.label_queue()
    return await run_in_threadpool(queue.save, annotator, answer)
