from __future__ import annotations

import pandas as pd
import pytest

from model import analyze_frame
from model.actors import ActorRegistry
from model.predictor import StancePredictor
from model.types import Pair, Span


@pytest.fixture(scope="module")
def predictor(tiny_model):
    return StancePredictor.from_dir(tiny_model, device="cpu")


FRAME = pd.DataFrame(
    {
        "sentence": [
            "He added that Damascus has every right to expel terrorists.",
            "Ankara said talks would continue next week.",
            "Moscow and Kyiv traded blame.",
            "The weather was fine.",
        ],
        "actor": ["Syria", "Turkey", "Kyiv", "United States"],
        "keep": [1, 2, 3, 4],
    },
    index=["a", "b", "c", "d"],
)


def test_the_frame_comes_back_with_labels_probabilities_and_mentions(predictor):
    scored = analyze_frame(FRAME, text="sentence", target="actor", model=predictor, progress=False)
    assert list(scored.index) == list(FRAME.index) and list(scored["keep"]) == [1, 2, 3, 4]
    assert "stance" not in FRAME.columns  # the frame given is not changed
    for task, labels in (
        ("stance", ("against", "neutral", "favor")),
        ("sentiment", ("negative", "neutral", "positive")),
    ):
        assert set(scored[task]) <= set(labels)
        total = sum(scored[f"{task}_p_{label}"] for label in labels)
        assert all(abs(t - 1) < 1e-4 for t in total)
    # Aliases of a registry actor ("Damascus" for Syria, "Ankara" for Turkey); any other target by its own name.
    assert scored["mention_spans"].tolist() == [[[14, 22]], [[0, 6]], [[11, 15]], []]
    assert scored["mentioned"].tolist() == [True, True, True, False]


def test_the_registrys_mentions_are_what_the_model_reads(predictor):
    scored = analyze_frame(FRAME, text="sentence", target="actor", model=predictor, progress=False)
    text = FRAME.loc["a", "sentence"]
    (direct,) = predictor.predict([Pair(text, "Syria", (Span(14, 22),))])
    assert scored.loc["a", "stance_p_favor"] == pytest.approx(direct.tasks["stance"].probabilities["favor"], abs=1e-5)
    assert predictor.predict_texts([text], ["Syria"])[0].tasks["stance"].label == direct.tasks["stance"].label


def test_without_a_target_only_sentence_tasks_are_scored(predictor):
    scored = analyze_frame(FRAME, text="sentence", target=None, model=predictor, progress=False)
    assert "sentiment" in scored.columns and "stance" not in scored.columns and "mentioned" not in scored.columns


@pytest.mark.parametrize(
    "frame,message",
    [
        (FRAME.drop(columns="actor"), "target column 'actor' is not in the frame"),
        (FRAME.assign(sentence=["ok", None, "ok", "ok"]), "text column 'sentence', row 'b': missing"),
        (FRAME.assign(sentence=["ok", "ok", 7, "ok"]), "text column 'sentence', row 'c': not text (7)"),
        (FRAME.assign(actor=["Syria", "Turkey", "  ", "x"]), "target column 'actor', row 'c': empty"),
    ],
)
def test_bad_frames_are_refused_naming_column_and_row(predictor, frame, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        analyze_frame(frame, text="sentence", target="actor", model=predictor, progress=False)


def test_predict_texts_needs_one_target_per_text(predictor):
    with pytest.raises(ValueError, match="2 texts but 1 targets"):
        predictor.predict_texts(["a b", "c d"], ["Syria"])


def test_a_custom_registry_finds_its_own_aliases(predictor):
    registry = ActorRegistry.from_records([{"name": "Russia", "aliases": ["Moscow", "the Kremlin"]}])
    scored = analyze_frame(
        FRAME.assign(actor="Russia"), text="sentence", target="actor", model=predictor, actors=registry, progress=False
    )
    assert scored["mentioned"].tolist() == [False, False, True, False]
