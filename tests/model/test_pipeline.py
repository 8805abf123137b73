from __future__ import annotations

import datetime
import decimal
import json

import numpy as np
import pandas as pd
import pytest

from model.actors import ActorRegistry
from model.pipeline import (
    ActorStance,
    Document,
    DocumentAnalyzer,
    DocumentResult,
    SentenceResult,
    document_to_dict,
    net_stance,
)
from model.predictor import StancePredictor
from model.types import Span, TaskPrediction
from tests.conftest import REPO


@pytest.fixture(scope="module")
def analyzer(tiny_model):
    return DocumentAnalyzer(StancePredictor.from_dir(tiny_model, device="cpu"), ActorRegistry.default())


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


def test_net_stance():
    assert net_stance([{"against": 1.0, "neutral": 0.0, "favor": 0.0}]) == -1
    assert net_stance(
        [{"against": 0.2, "neutral": 0.2, "favor": 0.6}, {"against": 0.6, "neutral": 0.2, "favor": 0.2}]
    ) == pytest.approx(0)
    assert net_stance([{"neg": 1.0}]) is None


def result_with_meta(meta):
    stance = TaskPrediction("neutral", {"against": 0.1, "neutral": 0.8, "favor": 0.1})
    sentence = SentenceResult(0, 0, 6, "Syria.", stance, (ActorStance("Syria", (Span(0, 5),), stance),))
    return DocumentResult("chosen", meta, (sentence,), {})


def test_carried_values_become_plain_json():
    meta = {
        "date": datetime.datetime(2017, 4, 7, 10, 30),
        "day": datetime.date(2017, 4, 7),
        "missing": pd.NaT,
        "score": float("nan"),
        "price": decimal.Decimal("2.50"),
        "raw": b"SANA",
        "count": np.int64(3),
        "tags": np.array(["a", "b"]),
    }
    line = json.dumps(document_to_dict(result_with_meta(meta)), allow_nan=False)
    back = json.loads(line)
    assert back["date"] == "2017-04-07T10:30:00" and back["day"] == "2017-04-07"
    assert back["missing"] is None and back["score"] is None
    assert back["price"] == 2.5 and back["raw"] == "SANA" and back["count"] == 3 and back["tags"] == ["a", "b"]


def test_the_documents_own_fields_win_and_colliding_carried_fields_are_renamed():
    meta = {"id": "orig", "sentences": 5, "actors": ["x"], "input_id": "taken", "source": "sana"}
    out = document_to_dict(result_with_meta(meta))
    assert out["id"] == "chosen" and isinstance(out["sentences"], list) and isinstance(out["actors"], dict)
    assert out["input_sentences"] == 5 and out["input_actors"] == ["x"] and out["source"] == "sana"
    assert out["input_id"] == "taken" and out["input_input_id"] == "orig"
