"""`stance calibrate`: fit each task's temperature, and for stance an optional prior correction, on labelled dev
data, and store them in the model directory (`model.calibration`), where every prediction applies them.

- Temperature: the one number that minimises the negative log-likelihood of the gold labels (Guo et al. 2017),
  searched on a grid of log-temperatures; it never changes a predicted label.
- Prior correction (``bias="auto"``): per-label offsets added to the logits (the reference label's stays 0) that
  maximise the target-balanced macro-F1 (the mean over targets of each target's macro-F1), so labels the network
  under-predicts for some actors are chosen more often. It is kept only when it also wins, by 0.01 or more, under
  two-fold cross-validation on the same data (fitted on one half, scored on the other), so it is not fitted noise.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from model.calibration import Calibration
from model.model_dir import PROJECT_FILE, ModelProject, read_project
from model.predictor import StancePredictor
from training.card import write_model_card
from training.data import load_evaluation_data
from training.metrics import expected_calibration_error, macro_f1
from training.rows import LabelledRow

TEMPERATURES = np.exp(np.linspace(np.log(0.1), np.log(10.0), 401))
BIAS_GRID = np.round(np.linspace(-3.0, 3.0, 61), 2)
MIN_TARGET_ROWS = 10  # targets with fewer dev rows are pooled as one group for the balanced score
MIN_CV_GAIN = 0.01  # what the cross-validated prior correction must add to the balanced macro-F1 to be kept
BIAS_MODES = ("off", "auto", "on")


def fit_temperature(logits: torch.Tensor, gold: torch.Tensor) -> float:
    """The temperature with the lowest negative log-likelihood of ``gold`` (label indices) under ``logits``."""
    losses = [float(torch.nn.functional.cross_entropy(logits / t, gold)) for t in TEMPERATURES]
    return float(TEMPERATURES[int(np.argmin(losses))])


def balanced_macro_f1(gold: np.ndarray, pred: np.ndarray, groups: Sequence[str], n_labels: int) -> float:
    """Mean over groups (targets) of each group's macro-F1."""
    keys = sorted(set(groups))
    by = np.asarray(groups)
    return float(np.mean([macro_f1(gold[by == k], pred[by == k], n_labels) for k in keys]))


def fit_bias(logits: np.ndarray, gold: np.ndarray, groups: Sequence[str], reference: int) -> tuple[float, ...]:
    """Offsets (``reference`` label fixed at 0) on a grid that maximise the group-balanced macro-F1; among equal
    scores the smallest total offset wins, so no evidence means no correction."""
    n_labels = logits.shape[1]
    free = [j for j in range(n_labels) if j != reference]
    if len(free) > 3:
        raise ValueError(f"prior correction is searched on a grid for at most 4 labels, the task has {n_labels}")
    best, best_key = tuple(0.0 for _ in range(n_labels)), (-1.0, 0.0)
    for values in itertools.product(BIAS_GRID, repeat=len(free)):
        bias = np.zeros(n_labels)
        bias[free] = values
        score = balanced_macro_f1(gold, (logits + bias).argmax(1), groups, n_labels)
        key = (round(score, 6), -float(np.abs(bias).sum()))
        if key > best_key:
            best, best_key = tuple(float(b) for b in bias), key
    return best


def cross_validated_bias_gain(
    logits: np.ndarray, gold: np.ndarray, groups: Sequence[str], keys: Sequence[str], reference: int
) -> tuple[float, float]:
    """Balanced macro-F1 without and with a prior correction fitted on the other half (two folds by row hash)."""
    fold = np.array([int(hashlib.sha1(k.encode()).hexdigest(), 16) % 2 for k in keys])
    pred_with = logits.argmax(1).copy()
    for f in (0, 1):
        fit, held = fold != f, fold == f
        if not fit.any() or not held.any():
            continue
        fit_groups = [g for g, m in zip(groups, fit, strict=True) if m]
        bias = np.asarray(fit_bias(logits[fit], gold[fit], fit_groups, reference))
        pred_with[held] = (logits[held] + bias).argmax(1)
    n = logits.shape[1]
    return balanced_macro_f1(gold, logits.argmax(1), groups, n), balanced_macro_f1(gold, pred_with, groups, n)


