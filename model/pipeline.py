"""The one analyze path: documents -> `PairExtractor` (sentences, mentions, pairs) -> a predict step (the model)
-> `regroup` (per-sentence and per-document results). `stance analyze`, `/v1/analyze`, `stance suggest` and the
benchmarks all go through `DocumentAnalyzer`; the API passes its micro-batcher in as the predict step.

A predict step takes the pairs and the sentence texts and returns their predictions in that order:
``(stance per pair, sentiment per sentence)``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from model.actors import ActorRegistry
from model.extraction import Document, Extraction, PairExtractor
from model.predictor import StancePredictor
from model.regroup import DocumentResult, regroup
from model.types import Pair, Prediction

Predictions = tuple[list[Prediction], list[Prediction]]
PredictStep = Callable[[Sequence[Pair], Sequence[str]], Predictions]
AsyncPredictStep = Callable[[Sequence[Pair], Sequence[str]], Awaitable[Predictions]]


class PredictorStep:
    """The predict step of a `StancePredictor` in this process: pair tasks on the pairs, sentence tasks on the
    sentence texts, each in length-sorted batches under the predictor's token budget (``batch_size``: at most this
    many inputs a batch)."""

    def __init__(self, predictor: StancePredictor, batch_size: int | None = None) -> None:
        self.predictor = predictor
        self.batch_size = batch_size

    def __call__(self, pairs: Sequence[Pair], texts: Sequence[str]) -> Predictions:
        stance = self.predictor.predict(pairs, batch_size=self.batch_size, kinds=("pair",)) if pairs else []
        sentiment = self.predictor.predict_sentences(texts, batch_size=self.batch_size) if texts else []
        return stance, sentiment


class DocumentAnalyzer:
    """An extractor and a predict step, composed: extract -> predict -> regroup.

    >>> analyzer = DocumentAnalyzer.from_predictor(StancePredictor.from_dir("models/default"), ActorRegistry.default())
    >>> result = analyzer.analyze([Document("lavrov", text)])[0]
    """

    def __init__(self, extractor: PairExtractor, predict: PredictStep, labels: dict[str, tuple[str, ...]]) -> None:
        self.extractor = extractor
        self.predict = predict
        self.labels = labels  # task name -> labels, for regrouping and output columns

    @classmethod
    def from_predictor(
        cls, predictor: StancePredictor, registry: ActorRegistry, batch_size: int | None = None
    ) -> DocumentAnalyzer:
        labels = {t.name: tuple(t.labels) for t in predictor.tasks}
        extractor = PairExtractor(registry, find_mentions="stance" in labels)
        return cls(extractor, PredictorStep(predictor, batch_size), labels)

    @property
    def registry(self) -> ActorRegistry:
        return self.extractor.registry

    def analyze(
        self,
        documents: Sequence[Document],
        score_all_actors: bool | Sequence[str] = False,
        registry: ActorRegistry | None = None,
    ) -> list[DocumentResult]:
        """Analyze documents with one batched prediction over all their (sentence, actor) pairs.

        ``score_all_actors``: True scores every registry actor in every sentence, a list scores those actors;
        unmentioned actors come back with ``mentioned=False`` and no spans. ``registry`` replaces the analyzer's
        actors for this call.
        """
        extraction = self.extractor.extract(documents, score_all_actors, registry)
        stance, sentiment = self.predict(extraction.pairs, extraction.sentence_texts)
        return self.regroup(extraction, stance, sentiment)

    async def analyze_async(
        self,
        documents: Sequence[Document],
        predict: AsyncPredictStep,
        score_all_actors: bool | Sequence[str] = False,
        registry: ActorRegistry | None = None,
    ) -> list[DocumentResult]:
        """`analyze` for an event loop: extraction and regrouping run in worker threads, so that a large document
        does not hold up the loop, and ``predict`` is awaited (a server batching requests together)."""
        extraction = await asyncio.to_thread(self.extractor.extract, documents, score_all_actors, registry)
        stance, sentiment = await predict(extraction.pairs, extraction.sentence_texts)
        return await asyncio.to_thread(self.regroup, extraction, stance, sentiment)

    def regroup(
        self, extraction: Extraction, stance: Sequence[Prediction], sentiment: Sequence[Prediction]
    ) -> list[DocumentResult]:
        return regroup(extraction, stance, sentiment, self.labels.get("stance", ()))
