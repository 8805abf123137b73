"""`stance export` (training/backend_check.py): each backend checked against float32, recorded in the model dir."""

from __future__ import annotations

import json
import shutil

from model import backends
from model.predictor import StancePredictor
from stance_cli.main import main
from tests.conftest import stance_rows, write_jsonl


def test_export_records_the_check_and_auto_then_uses_a_passed_backend(tiny_model, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(backends, "cpu_has_bf16", lambda: True)  # autocast runs (emulated) on any CPU
    copy = tmp_path / "m"
    shutil.copytree(tiny_model, copy)
    dev = write_jsonl(tmp_path / "dev.jsonl", stance_rows(40))
    assert main(["export", "--model", str(copy), "--input", str(dev)]) == 0
    out = capsys.readouterr().out
    assert "torch-bf16" in out and "of 40 pairs" in out and "backends.json" in out
    (check,) = json.loads((copy / "backends.json").read_text())["checks"]
    assert check["backend"] == "torch-bf16" and check["pairs"] == 40 and 0 <= check["agreement"] <= 1
    assert check["passed"] == (check["agreement"] >= 0.99 and abs(check["macro_f1"] - check["macro_f1_fp32"]) <= 0.005)
    predictor = StancePredictor.from_dir(copy, device="cpu")
    expected = "torch-bf16" if check["passed"] and check["speed"] > 1 else "torch-fp32"
    assert predictor.backend == expected
    StancePredictor.from_dir(copy)  # the model directory still loads and verifies: backends.json is no model file


def test_export_without_a_faster_backend_says_so(tiny_model, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(backends, "cpu_has_bf16", lambda: False)
    copy = tmp_path / "m"
    shutil.copytree(tiny_model, copy)
    dev = write_jsonl(tmp_path / "dev.jsonl", stance_rows(12))
    assert main(["export", "--model", str(copy), "--input", str(dev)]) == 0
    assert "nothing to check" in capsys.readouterr().out