def fit_calibration(
    predictor: StancePredictor,
    rows: Sequence[LabelledRow],
    bias: str = "auto",
    bias_task: str = "stance",
    reference_label: str = "neutral",
    files: Sequence[str] = (),
    batch_size: int = 64,
) -> dict[str, Calibration]:
    """A `Calibration` for every task with gold labels in ``rows`` (prior correction only for ``bias_task``)."""
    if bias not in BIAS_MODES:
        raise ValueError(f"bias must be one of {BIAS_MODES}, not {bias!r}")
    out: dict[str, Calibration] = {}
    for task in predictor.tasks:
        scored = [r for r in rows if task.name in r.labels]
        if not scored:
            continue
        index = {label: i for i, label in enumerate(task.labels)}
        raw = predictor.logits([r.pair for r in scored], task.name, batch_size=batch_size).float()
        gold = torch.tensor([index[r.labels[task.name]] for r in scored])
        report: dict[str, Any] = {"files": [os.fspath(f) for f in files], "rows": len(scored)}
        offsets: tuple[float, ...] = ()
        if task.name == bias_task and bias != "off" and reference_label in index:
            counts = Counter(r.pair.target or "" for r in scored)
            groups = [(r.pair.target or "") if counts[r.pair.target or ""] >= MIN_TARGET_ROWS else "(other)"
                      for r in scored]  # fmt: skip
            logits_np, gold_np = raw.numpy(), gold.numpy()
            without, with_cv = cross_validated_bias_gain(
                logits_np, gold_np, groups, [r.digest for r in scored], index[reference_label]
            )
            fitted = fit_bias(logits_np, gold_np, groups, index[reference_label])
            keep = bias == "on" or with_cv >= without + MIN_CV_GAIN
            report["prior_correction"] = {
                "balanced_macro_f1_without": round(without, 4),
                "balanced_macro_f1_cross_validated": round(with_cv, 4),
                "fitted": [round(b, 2) for b in fitted],
                "kept": keep,
                "groups": sorted(set(groups)),
            }
            if keep and any(fitted):
                offsets = tuple(round(b, 2) for b in fitted)
        shifted = raw + torch.tensor(offsets) if offsets else raw
        temperature = fit_temperature(shifted, gold)
        before = torch.softmax(raw, -1)
        after = torch.softmax(shifted / temperature, -1)
        for name, probs in (("before", before), ("after", after)):
            conf, pred = probs.max(-1)
            report[f"ece_{name}"] = round(expected_calibration_error(conf.tolist(), (pred == gold).tolist()), 4)
            report[f"nll_{name}"] = round(float(torch.nn.functional.nll_loss(probs.clamp_min(1e-12).log(), gold)), 4)
        out[task.name] = Calibration(temperature=round(temperature, 4), bias=offsets, fitted=report)
    return out


def write_calibration(model_dir: str | os.PathLike, calibration: dict[str, Calibration]) -> ModelProject:
    """Store ``calibration`` in a model directory's project file (replacing what was there; the weights and their
    fingerprint are untouched), written to a temporary file and renamed, so a crash leaves the old file whole; the
    model card is rewritten to match."""
    directory = Path(model_dir)
    project = read_project(directory)
    project.calibration = dict(calibration)
    path = directory / PROJECT_FILE
    temporary = path.with_name(f".{PROJECT_FILE}.writing")
    temporary.write_text(json.dumps(project.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(temporary, path)
    write_model_card(directory, project)
    return project


def calibrate_model_dir(
    model_dir: str | os.PathLike, files: Sequence[str], prior_correction: str = "auto"
) -> dict[str, Calibration]:
    """`stance calibrate`: fit each task's temperature (and the stance prior correction) on the labelled ``files``
    and write them into the model directory; returns what was fitted. Fit on dev data, never on test."""
    predictor = StancePredictor.from_dir(model_dir, backend="torch-fp32")  # fitted on the reference logits
    rows = load_evaluation_data(list(files), predictor.tasks).rows
    if not rows:
        raise ValueError(f"{', '.join(files)}: no rows labelled for the model's tasks")
    calibration = fit_calibration(predictor, rows, bias=prior_correction, files=list(files))
    write_calibration(model_dir, calibration)
    return calibration
