"""Training examples of `training.examples`: which task learns from which input."""

from __future__ import annotations

from model.network import IGNORE_INDEX
from model.types import TaskSpec
from tests.conftest import stance_rows, write_jsonl
from training.data import load_training_data
from training.examples import build_examples


def test_each_task_learns_only_from_the_input_it_reads(tmp_path):
    tasks = [TaskSpec("stance", ("against", "neutral", "favor"), "pair"),
             TaskSpec("sentiment", ("negative", "neutral", "positive"), "sentence")]  # fmt: skip
    train_file = write_jsonl(tmp_path / "train.jsonl", stance_rows(40))
    rows = load_training_data([str(train_file)], [], tasks)[0].rows[:3]
    examples = build_examples(rows, tasks)
    assert [e.kind for e in examples] == ["pair", "sentence"] * 3
    for pair, sentence in zip(examples[::2], examples[1::2], strict=True):
        assert pair.labels["stance"] >= 0 and pair.labels["sentiment"] == IGNORE_INDEX
        assert sentence.labels["sentiment"] >= 0 and sentence.labels["stance"] == IGNORE_INDEX
