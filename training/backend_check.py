"""`stance export --model DIR`: export the network to ONNX (training/onnx_export.py), check each backend this
machine can run against float32 on labelled held-out pairs, and record the result in the model directory
(model/backends.py reads it to choose a backend)."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence

from model.backends import (
    BACKENDS,
    MAX_F1_CHANGE,
    MIN_AGREEMENT,
    ONNX_FILES,
    REFERENCE,
    BackendCheck,
    file_sha256,
    machine_kind,
    supported,
    write_checks,
)
from model.predictor import StancePredictor
from model.types import Pair
from training.data import load_evaluation_data
from training.metrics import macro_f1
from training.onnx_export import export_onnx

ROUNDS = 2  # each backend is timed this many times over the pairs, alternating with float32; the fastest counts


def check_backends(
    model_dir: str | os.PathLike, files: Sequence[str], batch_size: int = 32
) -> tuple[list[BackendCheck], str]:
    """Check every backend this machine supports against float32 on the stance rows of ``files``; returns the
    checks and the path they were recorded in."""
    reference = StancePredictor.from_dir(model_dir, backend=REFERENCE)
    stance = reference.project.task("stance")
    rows = [r for r in load_evaluation_data(list(files), reference.tasks).rows if "stance" in r.labels]
    if not rows:
        raise ValueError(f"{', '.join(files)}: no stance-labelled rows to check the backends on")
    pairs = [r.pair for r in rows]
    gold = [stance.labels.index(r.labels["stance"]) for r in rows]
    candidates = [b for b in BACKENDS if b != REFERENCE and supported(b, reference.device)]
    exported = export_onnx(reference, model_dir) if any(b in ONNX_FILES for b in candidates) else {}
    runners = {REFERENCE: reference, **{b: reference.with_backend(b, model_dir) for b in candidates}}
    labels: dict[str, list[int]] = {}
    seconds: dict[str, float] = {}
    for _ in range(ROUNDS):
        for name, predictor in runners.items():
            took, predicted = _timed(predictor, pairs, batch_size, stance.labels)
            seconds[name] = min(seconds.get(name, took), took)
            labels[name] = predicted
    f1_fp32 = macro_f1(gold, labels[REFERENCE], len(stance.labels))
    checks = []
    for backend in candidates:
        agreement = sum(a == b for a, b in zip(labels[backend], labels[REFERENCE], strict=True)) / len(pairs)
        f1 = macro_f1(gold, labels[backend], len(stance.labels))
        checks.append(
            BackendCheck(
                backend=backend,
                machine=machine_kind(reference.device),
                pairs=len(pairs),
                agreement=round(agreement, 4),
                macro_f1=round(f1, 4),
                macro_f1_fp32=round(f1_fp32, 4),
                speed=round(seconds[REFERENCE] / seconds[backend], 3),
                passed=agreement >= MIN_AGREEMENT and abs(f1 - f1_fp32) <= MAX_F1_CHANGE,
                file_sha256=file_sha256(exported[backend]) if backend in exported else None,
            )
        )
    return checks, str(write_checks(model_dir, checks))


def _timed(
    predictor: StancePredictor, pairs: list[Pair], batch_size: int, names: Sequence[str]
) -> tuple[float, list[int]]:
    started = time.perf_counter()
    predictions = predictor.predict(pairs, batch_size=batch_size, kinds=("pair",))
    took = time.perf_counter() - started
    return took, [names.index(p.tasks["stance"].label) for p in predictions]
