"""Backends (model/backends.py): chosen from the checks recorded in the model directory, refused when they failed."""

from __future__ import annotations

import shutil

import pytest

from model import backends
from model.backends import BackendCheck, BackendError, choose, machine_kind, write_checks
from model.predictor import StancePredictor
from model.types import Pair, Span


def check(backend="torch-bf16", passed=True, speed=2.0, machine=None):
    return BackendCheck(backend, machine or machine_kind("cpu"), 100, 0.995 if passed else 0.9, 0.7, 0.7, speed, passed)


def test_auto_is_float32_until_a_faster_backend_passed_here(tmp_path, monkeypatch):
    monkeypatch.setattr(backends, "cpu_has_bf16", lambda: True)
    assert choose("auto", tmp_path, "cpu") == ("torch-fp32", None)
    write_checks(tmp_path, [check(machine="another machine")])
    assert choose("auto", tmp_path, "cpu") == ("torch-fp32", None)  # a check holds for its kind of machine only
    write_checks(tmp_path, [check()])
    assert choose("auto", tmp_path, "cpu")[0] == "torch-bf16"
    write_checks(tmp_path, [check(speed=0.8)])  # passed, but slower than float32 here
    assert choose("auto", tmp_path, "cpu")[0] == "torch-fp32"


def test_a_backend_asked_for_by_name_must_have_passed(tmp_path, monkeypatch):
    monkeypatch.setattr(backends, "cpu_has_bf16", lambda: True)
    with pytest.raises(BackendError, match=r"not checked against float32.*stance export"):
        choose("torch-bf16", tmp_path, "cpu")
    write_checks(tmp_path, [check(passed=False)])
    with pytest.raises(BackendError, match=r"refused: torch-bf16 failed .* labels agree on 90\.00% of 100 pairs"):
        choose("torch-bf16", tmp_path, "cpu")
    with pytest.raises(BackendError, match="choose one of auto, torch-fp32, torch-bf16"):
        choose("onnx", tmp_path, "cpu")
    monkeypatch.setattr(backends, "cpu_has_bf16", lambda: False)
    with pytest.raises(BackendError, match="not supported on this machine"):
        choose("torch-bf16", tmp_path, "cpu")


def test_a_checked_bf16_predictor_agrees_with_float32(tiny_model, tmp_path, monkeypatch):
    monkeypatch.setattr(backends, "cpu_has_bf16", lambda: True)  # autocast runs (emulated) on any CPU
    copy = tmp_path / "m"
    shutil.copytree(tiny_model, copy)
    write_checks(copy, [check()])
    fast = StancePredictor.from_dir(copy, device="cpu")
    reference = StancePredictor.from_dir(copy, device="cpu", backend="torch-fp32")
    assert (fast.backend, reference.backend) == ("torch-bf16", "torch-fp32")
    pair = Pair("Syria shelled the town.", "Syria", (Span(0, 5),))
    got, want = fast.predict([pair])[0].tasks["stance"], reference.predict([pair])[0].tasks["stance"]
    assert got.probabilities == pytest.approx(want.probabilities, abs=0.05)
