from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from model.calibration import Calibration
from model.model_dir import PROJECT_FILE, ModelDirError, read_project
from model.predictor import StancePredictor
from stance_cli.main import main
from tests.conftest import stance_rows, write_jsonl
from training.calibrate import cross_validated_bias_gain, fit_bias, fit_temperature


def test_temperature_scaling_recovers_the_temperature_that_generated_the_labels():
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(4000, 3, generator=generator) * 3
    gold = torch.multinomial(torch.softmax(logits / 2.0, -1), 1, generator=generator).squeeze(1)
    assert fit_temperature(logits, gold) == pytest.approx(2.0, rel=0.1)


def test_prior_correction_finds_a_label_the_logits_under_predict():
    rng = np.random.default_rng(0)
    gold = rng.integers(0, 3, 600)
    logits = np.eye(3)[gold] * 2.0 + rng.normal(0, 0.8, (600, 3))
    logits[:, 2] -= 2.5  # label 2 is under-predicted by a constant
    groups = ["a" if i % 2 else "b" for i in range(600)]
    bias = fit_bias(logits, gold, groups, reference=1)
    assert bias[1] == 0.0 and bias[2] > 1.5
    without, with_cv = cross_validated_bias_gain(logits, gold, groups, [str(i) for i in range(600)], reference=1)
    assert with_cv > without + 0.1


def test_no_evidence_means_no_prior_correction():
    gold = np.array([0, 1, 2] * 50)
    logits = np.eye(3)[gold] * 5.0
    assert fit_bias(logits, gold, ["x"] * len(gold), reference=1) == (0.0, 0.0, 0.0)


def test_a_calibration_is_checked_when_it_is_made_and_when_a_model_is_read(tiny_model, tmp_path):
    with pytest.raises(ValueError, match="above 0"):
        Calibration(temperature=0.0)
    with pytest.raises(ValueError, match="finite"):
        Calibration(temperature=float("nan"))
    copy = tmp_path / "model"
    copy.mkdir()
    for f in tiny_model.iterdir():
        (copy / f.name).write_bytes(f.read_bytes())
    data = json.loads((copy / PROJECT_FILE).read_text())
    data["calibration"] = {"stance": {"temperature": 1.5, "bias": [0.0, 1.0]}}
    (copy / PROJECT_FILE).write_text(json.dumps(data))
    with pytest.raises(ModelDirError, match="2 biases for 3 labels"):
        read_project(copy)
    data["calibration"] = {"topic": {"temperature": 1.5}}
    (copy / PROJECT_FILE).write_text(json.dumps(data))
    with pytest.raises(ModelDirError, match="unknown task 'topic'"):
        read_project(copy)


def test_stance_calibrate_writes_the_calibration_into_the_model_and_keeps_the_weights(tiny_model, tmp_path, capsys):
    copy = tmp_path / "model"
    copy.mkdir()
    for f in tiny_model.iterdir():
        (copy / f.name).write_bytes(f.read_bytes())
    dev = write_jsonl(tmp_path / "dev.jsonl", [dict(r, id=f"c{i}") for i, r in enumerate(stance_rows(30))])
    before = StancePredictor.from_dir(copy).predict([])  # loads
    assert before == []
    assert main(["calibrate", "--model", str(copy), "--data", str(dev), "--prior-correction", "off"]) == 0
    out = capsys.readouterr().out
    assert "stance: temperature" in out and "sentiment: temperature" in out
    project = read_project(copy)
    assert set(project.calibration) == {"stance", "sentiment"} and project.calibration["stance"].bias == ()
    assert project.weights_sha256 == read_project(tiny_model).weights_sha256
    StancePredictor.from_dir(copy)  # still verifies and loads
