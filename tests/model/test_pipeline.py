from __future__ import annotations

import asyncio

import pytest

from analysis.formats import document_to_dict
from model.actors import ActorRegistry
from model.extraction import Document
from model.pipeline import DocumentAnalyzer
from model.predictor import StancePredictor
from tests.conftest import REPO


@pytest.fixture(scope="module")
def analyzer(tiny_model):
    return DocumentAnalyzer.from_predictor(StancePredictor.from_dir(tiny_model, device="cpu"), ActorRegistry.default())


def test_example_article(analyzer):
    text = (REPO / "data/examples/lavrov_idlib.txt").read_text()
    (result,) = analyzer.analyze([Document("lavrov", text, {"source": "example"})])
    assert result.meta == {"source": "example"}
    assert set(result.actors) == {"Syria", "Turkey", "United States", "al-Nusra Front"}
    mentions = {text[m.start : m.end] for s in result.sentences for a in s.actors for m in a.mentions}
    assert {"Damascus", "the Syrian Arab Republic", "the American side", "al-Nusra Front"} <= mentions
    for s in result.sentences:
        assert text[s.start : s.end] == s.text
        assert (s.sentiment is None) == s.boilerplate
        for a in s.actors:
            assert a.stance is not None and a.mentioned
    syria = result.actors["Syria"]
    assert (
        syria.sentences
        == sum(syria.counts.values())
        == sum(1 for s in result.sentences for a in s.actors if a.actor == "Syria")
    )
    assert -1 <= syria.net_stance <= 1
    as_dict = document_to_dict(result)
    assert as_dict["id"] == "lavrov" and as_dict["source"] == "example"


def test_documents_come_back_in_order_and_match_one_by_one(analyzer):
    docs = [Document("a", "Turkey shelled the town. Nothing else."), Document("b", "Washington met Ankara.")]
    together = analyzer.analyze(docs)
    alone = [analyzer.analyze([d])[0] for d in docs]
    assert [r.id for r in together] == ["a", "b"]
    for x, y in zip(together, alone, strict=True):
        assert [a.actor for s in x.sentences for a in s.actors] == [a.actor for s in y.sentences for a in s.actors]
        for sx, sy in zip(x.sentences, y.sentences, strict=True):
            assert sx.sentiment.probabilities == pytest.approx(sy.sentiment.probabilities, abs=1e-4)


def test_score_all_actors_and_custom_registry(analyzer):
    doc = Document("d", "Washington met the envoy.")
    (result,) = analyzer.analyze([doc], score_all_actors=["Syria"])
    actors = {a.actor: a for a in result.sentences[0].actors}
    assert actors["Syria"].mentioned is False and actors["Syria"].mentions == ()
    assert actors["United States"].mentioned
    custom = ActorRegistry.from_records([{"name": "Envoy", "aliases": ["the envoy"]}])
    (result,) = analyzer.analyze([doc], registry=custom)
    assert [a.actor for a in result.sentences[0].actors] == ["Envoy"]
    with pytest.raises(ValueError, match="unknown actor"):
        analyzer.analyze([doc], score_all_actors=["Mars"])


def test_an_async_predict_step_gives_the_same_results(analyzer):
    """The API passes its micro-batcher in as the predict step; the path around it is the same."""
    docs = [Document("a", "Turkey shelled the town. Nothing else."), Document("b", "Washington met Ankara.")]
    calls = []

    async def predict(pairs, texts):
        calls.append((len(pairs), len(texts)))
        return analyzer.predict(pairs, texts)

    assert asyncio.run(analyzer.analyze_async(docs, predict)) == analyzer.analyze(docs)
    assert calls == [(3, 3)]
