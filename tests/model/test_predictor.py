from __future__ import annotations

import pytest

from model.predictor import StancePredictor
from model.types import Pair, Span


@pytest.fixture(scope="module")
def predictor(tiny_model):
    return StancePredictor.from_dir(tiny_model, device="cpu")


PAIRS = [
    Pair("Damascus has every right to expel terrorists from its territory.", "Syria", (Span(0, 8),)),
    Pair("Ankara spoke.", "Turkey", (Span(0, 6),)),
    Pair("Damascus has every right to expel terrorists from its territory.", "al-Nusra Front", ()),
    Pair("A much longer sentence about Washington and what the people there said about the talks.", "United States"),
]


def test_every_pair_gets_every_task_with_probabilities(predictor):
    predictions = predictor.predict(PAIRS)
    assert len(predictions) == len(PAIRS)
    for prediction in predictions:
        assert set(prediction.tasks) == {"stance", "sentiment"}
        for task in prediction.tasks.values():
            assert sum(task.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
            assert task.label == max(task.probabilities, key=task.probabilities.get)


def test_order_and_values_do_not_depend_on_batching(predictor):
    one_by_one = [predictor.predict([p])[0] for p in PAIRS]
    batched = predictor.predict(PAIRS, batch_size=3)
    for a, b in zip(one_by_one, batched, strict=True):
        for task in a.tasks:
            for label, value in a.tasks[task].probabilities.items():
                assert b.tasks[task].probabilities[label] == pytest.approx(value, abs=1e-4)


def test_a_token_budget_changes_the_batches_not_the_values(tiny_model, predictor):
    tight = StancePredictor.from_dir(tiny_model, device="cpu", max_tokens=30)  # one or two inputs a forward pass
    for a, b in zip(predictor.predict(PAIRS), tight.predict(PAIRS), strict=True):
        for task in a.tasks:
            for label, value in a.tasks[task].probabilities.items():
                assert b.tasks[task].probabilities[label] == pytest.approx(value, abs=1e-4)


def test_the_token_budget_defaults_by_device(predictor):
    assert predictor.max_tokens == 2048


def test_sentiment_is_the_sentences_whatever_the_target(predictor):
    first, _, third, _ = predictor.predict(PAIRS)
    assert first.tasks["sentiment"] == third.tasks["sentiment"]


def test_empty_input(predictor):
    assert predictor.predict([]) == []


@pytest.mark.parametrize(
    ("pair", "error", "message"),
    [
        (Pair("Ankara spoke.", "Turkey", (Span(0, 40),)), ValueError, "pair 1: span 0-40 is outside the text"),
        (Pair("Ankara spoke.", "Turkey", (Span(6, 0),)), ValueError, "pair 1: span 6-0 is empty or inverted"),
        (Pair(123, "Turkey"), TypeError, "pair 1: text must be a string, not int"),  # type: ignore[arg-type]
        (Pair("Ankara spoke.", "Turkey", ((0, 6),)), TypeError, "pair 1: spans must be Span"),  # type: ignore[arg-type]
    ],
)
def test_bad_pairs_are_refused_with_their_index(predictor, pair, error, message):
    with pytest.raises(error, match=message):
        predictor.predict([PAIRS[0], pair])


def test_a_sentence_given_twice_is_computed_once(tiny_model, monkeypatch):
    predictor = StancePredictor.from_dir(tiny_model, device="cpu")
    seen: list[int] = []
    real = predictor._run

    def counting(encoded, kind, batch_size, raw=False):
        seen.append(len(encoded))
        return real(encoded, kind, batch_size, raw)

    monkeypatch.setattr(predictor, "_run", counting)
    texts = ["Ankara spoke.", "Damascus has every right.", "Ankara spoke."]
    out = predictor.predict_sentences(texts)
    assert seen == [2] and len(out) == 3 and out[0] == out[2] and out[0] != out[1]
