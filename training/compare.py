"""`stance compare`: several models on the same labelled data, side by side, with paired-bootstrap confidence
intervals for each model's difference from the first, so a researcher can tell whether retraining helped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from model.predictor import StancePredictor
from training.data import load_evaluation_data
from training.evaluate import evaluate_rows
from training.metrics import bootstrap_f1


def compare(
    model_dirs: list[str], data_files: list[str], output: str | None = None, resamples: int = 1000, seed: int = 0
) -> dict[str, Any]:
    if len(model_dirs) < 2:
        raise ValueError("compare needs two or more models")
    runs = []
    for directory in model_dirs:
        predictor = StancePredictor.from_dir(directory)
        data = load_evaluation_data(data_files, predictor.tasks)
        metrics, predictions = evaluate_rows(predictor, data.rows)
        runs.append((directory, predictor, data, metrics, predictions))
    rng = np.random.default_rng(seed)
    report: dict[str, Any] = {"data": data_files, "models": model_dirs, "tasks": {}}
    base_dir, base_predictor, base_data, _, base_predictions = runs[0]
    for task in base_predictor.tasks:
        rows = [i for i, r in enumerate(base_data.rows) if task.name in r.labels]
        if not rows:
            continue
        index = {label: i for i, label in enumerate(task.labels)}
        gold = np.array([index[base_data.rows[i].labels[task.name]] for i in rows])
        samples = rng.integers(0, len(rows), size=(resamples, len(rows)))
        base_pred = np.array([index[base_predictions[i].tasks[task.name].label] for i in rows])
        base_boot = bootstrap_f1(gold, base_pred, len(task.labels), samples)
        entries = []
        for directory, predictor, data, metrics, predictions in runs:
            if task.name not in metrics:
                continue
            other = {t.name: t for t in predictor.tasks}[task.name]
            if other.labels != task.labels or [r.key for r in data.rows] != [r.key for r in base_data.rows]:
                raise ValueError(
                    f"{directory}: task {task.name!r} labels or rows differ from {base_dir}; not comparable"
                )
            pred = np.array([index[predictions[i].tasks[task.name].label] for i in rows])
            boot = bootstrap_f1(gold, pred, len(task.labels), samples)
            diff = boot - base_boot
            m = metrics[task.name]
            entries.append({
                "model": directory, "n": m["n"], "macro_f1": m["macro_f1"], "accuracy": m["accuracy"],
                "f1_against_favor": m.get("f1_against_favor"),
                "macro_f1_ci95": [float(np.percentile(boot, 2.5)), float(np.percentile(boot, 97.5))],
                "difference_vs_first": float(m["macro_f1"] - runs[0][3][task.name]["macro_f1"]),
                "difference_ci95": [float(np.percentile(diff, 2.5)), float(np.percentile(diff, 97.5))],
                "p_not_better": float((diff <= 0).mean()),
                "per_target": {t: v["macro_f1"] for t, v in m.get("per_target", {}).items()},
            })  # fmt: skip
        report["tasks"][task.name] = entries
    if output:
        out = Path(output)
        out.mkdir(parents=True, exist_ok=True)
        (out / "compare.json").write_text(json.dumps(report, indent=2) + "\n")
        (out / "compare.md").write_text(render(report))
    return report


def render(report: dict[str, Any]) -> str:
    lines = ["# Model comparison", "", "Data: " + ", ".join(f"`{d}`" for d in report["data"]), ""]
    for task, entries in report["tasks"].items():
        lines += [
            f"## {task}",
            "",
            "| model | n | macro-F1 (95% CI) | accuracy | difference vs first (95% CI) | P(not better) |",
            "|---|---|---|---|---|---|",
        ]
        for e in entries:
            lo, hi = e["macro_f1_ci95"]
            dlo, dhi = e["difference_ci95"]
            lines.append(
                f"| `{e['model']}` | {e['n']} | {e['macro_f1']:.3f} ({lo:.3f}-{hi:.3f}) | {e['accuracy']:.3f} "
                f"| {e['difference_vs_first']:+.3f} ({dlo:+.3f} to {dhi:+.3f}) | {e['p_not_better']:.3f} |"
            )
        lines.append("")
    return "\n".join(lines)
