"""Fine-tunes the real base model briefly: fails when learning is broken (data, labels, loss, heads, saving)."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from model.predictor import StancePredictor
from tests.conftest import REPO, write_jsonl
from training.config import TrainConfig
from training.data import load_evaluation_data
from training.evaluate import evaluate_rows
from training.train import train


@pytest.mark.slow
def test_real_base_model_learns_stance_from_a_few_hundred_rows(tmp_path):
    rows = [json.loads(line) for line in (REPO / "data/newsmtsc/train.jsonl").read_text().splitlines()]
    held = [json.loads(line) for line in (REPO / "data/newsmtsc/dev_rw.jsonl").read_text().splitlines()][:240]
    train_file = write_jsonl(tmp_path / "train.jsonl", rows[:480])
    test_file = write_jsonl(tmp_path / "test.jsonl", held)
    config = TrainConfig(
        train_files=[str(train_file)],
        output_dir=str(tmp_path / "model"),
        only_tasks=["stance"],
        epochs=3,
        learning_rate=8e-5,
        batch_size=16,
        early_stopping_patience=0,
        progress=False,
    )
    predictor = StancePredictor.from_dir(train(config))
    data = load_evaluation_data([str(test_file)], predictor.tasks)
    metrics = evaluate_rows(predictor, data.rows)[0]["stance"]
    majority = max(Counter(r["stance"] for r in held).values()) / len(held)
    # Chance is 0.33 macro-F1 and about 0.40 accuracy (majority class) here; an unbroken fine-tune is far above.
    assert metrics["macro_f1"] > 0.50, metrics
    assert metrics["accuracy"] > majority + 0.10, (metrics["accuracy"], majority)
