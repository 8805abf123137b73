"""`stance evaluate`: per-task metrics, per-actor scores with intervals and the actor-balanced mean, calibration
(ECE, reliability diagrams), a per-target breakdown, a Markdown report and confusion-matrix charts."""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from model.predictor import StancePredictor
from model.types import Prediction
from training.breakdown import actor_breakdown
from training.data import load_evaluation_data
from training.metrics import (
    bootstrap_intervals,
    calibration_bins,
    classification_report,
    expected_calibration_error,
)
from training.rows import LabelledRow

ECE_BINS = 15


def default_actors() -> list[str]:
    from model.actors import ActorRegistry

    return list(ActorRegistry.default().names)


def evaluate_rows(
    predictor: StancePredictor,
    rows: Sequence[LabelledRow],
    batch_size: int | None = None,
    actors: Sequence[str] | None = None,
    resamples: int = 1000,
) -> tuple[dict[str, Any], list[Prediction]]:
    """Metrics for every model task that has gold labels in ``rows``, plus the predictions themselves.

    Each task's report has ``calibration`` (ECE over 15 confidence bins) and, for pair tasks whose targets include
    any of ``actors`` (default: the default actor registry's), ``actors``: each actor's macro-F1 with a bootstrap
    95 % interval and per-class recall, and the actor-balanced mean (`training.breakdown`)."""
    actors = default_actors() if actors is None else list(actors)
    predictions = predictor.predict([r.pair for r in rows], batch_size=batch_size)
    metrics: dict[str, Any] = {}
    for task in predictor.tasks:
        index = {label: i for i, label in enumerate(task.labels)}
        scored = [(r, p) for r, p in zip(rows, predictions, strict=True) if task.name in r.labels]
        if not scored:
            continue
        gold = [index[r.labels[task.name]] for r, _ in scored]
        pred = [index[p.tasks[task.name].label] for _, p in scored]
        report = classification_report(gold, pred, task.labels)
        by_target: dict[str, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
        for (row, _), g, q in zip(scored, gold, pred, strict=True):
            if row.pair.target:
                by_target[row.pair.target][0].append(g)
                by_target[row.pair.target][1].append(q)
        report["per_target"] = {}
        for target, (target_gold, target_pred) in sorted(by_target.items(), key=lambda kv: -len(kv[1][0])):
            sub = classification_report(target_gold, target_pred, task.labels)
            entry = {"n": sub["n"], "macro_f1": sub["macro_f1"], "accuracy": sub["accuracy"]}
            if "f1_against_favor" in sub:
                entry["f1_against_favor"] = sub["f1_against_favor"]
            report["per_target"][target] = entry
        confidence = [p.tasks[task.name].probabilities[p.tasks[task.name].label] for _, p in scored]
        correct = [g == q for g, q in zip(gold, pred, strict=True)]
        report["ci95"] = bootstrap_intervals(gold, pred, task.labels, confidence, resamples=resamples)
        report["calibration"] = {
            "ece": expected_calibration_error(confidence, correct, ECE_BINS),
            "mean_confidence": float(sum(confidence) / len(confidence)),
            "bins": calibration_bins(confidence, correct, ECE_BINS),
            "temperature": predictor.project.calibration[task.name].temperature
            if task.name in predictor.project.calibration
            else None,
        }
        if task.input == "pair" and actors:
            breakdown = actor_breakdown(
                gold, pred, [r.pair.target for r, _ in scored], task.labels, actors, resamples=resamples
            )
            if breakdown is not None:
                report["actors"] = breakdown
        metrics[task.name] = report
    return metrics, predictions


def evaluate_model(
    model_dir: str | os.PathLike,
    data_files: Sequence[str],
    output_dir: str | os.PathLike | None = None,
    batch_size: int | None = None,
    per_target_limit: int = 30,
    actors: Sequence[str] | None = None,
    backend: str = "auto",
    max_tokens: int | None = None,
) -> dict[str, Any]:
    """Evaluate a model directory on labelled files (with the backend it would be served with, ``auto``, unless
    told otherwise); write metrics.json, report.md, PNGs and predictions."""
    predictor = StancePredictor.from_dir(model_dir, backend=backend, max_tokens=max_tokens)
    data = load_evaluation_data(data_files, predictor.tasks)
    if not data.rows:
        raise ValueError(f"no rows with labels for the model's tasks {[t.name for t in predictor.tasks]}")
    metrics, predictions = evaluate_rows(predictor, data.rows, batch_size=batch_size, actors=actors)
    if output_dir is not None:
        out = Path(output_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
        (out / "report.md").write_text(render_report(metrics, model_dir, data_files, per_target_limit))
        for task, report in metrics.items():
            plot_confusion(
                report["confusion_matrix"], f"{task} ({Path(model_dir).name})", out / f"confusion_{task}.png"
            )
            plot_reliability(report["calibration"], f"{task} ({Path(model_dir).name})", out / f"reliability_{task}.png")
        with open(out / "predictions.jsonl", "w", encoding="utf-8") as handle:
            for row, pred in zip(data.rows, predictions, strict=True):
                record = {
                    "file": row.file,
                    "line": row.line,
                    "id": row.id,
                    "text": row.pair.text,
                    "target": row.pair.target,
                    "gold": row.labels,
                    "predicted": {t: p.label for t, p in pred.tasks.items()},
                    "probabilities": {t: p.probabilities for t, p in pred.tasks.items()},
                }
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return metrics


def render_report(
    metrics: dict[str, Any], model_dir: Any, data_files: Sequence[str], per_target_limit: int = 30
) -> str:
    lines = [f"# Evaluation of `{model_dir}`", "", "Data: " + ", ".join(f"`{f}`" for f in data_files), ""]
    lines += [
        "Intervals are 95 % percentile-bootstrap intervals over the items (1,000 resamples): how much a figure could",
        "move on another test set of the same size and kind, not how much it varies between training runs.",
        "",
    ]
    for task, report in metrics.items():
        over = report.get("macro_f1_labels")
        over = f" (over {', '.join(over)}: the labels in gold or predictions)" if over is not None else ""
        ci = {name: f" (95% CI {lo:.3f}-{hi:.3f})" for name, (lo, hi) in report.get("ci95", {}).items()}
        lines += [f"## {task}", "", f"- n = {report['n']}"]
        lines.append(f"- macro-F1 = {report['macro_f1']:.3f}{ci.get('macro_f1', '')}{over}")
        lines.append(f"- accuracy = {report['accuracy']:.3f}{ci.get('accuracy', '')}")
        if "f1_against_favor" in report:
            lines.append(f"- F1 over against+favor = {report['f1_against_favor']:.3f}{ci.get('f1_against_favor', '')}")
        if "calibration" in report:
            cal = report["calibration"]
            temperature = f"; temperature {cal['temperature']:.3f}" if cal.get("temperature") else ""
            lines.append(
                f"- calibration: ECE {cal['ece']:.3f}{ci.get('ece', '')} over {ECE_BINS} bins, mean confidence "
                f"{cal['mean_confidence']:.3f} against accuracy {report['accuracy']:.3f}{temperature} "
                f"(reliability_{task}.png)"
            )
        if "actors" in report:
            lines += render_actors(report["actors"])
        lines += ["", "| label | precision | recall | F1 | support |", "|---|---|---|---|---|"]
        for label, c in report["per_class"].items():
            lines.append(f"| {label} | {c['precision']:.3f} | {c['recall']:.3f} | {c['f1']:.3f} | {c['support']} |")
        labels = report["confusion_matrix"]["labels"]
        lines += [
            "",
            "Confusion (rows gold, columns predicted):",
            "",
            "| gold \\ predicted | " + " | ".join(labels) + " |",
        ]
        lines.append("|---" * (len(labels) + 1) + "|")
        for label, row in zip(labels, report["confusion_matrix"]["matrix"], strict=True):
            lines.append(f"| {label} | " + " | ".join(str(v) for v in row) + " |")
        if report.get("per_target"):
            lines += ["", "Per target:", "", "| target | n | macro-F1 | accuracy |", "|---|---|---|---|"]
            for target, t in list(report["per_target"].items())[:per_target_limit]:
                lines.append(f"| {target} | {t['n']} | {t['macro_f1']:.3f} | {t['accuracy']:.3f} |")
            hidden = len(report["per_target"]) - per_target_limit
            if hidden > 0:
                lines.append(f"\n({hidden} more targets in metrics.json)")
        lines.append("")
    return "\n".join(lines)


def render_actors(block: dict[str, Any]) -> list[str]:
    """The per-actor table: what the headline reads first."""
    ci = block["balanced_macro_f1_ci95"]
    labels = list(block["balanced_recall"])
    lines = [
        "",
        f"**Actor-balanced macro-F1 = {block['balanced_macro_f1']:.3f}** (95 % CI {ci[0]:.3f}-{ci[1]:.3f}; the mean "
        f"of the {len(block['actors'])} actors' macro-F1)",
        "",
        "| actor | n | macro-F1 (95 % CI) | " + " | ".join(f"recall {label}" for label in labels) + " |",
        "|---|---|---|" + "---|" * len(labels),
    ]
    for actor, a in block["per_actor"].items():
        low, high = a["macro_f1_ci95"]
        recalls = " | ".join(
            f"{a['recall'][label]:.2f} ({a['support'][label]})" if label in a["recall"] else "-" for label in labels
        )
        lines.append(f"| {actor} | {a['n']} | {a['macro_f1']:.3f} ({low:.3f}-{high:.3f}) | {recalls} |")
    lines.append(
        "| balanced mean | | "
        + f"{block['balanced_macro_f1']:.3f} ({ci[0]:.3f}-{ci[1]:.3f}) | "
        + " | ".join(f"{block['balanced_recall'][label]:.2f}" for label in labels)
        + " |"
    )
    return lines


def plot_reliability(calibration: dict[str, Any], title: str, path: str | os.PathLike) -> None:
    """Accuracy against confidence per bin (bar width = bin), the diagonal, and the item count per bin."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bins = calibration["bins"]
    fig, ax = plt.subplots(figsize=(4.6, 4.4))
    for b in bins:
        if b["n"]:
            width = b["high"] - b["low"]
            ax.bar(b["low"], b["accuracy"], width=width, align="edge", color="#4c78a8", edgecolor="white")
            ax.bar(b["low"], b["confidence"] - b["accuracy"], bottom=b["accuracy"], width=width, align="edge",
                   color="#e45756", alpha=0.35, edgecolor="none")  # fmt: skip
    ax.plot([0, 1], [0, 1], color="black", linewidth=1, linestyle="--")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence (probability of the predicted label)")
    ax.set_ylabel("accuracy")
    ax.set_title(f"{title}\nECE {calibration['ece']:.3f} ({len(bins)} bins)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_confusion(confusion: dict[str, Any], title: str, path: str | os.PathLike) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    labels, matrix = confusion["labels"], np.asarray(confusion["matrix"])
    fig, ax = plt.subplots(figsize=(1.2 * len(labels) + 2, 1.1 * len(labels) + 1.5))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(title)
    top = matrix.max() if matrix.size else 0
    for i in range(len(labels)):
        for j in range(len(labels)):
            color = "white" if matrix[i, j] > top / 2 else "black"
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center", color=color)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
