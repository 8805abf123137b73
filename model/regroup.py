"""Regrouping, the stage after the model: pair and sentence predictions (in extraction order) -> per-sentence and
per-document results with a per-actor summary.

Net stance of an actor in a document is the mean, over the sentences scored for it, of P(favor) - P(against):
-1 when every sentence is surely against it, +1 when every sentence is surely for it, 0 for balance or neutrality.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from model.extraction import Extraction
from model.types import Prediction, Span, TaskPrediction


@dataclass(frozen=True)
class ActorStance:
    """Stance of one sentence toward one actor; ``mentions`` are document offsets (empty when not mentioned)."""

    actor: str
    mentions: tuple[Span, ...]
    stance: TaskPrediction | None
    mentioned: bool = True


@dataclass(frozen=True)
class SentenceResult:
    index: int
    start: int
    end: int
    text: str
    sentiment: TaskPrediction | None
    actors: tuple[ActorStance, ...]
    truncated: bool = False
    boilerplate: bool = False


@dataclass(frozen=True)
class ActorSummary:
    """One actor across a document: how often it is mentioned and how it is portrayed."""

    actor: str
    sentences: int
    counts: dict[str, int]
    mean_probabilities: dict[str, float]
    net_stance: float | None


@dataclass(frozen=True)
class DocumentResult:
    id: str
    meta: dict[str, Any]
    sentences: tuple[SentenceResult, ...]
    actors: dict[str, ActorSummary]


def net_stance(probabilities: Iterable[dict[str, float]]) -> float | None:
    """Mean of P(favor) - P(against) over sentences; None for label sets without both labels or no sentences."""
    values = [p["favor"] - p["against"] for p in probabilities if "favor" in p and "against" in p]
    return sum(values) / len(values) if values else None


def summarize_actor(actor: str, stances: Sequence[TaskPrediction], labels: Sequence[str]) -> ActorSummary:
    counts = {label: 0 for label in labels}
    for s in stances:
        counts[s.label] += 1
    n = len(stances)
    mean = {label: (sum(s.probabilities[label] for s in stances) / n if n else 0.0) for label in labels}
    return ActorSummary(actor, n, counts, mean, net_stance([s.probabilities for s in stances]))


def regroup(
    extraction: Extraction,
    stance: Sequence[Prediction],
    sentiment: Sequence[Prediction],
    stance_labels: Sequence[str],
) -> list[DocumentResult]:
    """One `DocumentResult` per extracted document: ``stance`` holds one prediction per pair and ``sentiment`` one
    per sentence text, both in extraction order."""
    by_sentence: dict[tuple[int, int], list[tuple[ActorStance, bool]]] = {}
    for (d, index), pair, prediction in zip(extraction.pair_owner, extraction.pairs, stance, strict=True):
        offset = extraction.sentences[d][index].start
        entry = ActorStance(
            actor=pair.target or "",
            mentions=tuple(Span(offset + sp.start, offset + sp.end) for sp in pair.spans),
            stance=prediction.tasks.get("stance"),
            mentioned=bool(pair.spans),
        )
        by_sentence.setdefault((d, index), []).append((entry, prediction.truncated))
    if len(sentiment) != len(extraction.sentence_texts):
        raise ValueError(f"{len(sentiment)} sentence predictions for {len(extraction.sentence_texts)} sentences")
    sentence_predictions = iter(sentiment)
    results = []
    for d, (doc, sentences) in enumerate(zip(extraction.documents, extraction.sentences, strict=True)):
        rows = []
        for s in sentences:
            if s.boilerplate:
                rows.append(SentenceResult(s.index, s.start, s.end, s.text, None, (), False, True))
                continue
            sent = next(sentence_predictions)
            entries = by_sentence.get((d, s.index), [])
            truncated = sent.truncated or any(cut for _, cut in entries)
            actors = tuple(e for e, _ in entries)
            rows.append(SentenceResult(s.index, s.start, s.end, s.text, sent.tasks.get("sentiment"), actors, truncated))
        results.append(DocumentResult(doc.id, dict(doc.meta), tuple(rows), _summaries(rows, stance_labels)))
    return results


def _summaries(rows: Sequence[SentenceResult], labels: Sequence[str]) -> dict[str, ActorSummary]:
    stances: dict[str, list[TaskPrediction]] = {}
    for row in rows:
        for entry in row.actors:
            if entry.stance is not None:
                stances.setdefault(entry.actor, []).append(entry.stance)
    return {actor: summarize_actor(actor, preds, labels) for actor, preds in stances.items()}
