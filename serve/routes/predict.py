"""The prediction routes: /v1/analyze (documents -> sentences, mentions, stance per actor, sentiment) and
/v1/classify (stance and sentiment for given (text, target) pairs)."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from analysis.formats import document_to_dict
from model.actors import ActorRegistry
from model.extraction import Document
from serve.deps import State, require_api_key
from serve.errors import TooLarge
from serve.responses import JSONBytes, json_bytes
from serve.schemas import (
    AnalyzeRequest,
    AnalyzeResponse,
    ClassifyRequest,
    ClassifyResponse,
    classify_result,
    error_responses,
)
from serve.settings import Settings

router = APIRouter(dependencies=[Depends(require_api_key)], responses=error_responses(401, 413, 422, 429, 503, 504))


@router.post("/v1/analyze", response_model=AnalyzeResponse)
async def analyze(body: AnalyzeRequest, state: State) -> Response:
    """Sentences, actor mentions, stance per actor and sentence sentiment, per document (as `stance analyze`)."""
    handle = state.ready_handle()
    documents = body.to_documents()
    check_analyze_limits(body, documents, state.settings)
    registry = None
    if body.actors is not None:
        inline = ActorRegistry.from_records([a.model_dump() for a in body.actors], source="request actors")
        registry = inline if body.replace_actors else handle.analyzer.registry.plus(inline)
    predict = partial(state.running_batcher().predict, handle)  # the micro-batcher is the predict step
    results = await handle.analyzer.analyze_async(documents, predict, body.score_all_actors, registry)

    def respond() -> bytes:
        return json_bytes({"model": handle.model_id, "documents": [document_to_dict(r) for r in results]})

    # Serialising a large response takes long enough to stall /healthz: off the event loop.
    return JSONBytes(await run_in_threadpool(respond))


@router.post("/v1/classify", response_model=ClassifyResponse)
async def classify(body: ClassifyRequest, state: State) -> Response:
    """Stance and sentiment, with probabilities, for (text, target) pairs you already have."""
    handle = state.ready_handle()
    check_classify_limits(body, state.settings)
    pairs = [item.to_pair(handle.analyzer.registry) for item in body.items]
    stance, sentiment = await state.running_batcher().predict(handle, pairs, [p.text for p in pairs])

    def respond() -> bytes:
        items = [classify_result(*result) for result in zip(pairs, stance, sentiment, strict=True)]
        return ClassifyResponse(model=handle.model_id, items=items).model_dump_json().encode("utf-8")

    return JSONBytes(await run_in_threadpool(respond))


def check_analyze_limits(body: AnalyzeRequest, documents: list[Document], settings: Settings) -> None:
    """`TooLarge` for too many documents, a document too long, or too many inline actors."""
    if len(documents) > settings.max_documents:
        raise TooLarge("documents", settings.max_documents, "max_documents", len(documents), "documents")
    for i, doc in enumerate(documents):
        if len(doc.text) > settings.max_document_chars:
            field = "text" if body.text is not None else f"documents[{i}].text"
            raise TooLarge(
                "document text (characters)", settings.max_document_chars, "max_document_chars", len(doc.text), field
            )
    if body.actors is not None and len(body.actors) > settings.max_inline_actors:
        raise TooLarge("inline actors", settings.max_inline_actors, "max_inline_actors", len(body.actors), "actors")


def check_classify_limits(body: ClassifyRequest, settings: Settings) -> None:
    """`TooLarge` for too many items or a text too long."""
    if len(body.items) > settings.max_classify_items:
        raise TooLarge("items", settings.max_classify_items, "max_classify_items", len(body.items), "items")
    for i, item in enumerate(body.items):
        if len(item.text) > settings.max_document_chars:
            raise TooLarge(
                "text (characters)", settings.max_document_chars, "max_document_chars", len(item.text),
                f"items[{i}].text",
            )  # fmt: skip
