"""A labelled row and its checks: `LabelledRow` (a pair, its labels and where it came from), `Problem` (one defect
in one place), and `RowValidator`, which turns a record read from a file into a row or a problem.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from model.actors import ActorRegistry
from model.records import unit_of
from model.types import Pair, Span, TaskSpec

NOT_APPLICABLE = "na"  # codebook label: the words do not refer to the actor; row left out of training/evaluation


@dataclass(frozen=True)
class Problem:
    """One defect in one place: ``file:line: message``."""

    file: str
    line: int
    message: str
    unit: str = "line"

    def __str__(self) -> str:
        return (
            f"{self.file}:{self.line}: {self.message}"
            if self.unit == "line"
            else (f"{self.file} ({self.unit} {self.line}): {self.message}")
        )


class DataValidationError(ValueError):
    """Labelled data with one or more problems; ``problems`` lists them all."""

    def __init__(self, problems: Sequence[Problem], note: str = "") -> None:
        self.problems = list(problems)
        self.note = note
        shown = "\n".join(f"  {p}" for p in self.problems[:200])
        more = f"\n  ... and {len(self.problems) - 200} more" if len(self.problems) > 200 else ""
        after = f"\n{note}" if note else ""
        super().__init__(f"{len(self.problems)} problem(s) in the labelled data:\n{shown}{more}{after}")


@dataclass(frozen=True)
class LabelledRow:
    """A validated row: the pair, its labels by task, and where it came from."""

    pair: Pair
    labels: dict[str, str]
    id: str | None
    file: str
    line: int

    @property
    def key(self) -> tuple:
        """Identity of the model input (text, target, mention spans), for leak and conflict checks."""
        return (self.pair.text, self.pair.target or "", tuple((s.start, s.end) for s in self.pair.spans))

    @property
    def digest(self) -> str:
        """A stable hash of ``key`` (the same on every run and machine): deterministic samples, soft-label keys."""
        return hashlib.sha1(repr(self.key).encode("utf-8")).hexdigest()


@dataclass
class LoadedData:
    """Validated rows of one split, plus fingerprints and counts of rows left out (and why)."""

    rows: list[LabelledRow]
    files: list[dict[str, Any]] = field(default_factory=list)
    left_out: Counter = field(default_factory=Counter)

    def label_counts(self) -> dict[str, dict[str, int]]:
        counts: dict[str, Counter] = {}
        for row in self.rows:
            for task, label in row.labels.items():
                counts.setdefault(task, Counter())[label] += 1
        return {task: dict(sorted(c.items())) for task, c in counts.items()}


class RowValidator:
    """Checks and normalises records into `LabelledRow`s, collecting `Problem`s rather than stopping."""

    def __init__(
        self, tasks: Sequence[TaskSpec], registry: ActorRegistry | None = None, keep_unlabelled: bool = False
    ) -> None:
        self.tasks = list(tasks)
        self.registry = registry or ActorRegistry.default()
        self.keep_unlabelled = keep_unlabelled  # a row with no label is kept (labels {}), not left out

    def validate(
        self, record: dict[str, Any], file: str, line: int, problems: list[Problem]
    ) -> LabelledRow | str | None:
        """A row, or the reason it is left out (a string), or None when it has problems (added to ``problems``)."""
        unit = unit_of(file)
        found: list[str] = []

        def problem(message: str) -> None:
            found.append(message)

        text = record.get("text")
        if "text" not in record:
            problem("missing required column 'text'")
        elif _is_missing(text):  # an empty CSV cell or a Parquet null, as an empty JSON string
            problem("empty text")
        elif not isinstance(text, str):
            problem(f"'text' must be a string, got {type(text).__name__}")
        elif not text.strip():
            problem("empty text")
        target = record.get("target")
        if target is not None and not isinstance(target, str):
            problem(f"'target' must be a string, got {type(target).__name__}")
            target = None
        target = target.strip() if isinstance(target, str) and target.strip() else None

        labels: dict[str, str] = {}
        left_out = None
        for task in self.tasks:
            value = record.get(task.name)
            if _is_missing(value):
                continue
            value = str(value).strip()
            if value == NOT_APPLICABLE and NOT_APPLICABLE not in task.labels:
                left_out = f"{task.name} '{NOT_APPLICABLE}'"
                continue
            if value not in task.labels:
                problem(f"unknown {task.name} label {value!r} (expected one of {list(task.labels)})")
                continue
            labels[task.name] = value
        pair_tasks = [t.name for t in self.tasks if t.input == "pair" and t.name in labels]
        if pair_tasks and target is None:
            problem(f"missing required column 'target' on a {pair_tasks[0]} row")

        spans: tuple[Span, ...] = ()
        if isinstance(text, str) and text.strip():
            spans = self._spans(record, text, target, problem)
        row_id = record.get("id")
        row_id = None if _is_missing(row_id) else str(row_id)

        if found:
            problems.extend(Problem(file, line, m, unit) for m in found)
            return None
        if not labels and (left_out or not self.keep_unlabelled):
            return left_out or "no label for the configured tasks"
        assert isinstance(text, str)
        return LabelledRow(Pair(text, target, spans), labels, row_id, file, line)

    def _spans(self, record: dict[str, Any], text: str, target: str | None, problem) -> tuple[Span, ...]:
        start, end = record.get("mention_start"), record.get("mention_end")
        mention = record.get("mention")
        mention = None if _is_missing(mention) else str(mention)
        if _is_missing(start) and _is_missing(end):
            if mention is not None:
                at = text.find(mention)
                if at < 0:
                    problem(f"'mention' {mention!r} does not occur in 'text'")
                    return ()
                return (Span(at, at + len(mention)),)
            if target is None:
                return ()
            return tuple(self.registry.find_actor(text, target))
        if _is_missing(start) or _is_missing(end):
            problem("'mention_start' and 'mention_end' must be given together")
            return ()
        s, e = _as_int(start), _as_int(end)
        if s is None or e is None:
            problem(f"offsets must be integers, got mention_start={start!r}, mention_end={end!r}")
            return ()
        if s < 0 or e > len(text):
            problem(f"offsets {s}..{e} out of range for a text of {len(text)} characters")
            return ()
        if s >= e:
            problem(f"inverted or empty offsets: mention_start {s} >= mention_end {e}")
            return ()
        if mention is not None and text[s:e] != mention:
            problem(f"offsets {s}..{e} give {text[s:e]!r}, not the 'mention' {mention!r}")
            return ()
        return (Span(s, e),)


def _is_missing(value: Any) -> bool:
    return (
        value is None
        or (isinstance(value, float) and math.isnan(value))
        or (isinstance(value, str) and not value.strip())
    )


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None
