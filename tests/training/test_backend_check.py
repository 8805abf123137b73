"""`stance export` (training/backend_check.py, training/onnx_export.py): the network exported to ONNX, each backend
checked against float32, the result recorded in the model directory and used by `auto`."""

from __future__ import annotations

import json
import shutil

import pytest

from model import backends
from model.backends import BackendError, choose
from model.predictor import StancePredictor
from model.types import Pair, Span
from stance_cli.main import main
from tests.conftest import stance_rows, write_jsonl


@pytest.fixture
def exported(tiny_model, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(backends, "cpu_has_bf16", lambda: True)  # autocast runs (emulated) on any CPU
    copy = tmp_path / "m"
    shutil.copytree(tiny_model, copy)
    dev = write_jsonl(tmp_path / "dev.jsonl", stance_rows(40))
    assert main(["export", "--model", str(copy), "--input", str(dev)]) == 0
    return copy, capsys.readouterr().out


def test_export_checks_every_backend_and_auto_takes_the_fastest_that_passed(exported):
    copy, out = exported
    checks = {c["backend"]: c for c in json.loads((copy / "backends.json").read_text())["checks"]}
    assert set(checks) == {"torch-bf16", "onnx-fp32", "onnx-int8"}
    assert "of 40 pairs" in out and "backends.json" in out
    for c in checks.values():
        assert c["pairs"] == 40
        assert c["passed"] == (c["agreement"] >= 0.99 and abs(c["macro_f1"] - c["macro_f1_fp32"]) <= 0.005)
    assert (copy / "onnx/model.onnx").is_file() and checks["onnx-fp32"]["file_sha256"]
    assert checks["onnx-fp32"]["passed"] and checks["onnx-fp32"]["agreement"] == 1.0  # the same network
    fastest = max(
        (c for c in checks.values() if c["passed"] and c["speed"] > 1), key=lambda c: c["speed"], default=None
    )
    predictor = StancePredictor.from_dir(copy, device="cpu")
    assert predictor.backend == (fastest["backend"] if fastest else "torch-fp32")
    StancePredictor.from_dir(copy)  # still loads and verifies: backends.json and onnx/ are not weights


def test_an_onnx_backend_gives_float32_probabilities_and_its_check_holds_for_its_file_only(exported):
    copy, _ = exported
    onnx = StancePredictor.from_dir(copy, device="cpu", backend="onnx-fp32")
    reference = StancePredictor.from_dir(copy, device="cpu", backend="torch-fp32")
    pair = Pair("Syria shelled the town.", "Syria", (Span(0, 5),))
    for task in ("stance", "sentiment"):
        got, want = onnx.predict([pair])[0].tasks[task], reference.predict([pair])[0].tasks[task]
        assert got.probabilities == pytest.approx(want.probabilities, abs=1e-4)
    (copy / "onnx/model.onnx").write_bytes(b"replaced")
    with pytest.raises(BackendError, match="not checked against float32"):
        choose("onnx-fp32", copy, "cpu")
