"""Classification metrics over label ids: macro-F1, accuracy, per-class P/R/F1, confusion matrix.

Macro-F1 is the mean F1 over the labels that occur in the gold labels or the predictions (scikit-learn's
``f1_score(average="macro")`` without a ``labels`` argument): a label neither in the data nor ever predicted is
left out rather than counted as F1 0, while a label predicted but never gold keeps F1 0. Training's dev selection
(`training.trainer`), `stance evaluate` and `stance compare` all use `macro_f1_of` below.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def confusion(gold: Sequence[int] | np.ndarray, pred: Sequence[int] | np.ndarray, n: int) -> np.ndarray:
    """Rows are gold labels, columns predictions."""
    matrix = np.zeros((n, n), dtype=np.int64)
    np.add.at(matrix, (np.asarray(gold, dtype=np.int64), np.asarray(pred, dtype=np.int64)), 1)
    return matrix


def per_class(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Precision, recall, F1 and support per class (0 where undefined)."""
    tp = np.diag(matrix).astype(float)
    predicted = matrix.sum(0).astype(float)
    support = matrix.sum(1).astype(float)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    return precision, recall, f1, support


def macro_f1_of(matrix: np.ndarray) -> float:
    """Mean F1 over the labels present in gold or predictions of a confusion matrix; 0.0 when it is empty."""
    _, _, f1, support = per_class(matrix)
    present = (support > 0) | (matrix.sum(0) > 0)
    return float(f1[present].mean()) if present.any() else 0.0


def classification_report(gold: Sequence[int], pred: Sequence[int], labels: Sequence[str]) -> dict[str, Any]:
    """Macro-F1 (over the labels present in gold or predictions), accuracy, per-class figures for every label (support
    0 for absent ones) and the confusion matrix.

    >>> classification_report([0, 1, 2], [0, 1, 1], ["against", "neutral", "favor"])["accuracy"]
    0.6666666666666666
    """
    matrix = confusion(gold, pred, len(labels))
    precision, recall, f1, support = per_class(matrix)
    total = int(matrix.sum())
    report: dict[str, Any] = {
        "n": total,
        "macro_f1": macro_f1_of(matrix),
        "macro_f1_labels": [label for i, label in enumerate(labels) if support[i] > 0 or matrix[:, i].sum() > 0],
        "accuracy": float(np.trace(matrix) / total) if total else 0.0,
        "per_class": {
            label: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, label in enumerate(labels)
        },
        "confusion_matrix": {"labels": list(labels), "matrix": matrix.tolist()},
    }
    if "against" in labels and "favor" in labels:
        # SemEval-2016 / TweetEval stance metric: mean F1 of the two polar classes (always both, present or not).
        report["f1_against_favor"] = float((f1[labels.index("against")] + f1[labels.index("favor")]) / 2)
    return report


def macro_f1(gold: Sequence[int] | np.ndarray, pred: Sequence[int] | np.ndarray, n: int) -> float:
    """Macro-F1 over the labels present in ``gold`` or ``pred`` (of ``n`` labels); the dev selection metric."""
    return macro_f1_of(confusion(gold, pred, n))


