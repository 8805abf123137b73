"""Extraction, the stage before the model: documents -> sentences -> actor mentions -> (sentence, actor) pairs.

It needs no model: `stance suggest` draws candidates from it alone, and `DocumentAnalyzer` (model/pipeline.py)
feeds its pairs to a predict step and regroups the predictions by where `Extraction` says each one belongs.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from model.actors import ActorRegistry
from model.sentences import Sentence, split_sentences
from model.types import Pair


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


@dataclass
class Extraction:
    """Documents flattened: the sentence texts and (sentence, actor) pairs to predict, in order, and where each
    pair belongs (``pair_owner``: document number, sentence index). Boilerplate sentences are kept in ``sentences``
    but get no sentence text or pair."""

    documents: list[Document]
    sentences: list[list[Sentence]]
    sentence_texts: list[str] = field(default_factory=list)
    pairs: list[Pair] = field(default_factory=list)
    pair_owner: list[tuple[int, int]] = field(default_factory=list)

    def owned_pairs(self) -> Iterator[tuple[Document, Sentence, Pair]]:
        """Each pair with its document and sentence (pair spans are offsets in the sentence)."""
        for (d, index), pair in zip(self.pair_owner, self.pairs, strict=True):
            yield self.documents[d], self.sentences[d][index], pair


def check_actor_names(registry: ActorRegistry, score_all_actors: bool | Sequence[str]) -> list[str]:
    """The actors to score in every sentence: all of the registry's for True, none for False, else the names
    given, each of which must be one of the registry's (`AnalysisInputError` on field ``score_all_actors``)."""
    if score_all_actors is True:
        return list(registry.names)
    names = list(score_all_actors or [])
    unknown = [a for a in names if registry.get(a) is None]
    if unknown:
        raise AnalysisInputError(
            f"score_all_actors: unknown actor(s) {unknown}; known: {registry.names}", field="score_all_actors"
        )
    return names


class PairExtractor:
    """Splits documents into sentences and pairs each sentence with the actors it mentions (and those asked for
    in every sentence). ``find_mentions=False`` (a model with no stance task) gives sentences only."""

    def __init__(self, registry: ActorRegistry, find_mentions: bool = True) -> None:
        self.registry = registry
        self.find_mentions = find_mentions

    def extract(
        self,
        documents: Sequence[Document],
        score_all_actors: bool | Sequence[str] = False,
        registry: ActorRegistry | None = None,
    ) -> Extraction:
        """``registry`` replaces the extractor's own for this call (actors sent with one API request)."""
        registry = registry or self.registry
        always = check_actor_names(registry, score_all_actors)
        out = Extraction(documents=list(documents), sentences=[split_sentences(d.text) for d in documents])
        for d, sentences in enumerate(out.sentences):
            for s in sentences:
                if s.boilerplate:
                    continue
                out.sentence_texts.append(s.text)
                found = registry.find_mentions(s.text) if self.find_mentions else {}
                for actor in list(found) + [a for a in always if a not in found]:
                    out.pairs.append(Pair(s.text, actor, tuple(found.get(actor, ()))))
                    out.pair_owner.append((d, s.index))
        return out
