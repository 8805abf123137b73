import pytest

from model.actors import ActorRegistry
from model.extraction import AnalysisInputError, Document, PairExtractor, check_actor_names
from model.types import Span


def test_pairs_need_no_model_and_know_where_they_belong():
    text = "Turkey shelled the town. Nothing else. Washington met Ankara."
    extraction = PairExtractor(ActorRegistry.default()).extract([Document("a", text)])
    assert extraction.sentence_texts == ["Turkey shelled the town.", "Nothing else.", "Washington met Ankara."]
    owned = [(doc.id, sentence.index, pair.target, pair.spans) for doc, sentence, pair in extraction.owned_pairs()]
    assert owned == [
        ("a", 0, "Turkey", (Span(0, 6),)),
        ("a", 2, "Turkey", (Span(15, 21),)),
        ("a", 2, "United States", (Span(0, 10),)),
    ]


def test_actors_scored_everywhere_and_sentences_only():
    doc = Document("d", "Washington met the envoy.")
    extraction = PairExtractor(ActorRegistry.default()).extract([doc], score_all_actors=["Syria"])
    assert [(p.target, p.spans) for p in extraction.pairs] == [("United States", (Span(0, 10),)), ("Syria", ())]
    sentences_only = PairExtractor(ActorRegistry.default(), find_mentions=False).extract([doc])
    assert sentences_only.pairs == [] and sentences_only.sentence_texts == ["Washington met the envoy."]


def test_actor_names_are_checked_without_running_anything():
    registry = ActorRegistry.default()
    assert check_actor_names(registry, True) == list(registry.names)
    assert check_actor_names(registry, False) == [] and check_actor_names(registry, ["Turkey"]) == ["Turkey"]
    with pytest.raises(AnalysisInputError, match=r"unknown actor\(s\) \['Mars'\]") as caught:
        check_actor_names(registry, ["Turkey", "Mars"])
    assert caught.value.field == "score_all_actors"
