"""Typed hand-offs between the stages of the pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
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
