"""Choosing on dev: the selection score of a model's dev metrics, and keeping the best of several candidates.

Every choice made while training (the best checkpoint against the weight averages of a run, each step of a greedy
soup) goes through `keep_best_on_dev`, so they share one tie rule: the earlier candidate wins. Nothing here looks
at test data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from training.metrics import selection_score

T = TypeVar("T")


def dev_select(metrics: dict[str, Any], select_on: str) -> float:
    """The selection score (`training.metrics.selection_score`) from `training.evaluate.evaluate_rows` metrics."""
    f1_by_task = {task: m["macro_f1"] for task, m in metrics.items() if isinstance(m, dict) and "macro_f1" in m}
    return selection_score(f1_by_task, select_on)


@dataclass(frozen=True)
class DevChoice(Generic[T]):
    """The candidate kept, its name, and every candidate's dev score in the order they were scored."""

    name: str
    kept: T
    scores: dict[str, float]


def keep_best_on_dev(candidates: Mapping[str, T], score: Callable[[T], float]) -> DevChoice[T]:
    """Score each candidate on dev with ``score``, in order, and keep the best; a tie goes to the earlier one.

    >>> keep_best_on_dev({"checkpoint": 0.5, "ema": 0.7, "swa": 0.7}, float).name
    'ema'
    """
    if not candidates:
        raise ValueError("keep_best_on_dev: no candidates to choose from")
    scores = {name: float(score(candidate)) for name, candidate in candidates.items()}
    best = max(scores, key=scores.__getitem__)  # the first maximum
    return DevChoice(best, candidates[best], scores)
