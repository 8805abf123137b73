from __future__ import annotations

import pytest

from training.metrics import bootstrap_f1_interval, classification_report, macro_f1

LABELS = ["against", "neutral", "favor"]


def test_report_matches_hand_computed_figures():
    gold = [0, 0, 1, 1, 2, 2]
    pred = [0, 1, 1, 1, 2, 0]
    report = classification_report(gold, pred, LABELS)
    # against: P 1/2 R 1/2; neutral: P 2/3 R 1; favor: P 1 R 1/2
    f1 = {"against": 0.5, "neutral": 0.8, "favor": 2 / 3}
    for label, value in f1.items():
        assert report["per_class"][label]["f1"] == pytest.approx(value)
    assert report["macro_f1"] == pytest.approx(sum(f1.values()) / 3)
    assert report["accuracy"] == pytest.approx(4 / 6)
    assert report["f1_against_favor"] == pytest.approx((0.5 + 2 / 3) / 2)
    assert report["confusion_matrix"]["matrix"] == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]


def test_no_against_favor_metric_for_other_label_sets():
    report = classification_report([0, 1], [0, 1], ["negative", "positive"])
    assert "f1_against_favor" not in report and report["macro_f1"] == 1.0


def test_bootstrap_interval_brackets_the_score_and_narrows_with_more_items():
    gold = [0, 1, 2, 0, 1, 2, 0, 1, 2, 0] * 5
    pred = [0, 1, 2, 0, 2, 2, 1, 1, 2, 0] * 5
    score = macro_f1(gold, pred, 3)
    low, high = bootstrap_f1_interval(gold, pred, 3, resamples=300)
    assert low < score < high
    wide = bootstrap_f1_interval(gold[:10], pred[:10], 3, resamples=300)
    assert wide[1] - wide[0] > high - low
    assert bootstrap_f1_interval(gold, pred, 3, resamples=300) == (low, high)  # seeded: reproducible
    polar = bootstrap_f1_interval(gold, pred, 3, classes=[0, 2], resamples=300)
    assert polar != (low, high)
    with pytest.raises(ValueError, match="no items"):
        bootstrap_f1_interval([], [], 3)