def bootstrap_f1_interval(
    gold: Sequence[int],
    pred: Sequence[int],
    n: int,
    classes: Sequence[int] | None = None,
    resamples: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    """95 % percentile-bootstrap interval of the mean F1 over ``classes`` (None: macro-F1, as `macro_f1`).

    It says how much the score of this model could move on another test set of the same size and kind (resampling
    the items with replacement), not how much it varies between training runs.
    """
    if len(gold) == 0:
        raise ValueError("bootstrap_f1_interval: no items")
    rng = np.random.default_rng(seed)
    samples = np.stack([rng.integers(0, len(gold), len(gold)) for _ in range(resamples)])
    low, high = np.percentile(bootstrap_f1(gold, pred, n, samples, classes), [2.5, 97.5])
    return float(low), float(high)


def bootstrap_f1(
    gold: Sequence[int] | np.ndarray,
    pred: Sequence[int] | np.ndarray,
    n: int,
    samples: np.ndarray,
    classes: Sequence[int] | None = None,
) -> np.ndarray:
    """The mean F1 over ``classes`` (None: macro-F1 over the labels present in the resample, as `macro_f1`) on each
    resample of the items (a row of indices in ``samples``); the same ``samples`` for two models give paired
    scores."""
    gold_a, pred_a = np.asarray(gold, dtype=np.int64), np.asarray(pred, dtype=np.int64)
    if classes is None:
        return np.array([macro_f1_of(confusion(gold_a[s], pred_a[s], n)) for s in samples])
    chosen = list(classes)
    return np.array([per_class(confusion(gold_a[s], pred_a[s], n))[2][chosen].mean() for s in samples])


def bootstrap_intervals(
    gold: Sequence[int],
    pred: Sequence[int],
    labels: Sequence[str],
    confidence: Sequence[float] | None = None,
    resamples: int = 1000,
    seed: int = 0,
    bins: int = 15,
) -> dict[str, list[float]]:
    """95 % percentile-bootstrap intervals, on the same resamples of the items, of each figure `classification_report`
    gives one number for: macro-F1, accuracy, F1 over against+favor (where those labels exist), and ECE (with
    ``confidence``). Like `bootstrap_f1_interval`, they say how much a figure could move on another test set of the
    same size and kind, not between training runs."""
    if len(gold) == 0:
        raise ValueError("bootstrap_intervals: no items")
    rng = np.random.default_rng(seed)
    samples = rng.integers(0, len(gold), size=(resamples, len(gold)))
    gold_a, pred_a = np.asarray(gold, dtype=np.int64), np.asarray(pred, dtype=np.int64)
    hit = gold_a == pred_a
    figures = {
        "macro_f1": bootstrap_f1(gold_a, pred_a, len(labels), samples),
        "accuracy": np.array([hit[s].mean() for s in samples]),
    }
    if "against" in labels and "favor" in labels:
        polar = [list(labels).index("against"), list(labels).index("favor")]
        figures["f1_against_favor"] = bootstrap_f1(gold_a, pred_a, len(labels), samples, polar)
    if confidence is not None:
        conf = np.asarray(confidence, dtype=float)
        figures["ece"] = np.array([expected_calibration_error(conf[s], hit[s], bins) for s in samples])
    return {name: [float(v) for v in np.percentile(values, [2.5, 97.5])] for name, values in figures.items()}


def selection_score(f1_by_task: dict[str, float], select_on: str) -> float:
    """The dev score that picks checkpoints and averages: one task's macro-F1, or the mean over tasks ('mean')."""
    if select_on == "mean":
        return float(np.mean(list(f1_by_task.values()))) if f1_by_task else 0.0
    return f1_by_task.get(select_on, 0.0)


def calibration_bins(confidence: Sequence[float], correct: Sequence[bool], bins: int = 15) -> list[dict[str, float]]:
    """Equal-width confidence bins over (0, 1]: each bin's item count, mean confidence and accuracy."""
    conf = np.asarray(confidence, dtype=float)
    hit = np.asarray(correct, dtype=float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, bins - 1)
    out = []
    for b in range(bins):
        mask = index == b
        count = int(mask.sum())
        out.append(
            {
                "low": float(edges[b]),
                "high": float(edges[b + 1]),
                "n": count,
                "confidence": float(conf[mask].mean()) if count else 0.0,
                "accuracy": float(hit[mask].mean()) if count else 0.0,
            }
        )
    return out


def expected_calibration_error(confidence: Sequence[float], correct: Sequence[bool], bins: int = 15) -> float:
    """ECE: the item-weighted mean gap between confidence (the chosen label's probability) and accuracy over
    equal-width confidence bins (15 by default, as in Guo et al. 2017).

    >>> round(expected_calibration_error([0.9, 0.9, 0.6, 0.6], [True, False, True, True]), 3)
    0.4
    """
    total = len(confidence)
    if total == 0:
        raise ValueError("expected_calibration_error: no items")
    return float(
        sum(b["n"] * abs(b["accuracy"] - b["confidence"]) for b in calibration_bins(confidence, correct, bins)) / total
    )
