"""Training examples: labelled rows -> one example per input kind that carries a label -> a `datasets.Dataset` of
token ids -> padded batches (`Collator`). Also the dev split when no dev files are given, and class weights."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from model.formatting import EncodedInput, InputEncoder, pad_encoded
from model.network import IGNORE_INDEX, label_key, soft_key
from model.types import InputKind, TaskSpec
from training.data import FileSpec
from training.rows import LabelledRow


@dataclass(frozen=True)
class Example:
    """One model input with a label id per task (`IGNORE_INDEX` where the row has no label for it)."""

    row: LabelledRow
    kind: InputKind
    labels: dict[str, int]
    soft: dict[str, list[float]] | None = None  # a teacher's probabilities per task, for distillation


def build_examples(
    rows: list[LabelledRow], tasks: list[TaskSpec], soft: dict[str, dict[str, list]] | None = None
) -> list[Example]:
    """One example per row and input kind that carries a label: stance reads the pair, sentiment the sentence.

    ``soft`` (from `training.distill.load_soft_labels`) gives an example the teacher's probabilities for the
    labelled tasks that read its input.
    """
    examples = []
    for row in rows:
        row_soft = soft.get(row.digest, {}) if soft else {}
        for kind in ("pair", "sentence"):
            kind_tasks = [t for t in tasks if t.input == kind]
            if not any(t.name in row.labels for t in kind_tasks):
                continue
            # Only the tasks that read this input learn from it: stance is never taught from a sentence without
            # its target, nor sentiment from a copy of the sentence with a marked mention.
            labels = {
                t.name: (
                    t.labels.index(row.labels[t.name]) if t.input == kind and t.name in row.labels else IGNORE_INDEX
                )
                for t in tasks
            }
            taught = {
                t.name: row_soft[t.name] for t in kind_tasks if t.name in row_soft and labels[t.name] != IGNORE_INDEX
            }
            examples.append(Example(row, kind, labels, taught or None))  # type: ignore[arg-type]
    return examples


def to_dataset(examples: list[Example], encoder: InputEncoder, tasks: list[TaskSpec]):
    """A `datasets.Dataset` of token ids, labels and lengths (for length-grouped batches)."""
    from datasets import Dataset

    columns: dict[str, list] = defaultdict(list)
    distil = any(e.soft for e in examples)  # soft-label columns only when there are any: runs without stay as they were
    for kind in ("pair", "sentence"):
        chosen = [e for e in examples if e.kind == kind]
        if not chosen:
            continue
        for example, enc in zip(chosen, encoder.encode([e.row.pair for e in chosen], kind), strict=True):  # type: ignore[arg-type]
            columns["input_ids"].append(enc.input_ids)
            columns["token_type_ids"].append(enc.token_type_ids or [0] * len(enc.input_ids))
            columns["length"].append(len(enc.input_ids))
            for task in tasks:
                columns[label_key(task.name)].append(example.labels[task.name])
                if distil:  # all zeros: no soft label for this task
                    columns[soft_key(task.name)].append((example.soft or {}).get(task.name, [0.0] * len(task.labels)))
    return Dataset.from_dict(dict(columns))


class Collator:
    """Dynamic padding of a batch of dataset rows into tensors, with label tensors per task."""

    def __init__(self, pad_id: int, tasks: list[TaskSpec]) -> None:
        self.pad_id = pad_id
        self.tasks = tasks

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        items = [EncodedInput(f["input_ids"], [1] * len(f["input_ids"]), f["token_type_ids"], False) for f in features]
        batch = pad_encoded(items, self.pad_id)
        for task in self.tasks:
            batch[label_key(task.name)] = torch.tensor([f[label_key(task.name)] for f in features], dtype=torch.long)
            if soft_key(task.name) in features[0]:
                batch[soft_key(task.name)] = torch.tensor([f[soft_key(task.name)] for f in features], dtype=torch.float)
        return batch


def stratified_split(
    rows: list[LabelledRow], fraction: float, seed: int
) -> tuple[list[LabelledRow], list[LabelledRow]]:
    """Hold out ``fraction`` of the rows, stratified on their labels, keeping rows of one sentence together."""
    groups: dict[str, list[LabelledRow]] = defaultdict(list)
    for row in rows:
        groups[row.pair.text].append(row)
    strata: dict[tuple, list[str]] = defaultdict(list)
    for text, members in groups.items():
        strata[tuple(sorted(members[0].labels.items()))].append(text)
    rng = random.Random(seed)
    held: set[str] = set()
    for key in sorted(strata):
        texts = sorted(strata[key])
        rng.shuffle(texts)
        held.update(texts[: round(len(texts) * fraction)])
    train = [r for r in rows if r.pair.text not in held]
    dev = [r for r in rows if r.pair.text in held]
    return train, dev


def repeat_rows(rows: list[LabelledRow], files: Sequence[dict[str, Any]]) -> list[LabelledRow]:
    """Each row as many times as its file's ``repeat`` (and ``target_repeat`` for its target) asks."""
    specs = {
        f["path"]: FileSpec(f["path"], repeat=f.get("repeat", 1), target_repeat=f.get("target_repeat", {}))
        for f in files
    }
    return [r for r in rows for _ in range(specs[r.file].repeats(r.pair.target) if r.file in specs else 1)]


def class_weights(examples: list[Example], tasks: list[TaskSpec]) -> dict[str, list[float]]:
    """Inverse-frequency ("balanced") loss weights per task."""
    weights = {}
    for task in tasks:
        counts = Counter(e.labels[task.name] for e in examples if e.labels[task.name] != IGNORE_INDEX)
        total = sum(counts.values())
        weights[task.name] = [
            total / (len(task.labels) * counts[i]) if counts[i] else 0.0 for i in range(len(task.labels))
        ]
    return weights


def read_by_selection(example: Example, select_on: str) -> bool:
    """Whether the example carries a label of a task the selection score reads (`training.metrics.selection_score`)."""
    if select_on == "mean":
        return True
    return example.labels.get(select_on, IGNORE_INDEX) != IGNORE_INDEX
