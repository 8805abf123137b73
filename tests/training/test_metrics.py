from __future__ import annotations

import pytest

from training.metrics import classification_report

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
