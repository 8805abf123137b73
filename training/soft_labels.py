"""`stance soft-labels`: a teacher model's probabilities for the rows of labelled files, and its labels for the
unlabelled ones, written with the formats of `training.distill`."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from training.data import load_evaluation_data
from training.distill import write_soft_labels, write_teacher_labelled

if TYPE_CHECKING:
    from model.predictor import StancePredictor


class UnlabelledRowsError(ValueError):
    """Rows without a label and no file to write them to as teacher-labelled training rows."""


@dataclass(frozen=True)
class SoftLabelsWritten:
    """What `build_soft_labels` wrote: soft labels of ``labelled`` rows, and of the ``unlabelled`` rows the
    ``taught`` ones (those with an input for one of the tasks), written as teacher-labelled training rows."""

    labelled: int
    unlabelled: int
    taught: int


def build_soft_labels(
    teacher: StancePredictor,
    files: Sequence[str],
    output: str | os.PathLike,
    teacher_labelled: str | os.PathLike | None = None,
    only_tasks: Sequence[str] | None = None,
    batch_size: int = 64,
) -> SoftLabelsWritten:
    """The teacher's probabilities for every labelled task of each labelled row of ``files``, written to ``output``.

    Unlabelled rows are written to ``teacher_labelled`` as training rows with the teacher's most probable labels
    (for ``only_tasks``, default all the teacher's), their probabilities appended to ``output``; without
    ``teacher_labelled`` they are an `UnlabelledRowsError` (a soft label alone does not train a row), raised
    before anything is written."""
    data = load_evaluation_data(list(files), teacher.tasks, keep_unlabelled=True)
    labelled = [r for r in data.rows if r.labels]
    unlabelled = [r for r in data.rows if not r.labels]
    if unlabelled and not teacher_labelled:
        first = unlabelled[0]
        raise UnlabelledRowsError(
            f"{len(unlabelled)} row(s) have no label (the first at {first.file}:{first.line}); a soft label alone "
            "does not train a row: give --teacher-labelled FILE to write them as training rows with the teacher's "
            "labels (and their probabilities to --output)"
        )
    written = write_soft_labels(teacher, labelled, output, batch_size=batch_size)
    taught = 0
    if unlabelled and teacher_labelled:
        predictions = teacher.predict([r.pair for r in unlabelled], batch_size=batch_size)
        probabilities = [{n: t.probabilities for n, t in p.tasks.items()} for p in predictions]
        tasks = [t for t in teacher.tasks if not only_tasks or t.name in only_tasks]
        taught = write_teacher_labelled(unlabelled, probabilities, tasks, teacher_labelled, output, append_soft=True)
    return SoftLabelsWritten(labelled=written, unlabelled=len(unlabelled), taught=taught)
