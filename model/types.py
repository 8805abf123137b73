"""Typed hand-offs between the stages of the pipeline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from numbers import Integral
from typing import Literal

InputKind = Literal["pair", "sentence"]
# How pair tasks read the encoder states (model/network.py): mean plus the mention start marker state(s), mean plus
# start and end marker states, mean only, or the first token.
POOLINGS = ("mean+marker", "mean+markers", "mean", "cls")


@dataclass(frozen=True)
class Span:
    """Character offsets of a mention in a text, end exclusive: ``text[start:end]`` is the mention."""

    start: int
    end: int


@dataclass(frozen=True)
class Pair:
    """One sentence and one target (actor) with the spans where the sentence mentions it.

    ``spans`` may be empty: stance toward a target the sentence does not name.

    >>> Pair("Damascus has every right to expel terrorists.", "Syria", (Span(0, 8),))
    """

    text: str
    target: str | None = None
    spans: tuple[Span, ...] = ()


def check_pairs(pairs: Sequence[Pair]) -> None:
    """Raise TypeError / ValueError naming the first pair (by index) whose text is not a string or whose spans do not
    lie inside its text (``0 <= start < end <= len(text)``)."""
    for i, pair in enumerate(pairs):
        if not isinstance(pair, Pair):
            raise TypeError(f"pair {i}: expected a Pair, got {type(pair).__name__}")
        if not isinstance(pair.text, str):
            raise TypeError(f"pair {i}: text must be a string, not {type(pair.text).__name__}")
        if pair.target is not None and not isinstance(pair.target, str):
            raise TypeError(f"pair {i}: target must be a string or None, not {type(pair.target).__name__}")
        for span in pair.spans:
            if not isinstance(span, Span) or not isinstance(span.start, Integral) or not isinstance(span.end, Integral):
                raise TypeError(f"pair {i}: spans must be Span(start, end) with integer offsets, got {span!r}")
            if not 0 <= span.start < span.end <= len(pair.text):
                problem = "empty or inverted" if span.start >= span.end else "outside the text"
                raise ValueError(
                    f"pair {i}: span {span.start}-{span.end} is {problem} ({len(pair.text)} characters; "
                    "a span needs 0 <= start < end <= len(text))"
                )


@dataclass(frozen=True)
class TaskSpec:
    """A classification task: its name, its label set (order is the head's output order) and its input kind.

    ``pair`` tasks (stance) read the sentence with the mention marked and the target as a second segment;
    ``sentence`` tasks (sentiment) read the sentence alone.
    """

    name: str
    labels: tuple[str, ...]
    input: InputKind = "pair"

    def to_dict(self) -> dict:
        return {"name": self.name, "labels": list(self.labels), "input": self.input}

    @classmethod
    def from_dict(cls, data: dict) -> TaskSpec:
        return cls(name=data["name"], labels=tuple(data["labels"]), input=data.get("input", "pair"))


@dataclass(frozen=True)
class TaskPrediction:
    """A task's label and the probability of every label."""

    label: str
    probabilities: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Prediction:
    """Predictions for one pair: one entry per task; ``truncated`` when the input did not fit ``max_length``."""

    tasks: dict[str, TaskPrediction]
    truncated: bool = False
