"""`stance compare`: several models on the same labelled data, side by side, with paired-bootstrap confidence
intervals for each model's difference from the first, so a researcher can tell whether retraining helped.

Only the tasks every model has are compared, each on the rows labelled for it (a stance-only model and a
stance + sentiment model are compared on stance), so every model sees exactly the same rows. With an output folder,
``disagreements.jsonl`` lists every item on which a model's label differs from the first model's, with the gold
label and each model's label and probabilities."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from model.predictor import StancePredictor
from model.types import TaskSpec
from training.data import load_evaluation_data
from training.evaluate import evaluate_rows
from training.metrics import bootstrap_f1

MIN_RESAMPLES = 100


def common_tasks(predictors: list[tuple[str, StancePredictor]]) -> list[TaskSpec]:
    """The tasks every model has (the first model's specs), in the first model's order; label sets must match."""
    base_dir, base = predictors[0]
    common = []
    for task in base.tasks:
        specs = [(d, {t.name: t for t in p.tasks}.get(task.name)) for d, p in predictors[1:]]
        if any(spec is None for _, spec in specs):
            continue
        for directory, spec in specs:
            assert spec is not None
            if set(spec.labels) != set(task.labels):
                raise ValueError(
                    f"{directory}: task {task.name!r} labels differ from {base_dir}: {list(spec.labels)} vs "
                    f"{list(task.labels)}; not comparable"
                )
        common.append(task)
    if not common:
        names = "; ".join(f"{d}: {[t.name for t in p.tasks]}" for d, p in predictors)
        raise ValueError(f"the models have no task in common ({names}); not comparable")
    return common


def compare(
    model_dirs: list[str], data_files: list[str], output: str | None = None, resamples: int = 1000, seed: int = 0
) -> dict[str, Any]:
    """Every model on the same rows: for each task all the models have, the rows labelled for that task."""
    if len(model_dirs) < 2:
        raise ValueError("compare needs two or more models")
    if resamples < MIN_RESAMPLES:
        raise ValueError(f"resamples must be at least {MIN_RESAMPLES}, got {resamples}")
    predictors = [(directory, StancePredictor.from_dir(directory)) for directory in model_dirs]
    tasks = common_tasks(predictors)
    data = load_evaluation_data(data_files, tasks)  # rows labelled for at least one common task, same for all
    if not data.rows:
        raise ValueError(
            f"no rows with labels for the tasks the models have in common {[t.name for t in tasks]} in "
            f"{', '.join(data_files)}"
        )
    runs = []
    for directory, predictor in predictors:
        metrics, predictions = evaluate_rows(predictor, data.rows)
        runs.append((directory, metrics, predictions))
    rng = np.random.default_rng(seed)
    report: dict[str, Any] = {"data": data_files, "models": model_dirs, "tasks": {}}
    base_metrics = runs[0][1]
    for task in tasks:
        rows = [i for i, r in enumerate(data.rows) if task.name in r.labels]
        if not rows:
            continue
        index = {label: i for i, label in enumerate(task.labels)}
        gold = np.array([index[data.rows[i].labels[task.name]] for i in rows])
        samples = rng.integers(0, len(rows), size=(resamples, len(rows)))
        base_pred = np.array([index[runs[0][2][i].tasks[task.name].label] for i in rows])
        base_boot = bootstrap_f1(gold, base_pred, len(task.labels), samples)
        entries = []
        for directory, metrics, predictions in runs:
            pred = np.array([index[predictions[i].tasks[task.name].label] for i in rows])
            boot = bootstrap_f1(gold, pred, len(task.labels), samples)
            diff = boot - base_boot
            m = metrics[task.name]
            entries.append({
                "model": directory, "n": m["n"], "macro_f1": m["macro_f1"], "accuracy": m["accuracy"],
                "f1_against_favor": m.get("f1_against_favor"),
                "macro_f1_ci95": [float(np.percentile(boot, 2.5)), float(np.percentile(boot, 97.5))],
                "difference_vs_first": float(m["macro_f1"] - base_metrics[task.name]["macro_f1"]),
                "difference_ci95": [float(np.percentile(diff, 2.5)), float(np.percentile(diff, 97.5))],
                "p_not_better": float((diff <= 0).mean()),
                "per_target": {t: v["macro_f1"] for t, v in m.get("per_target", {}).items()},
            })  # fmt: skip
        report["tasks"][task.name] = entries
    disagreements = list(_disagreements(data.rows, runs, tasks))
    report["disagreements"] = {t.name: sum(1 for d in disagreements if d["task"] == t.name) for t in tasks}
    if output:
        out = Path(output)
        out.mkdir(parents=True, exist_ok=True)
        (out / "compare.json").write_text(json.dumps(report, indent=2) + "\n")
        (out / "compare.md").write_text(render(report))
        with open(out / "disagreements.jsonl", "w", encoding="utf-8") as handle:
            for record in disagreements:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return report


def _disagreements(rows, runs, tasks):
    """One record per (item, task) on which some model's label differs from the first model's."""
    for i, row in enumerate(rows):
        for task in tasks:
            if task.name not in row.labels:
                continue
            labels = [predictions[i].tasks[task.name].label for _, _, predictions in runs]
            if len(set(labels)) > 1:
                yield {
                    "file": row.file, "line": row.line, "id": row.id, "task": task.name, "text": row.pair.text,
                    "target": row.pair.target, "gold": row.labels[task.name],
                    "models": [
                        {"model": directory, "label": predictions[i].tasks[task.name].label,
                         "probabilities": predictions[i].tasks[task.name].probabilities}
                        for directory, _, predictions in runs
                    ],
                }  # fmt: skip


COLUMNS = """Columns: `n` items labelled for the task; `macro-F1 (95% CI)` the model's macro-F1 and its
percentile-bootstrap interval over the items (how much it could move on another set of the same size and kind);
`accuracy`; `difference vs first (95% CI)` the model's macro-F1 minus the first model's, with a paired bootstrap
interval (both models scored on the same resamples: an interval that excludes 0 is a difference this data can
resolve); `P(not better)` the share of resamples on which the model did not beat the first (near 0: better; near 1:
not better; the first model: 1). `disagreements.jsonl` (with `--output`) lists the items on which the models' labels
differ."""


def render(report: dict[str, Any]) -> str:
    lines = ["# Model comparison", "", "Data: " + ", ".join(f"`{d}`" for d in report["data"]), "", COLUMNS, ""]
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
        if "disagreements" in report:
            lines += ["", f"Items on which the models' labels differ: {report['disagreements'].get(task, 0)}"]
        lines.append("")
    return "\n".join(lines)
