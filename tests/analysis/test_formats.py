import datetime
import decimal
import json

import numpy as np
import pandas as pd

from analysis.formats import document_to_dict
from model.regroup import ActorStance, DocumentResult, SentenceResult
from model.types import Span, TaskPrediction


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
