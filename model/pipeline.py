"""The document pipeline: documents -> sentences -> actor mentions -> (sentence, actor) pairs -> one batched
prediction -> results regrouped per sentence and document, with a per-actor summary.

Net stance of an actor in a document is the mean, over the sentences scored for it, of P(favor) - P(against):
-1 when every sentence is surely against it, +1 when every sentence is surely for it, 0 for balance or neutrality.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from model.actors import ActorRegistry
from model.predictor import StancePredictor
from model.sentences import Sentence, split_sentences
from model.types import Pair, Prediction, Span, TaskPrediction


class AnalysisInputError(ValueError):
    """A request to analyze that cannot be carried out as asked; `field` names the offending option."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


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


@dataclass
class AnalysisPlan:
    """What `DocumentAnalyzer.plan` flattened: sentence texts and pairs to predict, and where each belongs."""

    documents: list[Document]
    sentences: list[list[Sentence]]
    sentence_texts: list[str] = field(default_factory=list)
    pairs: list[Pair] = field(default_factory=list)
    pair_owner: list[tuple[int, int]] = field(default_factory=list)


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
        plan = self.plan(documents, score_all_actors, registry)
        sentiment = self.predictor.predict_sentences(plan.sentence_texts, batch_size=self.batch_size)
        stance = self.predictor.predict(plan.pairs, batch_size=self.batch_size, kinds=("pair",))
        return self.assemble(plan, sentiment, stance)

    def plan(
        self,
        documents: Sequence[Document],
        score_all_actors: bool | Sequence[str] = False,
        registry: ActorRegistry | None = None,
    ) -> AnalysisPlan:
        """Flatten documents into the sentences and (sentence, actor) pairs to predict, remembering where each
        belongs. Splitting `analyze` into plan / predict / assemble lets a server batch predictions across requests.
        """
        registry = registry or self.registry
        always: list[str] = list(registry.names) if score_all_actors is True else list(score_all_actors or [])
        unknown = [a for a in always if registry.get(a) is None]
        if unknown:
            raise AnalysisInputError(
                f"score_all_actors: unknown actor(s) {unknown}; known: {registry.names}", field="score_all_actors"
            )
        plan = AnalysisPlan(documents=list(documents), sentences=[split_sentences(d.text) for d in documents])
        for d, sentences in enumerate(plan.sentences):
            for s in sentences:
                if s.boilerplate:
                    continue
                plan.sentence_texts.append(s.text)
                found = registry.find_mentions(s.text) if self.has_stance else {}
                for actor in list(found) + [a for a in always if a not in found]:
                    spans = tuple(found.get(actor, ()))
                    plan.pairs.append(Pair(s.text, actor, spans))
                    plan.pair_owner.append((d, s.index))
        return plan

    def assemble(
        self, plan: AnalysisPlan, sentiment: Sequence[Prediction], stance: Sequence[Prediction]
    ) -> list[DocumentResult]:
        """Regroup sentence and pair predictions (in plan order) into per-document results."""
        by_sentence: dict[tuple[int, int], list[tuple[ActorStance, bool]]] = {}
        for (d, index), pair, prediction in zip(plan.pair_owner, plan.pairs, stance, strict=True):
            offset = plan.sentences[d][index].start
            entry = ActorStance(
                actor=pair.target or "",
                mentions=tuple(Span(offset + sp.start, offset + sp.end) for sp in pair.spans),
                stance=prediction.tasks.get("stance"),
                mentioned=bool(pair.spans),
            )
            by_sentence.setdefault((d, index), []).append((entry, prediction.truncated))
        sentence_predictions = iter(sentiment)
        results = []
        for d, (doc, sentences) in enumerate(zip(plan.documents, plan.sentences, strict=True)):
            rows = []
            for s in sentences:
                if s.boilerplate:
                    rows.append(SentenceResult(s.index, s.start, s.end, s.text, None, (), False, True))
                    continue
                sent = next(sentence_predictions)
                entries = by_sentence.get((d, s.index), [])
                truncated = sent.truncated or any(cut for _, cut in entries)
                actors = tuple(e for e, _ in entries)
                rows.append(
                    SentenceResult(s.index, s.start, s.end, s.text, sent.tasks.get("sentiment"), actors, truncated)
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


# The names analyze output uses itself: document keys (JSONL) and flattened columns (CSV/Parquet). A carried input
# field with one of these names, or with a probability-column prefix, is written as input_<name> (see carried_fields).
OUTPUT_FIELDS = frozenset(
    {"id", "sentences", "actors", "sentence_index", "sentence_start", "sentence_end", "sentence", "boilerplate",
     "truncated", "sentiment", "actor", "mentioned", "mentions", "mention_texts", "stance"}
)  # fmt: skip
OUTPUT_PREFIXES = ("sentiment_p_", "stance_p_")


def carried_fields(meta: dict[str, Any]) -> dict[str, Any]:
    """``meta`` with every key the output uses itself renamed to ``input_<key>`` (again until it is free), so that
    neither the document's own fields nor the carried ones are overwritten.

    >>> carried_fields({"id": "orig", "source": "sana"})
    {'input_id': 'orig', 'source': 'sana'}
    """
    taken = set(meta)
    out: dict[str, Any] = {}
    for key, value in meta.items():
        name = str(key)
        if name in OUTPUT_FIELDS or name.startswith(OUTPUT_PREFIXES):
            while name in OUTPUT_FIELDS or name.startswith(OUTPUT_PREFIXES) or name in taken or name in out:
                name = f"input_{name}"
        out[name] = value
    return out


def json_value(value: Any) -> Any:
    """``value`` as plain JSON: dates and times as ISO 8601 strings, NaN / NaT / infinities as None, Decimals and
    NumPy scalars as numbers, bytes as UTF-8 text (base64 when not UTF-8), containers converted item by item.

    >>> json_value({"date": datetime.date(2017, 4, 7), "score": float("nan")})
    {'date': '2017-04-07', 'score': None}
    """
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (datetime.date, datetime.time)):  # datetime is a date; pandas' Timestamp a datetime
        return None if value != value else value.isoformat()  # NaT is the one date unequal to itself
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            return None
        if value == value.to_integral_value():
            return int(value)
        as_float = float(value)
        return as_float if decimal.Decimal(repr(as_float)) == value else str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return base64.b64encode(raw).decode("ascii")
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_value(v) for v in value]
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if callable(getattr(value, "tolist", None)):  # NumPy scalars and arrays
        return json_value(value.tolist())
    try:
        missing = bool(value != value)  # missing markers are unequal to themselves
    except (TypeError, ValueError):  # pandas.NA is neither equal nor unequal to anything
        missing = True
    return None if missing else str(value)


def document_to_dict(result: DocumentResult) -> dict[str, Any]:
    """The JSON shape of one analyzed document (analyze output, one line per document): carried fields follow the
    id (renamed where they collide, see `carried_fields`) and are plain JSON values (see `json_value`)."""

    def prediction(p: TaskPrediction | None) -> dict[str, Any] | None:
        return None if p is None else {"label": p.label, "probabilities": p.probabilities}

    return {
        "id": result.id,
        **json_value(carried_fields(result.meta)),
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
