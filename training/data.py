"""Labelled data as researchers write it (JSONL, CSV or Parquet), read and validated before any training.

Columns: ``text`` (required); ``target`` (required on stance rows); ``mention_start`` / ``mention_end``
(optional character offsets of the mention, end exclusive); ``mention`` (optional mention text); one column per
task with its label (``stance``, ``sentiment``; empty means no label); ``id`` (optional).

Every problem in every file is collected and reported at once, each with its file and line.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model.actors import ActorRegistry
from model.records import read_records, record_format, unit_of
from model.types import TaskSpec
from training.rows import DataValidationError, LabelledRow, LoadedData, Problem, RowValidator

SPEC_KEYS = {"path", "max_rows", "repeat", "target_repeat"}


@dataclass(frozen=True)
class FileSpec:
    """A data file and, optionally, how many of its rows to use (a deterministic sample) and how many times to
    repeat them in training (to give a small in-domain set weight next to a large public one). ``target_repeat``
    repeats the rows of some targets a different number of times (oversampling actors with few labels)."""

    path: str
    max_rows: int | None = None
    repeat: int = 1
    target_repeat: dict[str, int] = field(default_factory=dict)

    def repeats(self, target: str | None) -> int:
        """How many times a row of this file about ``target`` is used in one epoch."""
        return self.target_repeat.get(target or "", self.repeat)

    @classmethod
    def parse(cls, value: str | dict | FileSpec) -> FileSpec:
        if isinstance(value, FileSpec):
            return value
        if isinstance(value, str):
            return cls(path=value)
        if isinstance(value, dict) and "path" in value and set(value) <= SPEC_KEYS:
            repeat = int(value.get("repeat", 1))
            if repeat < 1:
                raise ValueError(f"{value['path']}: repeat must be at least 1")
            by_target = value.get("target_repeat") or {}
            if not isinstance(by_target, dict) or not all(
                isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) and v >= 1
                for k, v in by_target.items()
            ):
                raise ValueError(
                    f"{value['path']}: target_repeat must map target names to whole numbers of at least 1, "
                    f"not {by_target!r}"
                )
            return cls(path=str(value["path"]), max_rows=value.get("max_rows"), repeat=repeat,
                       target_repeat=dict(by_target))  # fmt: skip
        raise ValueError(f"a data file is a path or {{path, max_rows, repeat, target_repeat}}, not {value!r}")


# ----------------------------------------------------------------------------------------------- reading


def file_unit(path: str | os.PathLike) -> str:
    return unit_of(path)


def fingerprint(path: str | os.PathLike) -> dict[str, Any]:
    """The sha256 and size of a data file (of a saved dataset folder: of its files, in name order), saved in the
    model directory."""
    path = Path(path)
    files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.read_bytes())
    return {"path": str(path), "sha256": digest.hexdigest(), "bytes": sum(f.stat().st_size for f in files)}


def load_split(
    files: Iterable[str | os.PathLike | dict[str, Any] | FileSpec],
    tasks: Sequence[TaskSpec],
    problems: list[Problem],
    registry: ActorRegistry | None = None,
    keep_unlabelled: bool = False,
) -> LoadedData:
    """Read and validate the files of one split; problems go to ``problems``, valid rows are returned (with
    ``keep_unlabelled``, rows without any label too, with empty ``labels``)."""
    validator = RowValidator(tasks, registry, keep_unlabelled)
    data = LoadedData(rows=[])
    conflicts: dict[tuple, dict[str, tuple[str, LabelledRow]]] = {}
    for spec in (FileSpec.parse(str(f) if isinstance(f, os.PathLike) else f) for f in files):
        path = Path(spec.path)
        try:
            kind = record_format(path)
        except ValueError as exc:  # a saved DatasetDict: the message names its splits
            problems.append(_file_problem(path, str(exc)))
            continue
        if path.is_dir() and kind is None:
            problems.append(
                Problem(str(path), 0, "is a directory, not a data file or a saved dataset; give the data files in it")
            )
            continue
        if not path.exists():
            problems.append(Problem(str(path), 0, "file not found"))
            continue
        try:
            records = list(read_records(path))
        except ValueError as exc:  # the file cannot be read as rows at all (model.records.RecordFileError)
            problems.append(_file_problem(path, str(exc)))
            continue
        except OSError as exc:
            problems.append(Problem(str(path), 0, f"cannot read ({exc.strerror or exc})"))
            continue
        unit = file_unit(path)
        readable = [line for line, record, _ in records if record is not None]
        # Without a 'text' column no row is valid: one problem for the file, plus the rows that could not be read.
        no_text = bool(readable) and "text" not in _header(records)
        if no_text:
            problems.append(Problem(str(path), readable[0], "missing required column 'text'", unit))
        rows: list[LabelledRow] = []
        for line, record, error in records:
            if error is not None:
                problems.append(Problem(str(path), line, error, unit))
                continue
            if no_text:
                continue
            assert record is not None
            result = validator.validate(record, str(path), line, problems)
            if isinstance(result, str):
                data.left_out[result] += 1
            elif result is not None:
                rows.append(result)
        if spec.max_rows is not None and len(rows) > spec.max_rows:
            rows = _sample(rows, spec.max_rows)
        for row in rows:
            seen = conflicts.setdefault(row.key, {})
            for task, label in row.labels.items():
                if task in seen and seen[task][0] != label:
                    other = seen[task][1]
                    problems.append(
                        Problem(
                            row.file,
                            row.line,
                            f"conflicting {task} labels for identical input: {label!r} here, "
                            f"{seen[task][0]!r} at {other.file}:{other.line}",
                            file_unit(row.file),
                        )
                    )
                seen.setdefault(task, (label, row))
        data.rows.extend(rows)
        entry = {**fingerprint(path), "rows": len(rows), "max_rows": spec.max_rows, "repeat": spec.repeat}
        if spec.target_repeat:
            entry["target_repeat"] = dict(spec.target_repeat)
        data.files.append(entry)
    return data


def _file_problem(path: Path, message: str) -> Problem:
    """A whole-file read error (``"<path>:<line>: why"`` or ``"<path>: why"``) as a `Problem` at its line."""
    rest = message.removeprefix(str(path))
    if rest == message:  # not prefixed by the path
        return Problem(str(path), 0, message)
    rest = rest.removeprefix(":")
    number, sep, after = rest.partition(": ")
    if sep and number.strip().isdigit():
        return Problem(str(path), int(number), after, file_unit(path))
    return Problem(str(path), 0, rest.strip())


def _header(records: list[tuple[int, dict | None, str | None]]) -> set[str]:
    columns: set[str] = set()
    for _, record, _ in records:
        if record is not None:
            columns.update(record)
    return columns


def _sample(rows: list[LabelledRow], n: int) -> list[LabelledRow]:
    """A deterministic sample: the n rows whose content hashes lowest (stable across runs and machines)."""
    ranked = sorted(rows, key=lambda r: r.digest)
    keep = {id(r) for r in ranked[:n]}
    return [r for r in rows if id(r) in keep]


def check_ids(splits: Sequence[LoadedData], problems: list[Problem]) -> None:
    """Duplicate ids within and across the given splits."""
    first: dict[str, LabelledRow] = {}
    for split in splits:
        for row in split.rows:
            if row.id is None:
                continue
            if row.id in first:
                other = first[row.id]
                problems.append(
                    Problem(
                        row.file,
                        row.line,
                        f"duplicate id {row.id!r} (first at {other.file}:{other.line})",
                        file_unit(row.file),
                    )
                )
            else:
                first[row.id] = row


def check_leaks(train: LoadedData, evaluation: LoadedData, problems: list[Problem]) -> None:
    """Rows whose input is identical in the training and evaluation files."""
    seen = {row.key: row for row in train.rows}
    for row in evaluation.rows:
        other = seen.get(row.key)
        if other is not None:
            problems.append(
                Problem(
                    row.file,
                    row.line,
                    f"identical to training row {other.file}:{other.line} (evaluation data must be held out)",
                    file_unit(row.file),
                )
            )


def load_training_data(
    train_files: Sequence[str | dict[str, Any] | FileSpec],
    dev_files: Sequence[str | dict[str, Any] | FileSpec],
    tasks: Sequence[TaskSpec],
    registry: ActorRegistry | None = None,
) -> tuple[LoadedData, LoadedData]:
    """Validate training and dev files together; raise `DataValidationError` listing every problem."""
    problems: list[Problem] = []
    train = load_split(train_files, tasks, problems, registry)
    dev = load_split(dev_files, tasks, problems, registry)
    check_ids([train, dev], problems)
    check_leaks(train, dev, problems)
    if not problems and not train.rows:
        problems.append(
            Problem(
                ", ".join(str(FileSpec.parse(f).path) for f in train_files),
                0,
                "no labelled rows for the configured tasks",
            )
        )
    if problems:
        raise DataValidationError(problems)
    return train, dev


def load_evaluation_data(files: Sequence[str], tasks: Sequence[TaskSpec], keep_unlabelled: bool = False) -> LoadedData:
    problems: list[Problem] = []
    data = load_split(files, tasks, problems, keep_unlabelled=keep_unlabelled)
    check_ids([data], problems)
    if problems:
        raise DataValidationError(problems)
    return data
