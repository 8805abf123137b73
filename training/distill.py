"""Soft labels for distillation: a teacher model's label probabilities for training rows.

A soft-label file is JSONL, one line per row: ``{"key": ..., "text": ..., "target": ..., "<task>": {label:
probability, ...}}``. ``key`` identifies the model input (text, target and mention spans, as resolved when the
training data is read), so a soft label finds its row in any training file that holds it. Write one with
``stance soft-labels --model TEACHER --data FILE... --output FILE``; train with ``--soft-labels FILE...
--distill-weight W``: each task's loss on a row that has soft labels becomes ``(1 - W)`` times the loss on the gold
label plus ``W * T^2`` times the KL divergence from the teacher's to the student's distribution, both softened by
the temperature ``T`` (``--distill-temperature``).

Rows without any label (unlabelled news, say) cannot be trained on as they are: ``stance soft-labels
--teacher-labelled FILE`` writes them to FILE with the teacher's most probable label for each task their input
has (``label_source: teacher``), and their probabilities to the soft-label file, so the student learns from the
teacher's probabilities on them (`write_teacher_labelled`).

A teacher's probabilities for rows it was trained on are close to its gold labels and teach little; soft labels
for training rows should come from models that did not see them (``experiments/teacher_folds.py`` trains one teacher
per fold of the training data and labels each fold with the teacher that did not see it).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from pathlib import Path

from model.types import TaskSpec
from training.rows import DataValidationError, LabelledRow, Problem

PROBABILITY_TOLERANCE = 0.01  # how far a row's probabilities may sum from 1 (they are rounded when written)


def write_soft_labels(predictor, rows: Sequence[LabelledRow], path: str | os.PathLike, batch_size: int = 64) -> int:
    """The predictor's probabilities for every labelled task of every row, written to ``path``; returns rows."""
    predictions = predictor.predict([r.pair for r in rows], batch_size=batch_size)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with open(path, "w", encoding="utf-8") as handle:
        for row, prediction in zip(rows, predictions, strict=True):
            probs = {
                task.name: {label: round(p, 5) for label, p in prediction.tasks[task.name].probabilities.items()}
                for task in predictor.tasks
                if task.name in row.labels and task.name in prediction.tasks
            }
            if probs:
                entry = {"key": row.digest, "text": row.pair.text, "target": row.pair.target, **probs}
                handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
                written += 1
    return written


def write_teacher_labelled(
    rows: Sequence[LabelledRow],
    probabilities: Sequence[dict[str, dict[str, float]]],
    tasks: Sequence[TaskSpec],
    rows_path: str | os.PathLike,
    soft_path: str | os.PathLike,
    append_soft: bool = False,
) -> int:
    """Unlabelled rows as training rows labelled by a teacher, and the teacher's probabilities as their soft labels.

    ``probabilities[i]`` is the teacher's (or the mean of several teachers') ``{task: {label: p}}`` for ``rows[i]``.
    A pair task applies to a row with a target, a sentence task to every row. The written row re-reads as the same
    input: mention offsets are written for a row with one mention span; a row whose spans came from the actor
    registry (several) or that names no mention is written without them, so reading finds the same spans again.
    Returns the rows written."""
    written = 0
    with (
        open(rows_path, "w", encoding="utf-8") as out_rows,
        open(soft_path, "a" if append_soft else "w", encoding="utf-8") as out_soft,
    ):
        for row, probs in zip(rows, probabilities, strict=True):
            applies = [t for t in tasks if t.name in probs and (t.input == "sentence" or row.pair.target)]
            if not applies:
                continue
            record: dict = {"id": row.id} if row.id is not None else {}
            record.update({"text": row.pair.text, "target": row.pair.target})
            if len(row.pair.spans) == 1:
                span = row.pair.spans[0]
                record.update({"mention_start": span.start, "mention_end": span.end})
            soft = {}
            for task in applies:
                task_probs = {label: float(probs[task.name][label]) for label in task.labels}
                record[task.name] = max(task.labels, key=task_probs.__getitem__)
                soft[task.name] = {label: round(p, 5) for label, p in task_probs.items()}
            record["label_source"] = "teacher"
            out_rows.write(json.dumps(record, ensure_ascii=False) + "\n")
            entry = {"key": row.digest, "text": row.pair.text, "target": row.pair.target, **soft}
            out_soft.write(json.dumps(entry, ensure_ascii=False) + "\n")
            written += 1
    return written


