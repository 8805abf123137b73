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


def test_macro_f1_leaves_out_labels_absent_from_gold_and_predictions():
    labels = ["negative", "neutral", "positive"]
    # 'positive' is neither gold nor predicted: averaged over negative and neutral only.
    report = classification_report([0, 0, 1, 1], [0, 0, 1, 0], labels)
    f1 = {"negative": 0.8, "neutral": 2 / 3}
    assert report["macro_f1"] == pytest.approx(sum(f1.values()) / 2)
    assert report["macro_f1_labels"] == ["negative", "neutral"]
    assert report["per_class"]["positive"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert macro_f1([0, 0, 1, 1], [0, 0, 1, 0], 3) == pytest.approx(report["macro_f1"])
    # A single correct item: 1.0, not 1/3.
    assert classification_report([1], [1], labels)["macro_f1"] == 1.0
    # A label predicted but never gold keeps F1 0 and counts.
    assert classification_report([0, 0], [0, 2], labels)["macro_f1"] == pytest.approx((2 / 3 + 0) / 2)
    assert classification_report([], [], labels)["macro_f1"] == 0.0


def test_bootstrap_macro_f1_uses_the_same_definition():
    import numpy as np

    from training.metrics import bootstrap_f1

    gold, pred = [0, 0, 1, 1], [0, 0, 1, 0]
    identity = np.arange(len(gold))[None, :]
    assert bootstrap_f1(gold, pred, 3, identity)[0] == pytest.approx(macro_f1(gold, pred, 3))


def test_training_selects_checkpoints_with_the_same_macro_f1():
    import inspect

    from training import trainer

    assert trainer.macro_f1 is macro_f1
    assert "macro_f1(" in inspect.getsource(trainer._compute_metrics_fn)
