"""Choosing on dev (`training.selection`): the selection score of dev metrics, and the one keep-the-best rule."""

from __future__ import annotations

import pytest

from training.selection import dev_select, keep_best_on_dev


def test_dev_select_is_a_task_score_or_the_mean_over_tasks():
    metrics = {"stance": {"macro_f1": 0.7}, "sentiment": {"macro_f1": 0.5}}
    assert dev_select(metrics, "stance") == 0.7
    assert abs(dev_select(metrics, "mean") - 0.6) < 1e-9
    assert dev_select({}, "stance") == 0.0


def test_keep_best_on_dev_scores_each_candidate_once_in_order_and_keeps_the_best():
    scored = []

    def score(weights: str) -> float:
        scored.append(weights)
        return {"w0": 0.5, "w1": 0.75, "w2": 0.25}[weights]

    choice = keep_best_on_dev({"best checkpoint": "w0", "ema-0.9": "w1", "swa-3": "w2"}, score)
    assert scored == ["w0", "w1", "w2"]
    assert (choice.name, choice.kept) == ("ema-0.9", "w1")
    assert choice.scores == {"best checkpoint": 0.5, "ema-0.9": 0.75, "swa-3": 0.25}


def test_keep_best_on_dev_gives_a_tie_to_the_earlier_candidate():
    assert keep_best_on_dev({"best checkpoint": 0.5, "ema-0.9": 0.5}, float).name == "best checkpoint"
    assert keep_best_on_dev({"3+5": 0.5, "3": 0.5}, float).name == "3+5"


def test_keep_best_on_dev_needs_a_candidate():
    with pytest.raises(ValueError, match="no candidates"):
        keep_best_on_dev({}, float)