def load_soft_labels(paths: Sequence[str | os.PathLike], tasks: Sequence[TaskSpec]) -> dict[str, dict[str, list]]:
    """``{row key: {task: probabilities in the task's label order}}`` from soft-label files.

    Every problem in every file is reported at once, with file and line: invalid JSON, a missing key, labels that
    differ from the task's, negative probabilities or ones that do not sum to 1, the same row twice with different
    probabilities. Tasks the model does not have are ignored.
    """
    by_name = {t.name: t for t in tasks}
    problems: list[Problem] = []
    soft: dict[str, dict[str, list]] = {}
    where: dict[tuple[str, str], tuple[str, int]] = {}
    for path in paths:
        path = str(path)
        if not Path(path).is_file():
            problems.append(Problem(path, 0, "soft-label file not found"))
            continue
        with open(path, "rb") as handle:
            for line, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                try:
                    entry = json.loads(raw.decode("utf-8"))
                except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                    problems.append(Problem(path, line, f"not a JSON line ({exc})"))
                    continue
                if not isinstance(entry, dict) or not isinstance(entry.get("key"), str):
                    problems.append(
                        Problem(path, line, "missing 'key' (the row identity written by stance soft-labels)")
                    )
                    continue
                for name, task in by_name.items():
                    if name not in entry:
                        continue
                    values = _probabilities(entry[name], task)
                    if isinstance(values, str):
                        problems.append(Problem(path, line, f"{name}: {values}"))
                        continue
                    before = soft.get(entry["key"], {}).get(name)
                    if before is not None and max(abs(a - b) for a, b in zip(before, values, strict=True)) > 1e-3:
                        first = where[(entry["key"], name)]
                        message = f"{name}: other probabilities for the same row at {first[0]}:{first[1]}"
                        problems.append(Problem(path, line, message))
                        continue
                    soft.setdefault(entry["key"], {})[name] = values
                    where.setdefault((entry["key"], name), (path, line))
    if problems:
        raise DataValidationError(problems)
    return soft


def _probabilities(probs, task: TaskSpec) -> list[float] | str:
    """A task's probabilities in its label order, normalised; or what is wrong with them."""
    if not isinstance(probs, dict) or set(probs) != set(task.labels):
        return f"labels {sorted(probs) if isinstance(probs, dict) else probs!r} differ from the model's {task.labels}"
    values = [probs[label] for label in task.labels]
    if not all(isinstance(v, int | float) and v >= 0 and math.isfinite(v) for v in values):
        return "probabilities must be non-negative numbers"
    total = sum(values)
    if abs(total - 1.0) > PROBABILITY_TOLERANCE:
        return f"probabilities sum to {total:.4f}, not 1"
    return [v / total for v in values]


def average_soft_labels(
    paths: Sequence[str | os.PathLike], output: str | os.PathLike, tasks: Sequence[str] | None = None
) -> int:
    """The mean of several teachers' soft labels (an ensemble teacher), for the rows and tasks all of them have.

    ``tasks`` keeps only those tasks (e.g. ``["stance"]``). Rows keep the first file's order; returns rows written.
    """
    files = [
        [json.loads(line) for line in Path(p).read_text(encoding="utf-8").splitlines() if line.strip()] for p in paths
    ]
    others = [{e["key"]: e for e in entries} for entries in files[1:]]
    written = 0
    with open(output, "w", encoding="utf-8") as handle:
        for entry in files[0]:
            matches = [o.get(entry["key"]) for o in others]
            if any(m is None for m in matches):
                continue
            mean = {}
            for task, probs in entry.items():
                if not isinstance(probs, dict) or (tasks and task not in tasks):
                    continue
                if all(isinstance(m.get(task), dict) for m in matches):  # type: ignore[union-attr]
                    rows = [probs] + [m[task] for m in matches]  # type: ignore[index]
                    mean[task] = {label: round(sum(r[label] for r in rows) / len(rows), 5) for label in probs}
            if mean:
                out = {k: entry[k] for k in ("key", "text", "target") if k in entry}
                handle.write(json.dumps({**out, **mean}, ensure_ascii=False) + "\n")
                written += 1
    return written
