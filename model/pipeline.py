"""The document pipeline: documents -> sentences -> actor mentions -> (sentence, actor) pairs -> one batched
prediction -> results regrouped per sentence and document, with a per-actor summary.

Net stance of an actor in a document is the mean, over the sentences scored for it, of P(favor) - P(against):
-1 when every sentence is surely against it, +1 when every sentence is surely for it, 0 for balance or neutrality.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from model.actors import ActorRegistry
from model.predictor import StancePredictor
from model.sentences import split_sentences
from model.types import Pair, Span, TaskPrediction


@dataclass(frozen=True)
class Document:
    """A document to analyze; ``meta`` holds carried-through fields (source, date, ...)."""

    id: str
    text: str
    meta: dict[str, Any] = field(default_factory=dict)


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


class DocumentAnalyzer:
    """Composes the stages: segmentation, actor matching, the predictor, and regrouping.

    >>> analyzer = DocumentAnalyzer(StancePredictor.from_dir("models/default"), ActorRegistry.default())
    >>> result = analyzer.analyze([Document("lavrov", text)])[0]
    """

    def __init__(self, predictor: StancePredictor, registry: ActorRegistry, batch_size: int = 32) -> None:
        self.predictor = predictor
        self.registry = registry
        self.batch_size = batch_size
        self.has_stance = any(t.name == "stance" for t in predictor.tasks)
        self.stance_labels = next((t.labels for t in predictor.tasks if t.name == "stance"), ())

    def analyze(
        self,
        documents: Sequence[Document],
        score_all_actors: bool | Sequence[str] = False,
        registry: ActorRegistry | None = None,
    ) -> list[DocumentResult]:
        """Analyze documents with one batched prediction over all their (sentence, actor) pairs.

        ``score_all_actors``: True scores every registry actor in every sentence, a list scores those actors;
        unmentioned actors come back with ``mentioned=False`` and no spans.
        """
        registry = registry or self.registry
        always: list[str] = list(registry.names) if score_all_actors is True else list(score_all_actors or [])
        unknown = [a for a in always if registry.get(a) is None]
        if unknown:
            raise ValueError(f"score_all_actors: unknown actor(s) {unknown}; known: {registry.names}")

        # Flatten: every scored sentence, and every (sentence, actor) pair, with where it belongs.
        sentences_by_doc = [split_sentences(doc.text) for doc in documents]
        sentence_texts: list[str] = []
        pairs: list[Pair] = []
        pair_owner: list[tuple[int, int, str, tuple[Span, ...]]] = []
        for d, sentences in enumerate(sentences_by_doc):
            for s in sentences:
                if s.boilerplate:
                    continue
                sentence_texts.append(s.text)
                found = registry.find_mentions(s.text) if self.has_stance else {}
                actors = list(found) + [a for a in always if a not in found]
                for actor in actors:
                    spans = tuple(found.get(actor, ()))
                    pairs.append(Pair(s.text, actor, spans))
                    pair_owner.append((d, s.index, actor, spans))

        sentiment = iter(self.predictor.predict_sentences(sentence_texts, batch_size=self.batch_size))
        stance = self.predictor.predict(pairs, batch_size=self.batch_size, kinds=("pair",)) if pairs else []

        # Regroup in the flattened order.
        by_sentence: dict[tuple[int, int], list[tuple[ActorStance, bool]]] = {}
        for (d, index, actor, spans), prediction in zip(pair_owner, stance, strict=True):
            offset = sentences_by_doc[d][index].start
            entry = ActorStance(
                actor=actor,
                mentions=tuple(Span(offset + sp.start, offset + sp.end) for sp in spans),
                stance=prediction.tasks.get("stance"),
                mentioned=bool(spans),
            )
            by_sentence.setdefault((d, index), []).append((entry, prediction.truncated))

        results = []
        for d, (doc, sentences) in enumerate(zip(documents, sentences_by_doc, strict=True)):
            rows = []
            for s in sentences:
                if s.boilerplate:
                    rows.append(SentenceResult(s.index, s.start, s.end, s.text, None, (), False, True))
                    continue
                sent = next(sentiment)
                entries = by_sentence.get((d, s.index), [])
                truncated = sent.truncated or any(cut for _, cut in entries)
                rows.append(
                    SentenceResult(
                        s.index,
                        s.start,
                        s.end,
                        s.text,
                        sent.tasks.get("sentiment"),
                        tuple(e for e, _ in entries),
                        truncated,
                        False,
                    )
                )
            results.append(DocumentResult(doc.id, dict(doc.meta), tuple(rows), self._summaries(rows)))
        return results

    def _summaries(self, rows: Sequence[SentenceResult]) -> dict[str, ActorSummary]:
        stances: dict[str, list[TaskPrediction]] = {}
        for row in rows:
            for entry in row.actors:
                if entry.stance is not None:
                    stances.setdefault(entry.actor, []).append(entry.stance)
        return {actor: summarize_actor(actor, preds, self.stance_labels) for actor, preds in stances.items()}


def document_to_dict(result: DocumentResult) -> dict[str, Any]:
    """The JSON shape of one analyzed document (analyze output, one line per document)."""

    def prediction(p: TaskPrediction | None) -> dict[str, Any] | None:
        return None if p is None else {"label": p.label, "probabilities": p.probabilities}

    return {
        "id": result.id,
        **result.meta,
        "sentences": [
            {
                "index": s.index,
                "start": s.start,
                "end": s.end,
                "text": s.text,
                "sentiment": prediction(s.sentiment),
                "truncated": s.truncated,
                "boilerplate": s.boilerplate,
                "actors": [
                    {
                        "actor": a.actor,
                        "mentioned": a.mentioned,
                        "mentions": [
                            {"start": m.start, "end": m.end, "text": s.text[m.start - s.start : m.end - s.start]}
                            for m in a.mentions
                        ],
                        "stance": prediction(a.stance),
                    }
                    for a in s.actors
                ],
            }
            for s in result.sentences
        ],
        "actors": {
            name: {
                "sentences": a.sentences,
                "counts": a.counts,
                "mean_probabilities": a.mean_probabilities,
                "net_stance": a.net_stance,
            }
            for name, a in result.actors.items()
        },
    }
