"""Per-actor scores: each actor's macro-F1 with a bootstrap interval and per-class recall, and the actor-balanced
mean (the mean of the per-actor macro-F1s), which a sample dominated by one actor cannot hide behind.

The intervals resample the items of each actor with replacement (1,000 times by default), independently per actor;
the balanced mean's interval takes the mean over actors within each resample. They say how much the scores could
move on another sample of the same size, not how much they vary between training runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from training.metrics import confusion, macro_f1_of, per_class


def actor_breakdown(
    gold: Sequence[int],
    pred: Sequence[int],
    targets: Sequence[str | None],
    labels: Sequence[str],
    actors: Sequence[str],
    resamples: int = 1000,
    seed: int = 0,
) -> dict[str, Any] | None:
    """Scores of every actor in ``actors`` that has items, and the balanced mean over them; None when none has."""
    gold_a, pred_a = np.asarray(gold, dtype=np.int64), np.asarray(pred, dtype=np.int64)
    target_a = np.asarray([t or "" for t in targets], dtype=object)
    present = [a for a in actors if (target_a == a).any()]
    if not present:
        return None
    rng = np.random.default_rng(seed)
    n = len(labels)
    per_actor: dict[str, Any] = {}
    draws = np.zeros((resamples, len(present)))
    for k, actor in enumerate(present):
        index = np.flatnonzero(target_a == actor)
        g, p = gold_a[index], pred_a[index]
        matrix = confusion(g, p, n)
        _, recall, _, support = per_class(matrix)
        for r in range(resamples):
            s = rng.integers(0, len(index), len(index))
            draws[r, k] = macro_f1_of(confusion(g[s], p[s], n))
        low, high = np.percentile(draws[:, k], [2.5, 97.5])
        per_actor[actor] = {
            "n": len(index),
            "macro_f1": macro_f1_of(matrix),
            "macro_f1_ci95": [float(low), float(high)],
            "recall": {label: float(recall[i]) for i, label in enumerate(labels) if support[i] > 0},
            "support": {label: int(support[i]) for i, label in enumerate(labels)},
        }
    balanced = draws.mean(axis=1)
    low, high = np.percentile(balanced, [2.5, 97.5])
    recall_by_label = {
        label: float(np.mean([a["recall"][label] for a in per_actor.values() if label in a["recall"]]))
        for label in labels
        if any(label in a["recall"] for a in per_actor.values())
    }
    return {
        "actors": present,
        "balanced_macro_f1": float(np.mean([a["macro_f1"] for a in per_actor.values()])),
        "balanced_macro_f1_ci95": [float(low), float(high)],
        "balanced_recall": recall_by_label,
        "per_actor": per_actor,
    }
