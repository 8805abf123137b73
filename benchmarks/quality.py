"""Quality of a model on the held-out test sets, against published scores (`make bench-quality`).

Writes benchmarks/results/quality.json and, with --update-readme, the table between the quality markers in the
README, together with the command that produced it.
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.tables import replace_block, write_report
from model.predictor import StancePredictor
from training.data import load_evaluation_data
from training.evaluate import evaluate_rows
from training.metrics import bootstrap_f1_interval

REPO = Path(__file__).resolve().parents[1]

# (name, file, task, metric, published reference)
SUITES = [
    ("NewsMTSC test-rw", "data/newsmtsc/test_rw.jsonl", "stance", "macro_f1",
     "BERT-base 0.801, RoBERTa-base 0.811, GRU-TSC 0.831"),
    ("NewsMTSC test-mt", "data/newsmtsc/test_mt.jsonl", "stance", "macro_f1", "BERT-base 0.737, GRU-TSC 0.825"),
    ("TweetEval stance test (5 targets pooled)", "data/tweeteval_stance/test.jsonl", "stance", "f1_against_favor",
     "RoBERTa-base 0.680, BERTweet 0.712"),
    ("FA-KES actor-balanced test (82 pairs per actor)", "data/fakes_stance/test_balanced.jsonl", "stance",
     "actor_balanced", "(our set; mean of the 4 actors' macro-F1)"),
    ("FA-KES actor-balanced test, pooled", "data/fakes_stance/test_balanced.jsonl", "stance", "macro_f1",
     "(our set)"),
    ("FA-KES random test (Syrian-war news, natural mix)", "data/fakes_stance/test.jsonl", "stance", "macro_f1",
     "(our set; 72 % Syria)"),
    ("FA-KES in-domain test, sentence sentiment", "data/fakes_stance/test.jsonl", "sentiment", "macro_f1",
     "(our set)"),
    ("TweetEval sentiment, held-out 1,935 tweets", "data/tweeteval_sentiment/test.jsonl", "sentiment", "macro_f1",
     "(our split of the official test set; not comparable)"),
]  # fmt: skip
METRIC_NAMES = {
    "macro_f1": "macro-F1",
    "f1_against_favor": "F1 against+favor",
    "actor_balanced": "actor-balanced macro-F1",
}
LABELS = ("against", "neutral", "favor")
START, END = "<!-- quality:start -->", "<!-- quality:end -->"


def run(model_dir: str) -> dict:
    predictor = StancePredictor.from_dir(model_dir)
    # The same network without the calibration stored in the model directory: what calibration changed.
    uncalibrated = StancePredictor(
        predictor.network, predictor.tokenizer, dataclasses.replace(predictor.project, calibration={})
    )
    results = []
    for name, path, task, metric, published in SUITES:
        if task not in {t.name for t in predictor.tasks} or not (REPO / path).is_file():
            continue
        data = load_evaluation_data([str(REPO / path)], predictor.tasks)
        started = time.perf_counter()
        all_metrics, predictions = evaluate_rows(predictor, data.rows)
        metrics = all_metrics[task]
        seconds = time.perf_counter() - started
        raw = evaluate_rows(uncalibrated, data.rows, resamples=1)[0][task] if predictor.project.calibration else metrics
        actors = metrics.get("actors")
        if metric == "actor_balanced":
            if actors is None:
                continue
            score, ci95 = actors["balanced_macro_f1"], [round(v, 4) for v in actors["balanced_macro_f1_ci95"]]
        else:
            score, ci95 = metrics[metric], score_interval(predictor, task, metric, data.rows, predictions)
        results.append(
            {
                "set": name,
                "file": path,
                "task": task,
                "metric": metric,
                "score": score,
                "score_ci95": ci95,
                "ece": metrics["calibration"]["ece"],
                "ece_uncalibrated": raw["calibration"]["ece"],
                "recall_uncalibrated": (raw.get("actors") or {}).get("balanced_recall"),
                "macro_f1_uncalibrated": raw["macro_f1"],
                "actors": actors,
                "macro_f1": metrics["macro_f1"],
                "accuracy": metrics["accuracy"],
                "n": metrics["n"],
                "published": published,
                "pairs_per_second": metrics["n"] / seconds,
            }
        )
        print(
            f"{name}: {METRIC_NAMES[metric]} {score:.3f} (95% CI {ci95[0]:.3f}-{ci95[1]:.3f}; "
            f"n={metrics['n']}, ECE {metrics['calibration']['ece']:.3f}, {seconds:.1f} s)"
        )
        if actors and metric != "actor_balanced":
            print("  per actor: " + ", ".join(f"{t} {a['macro_f1']:.3f}" for t, a in actors["per_actor"].items()))
    return {
        "model": model_dir,
        "weights_sha256": predictor.project.weights_sha256,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}",
        "results": results,
    }


def score_interval(predictor, task: str, metric: str, rows, predictions) -> list[float]:
    """The test score's 95 % bootstrap interval (1,000 resamples of the test items)."""
    labels = list(next(t for t in predictor.tasks if t.name == task).labels)
    labelled = [(r, p) for r, p in zip(rows, predictions, strict=True) if task in r.labels]
    gold = [labels.index(r.labels[task]) for r, _ in labelled]
    pred = [labels.index(p.tasks[task].label) for _, p in labelled]
    classes = [labels.index("against"), labels.index("favor")] if metric == "f1_against_favor" else None
    return [round(v, 4) for v in bootstrap_f1_interval(gold, pred, len(labels), classes)]


def actor_table(report: dict) -> list[str]:
    """In-domain stance per actor: the balanced test (the headline) beside the random test's natural mix."""
    by_file = {(r["file"], r["metric"]): r for r in report["results"] if r["task"] == "stance"}
    balanced = by_file.get(("data/fakes_stance/test_balanced.jsonl", "actor_balanced"))
    pooled = by_file.get(("data/fakes_stance/test_balanced.jsonl", "macro_f1"))
    natural = by_file.get(("data/fakes_stance/test.jsonl", "macro_f1"))
    if balanced is None:
        return []
    lines = [
        "In-domain stance per actor (Syrian-war news; macro-F1 with its 95 % bootstrap interval; recall per class "
        "with the number of gold items):",
        "",
        "| actor | balanced test: macro-F1 | recall against | recall neutral | recall favor | n | random test: "
        "macro-F1 | n |",
        "|---|---|---|---|---|---|---|---|",
    ]
    natural_actors = (natural or {}).get("actors") or {"per_actor": {}}
    for actor, a in balanced["actors"]["per_actor"].items():
        recall = " | ".join(
            f"{a['recall'][label]:.2f} ({a['support'][label]})" if label in a["recall"] else "-" for label in LABELS
        )
        other = natural_actors["per_actor"].get(actor)
        other_cell = (
            f"{other['macro_f1']:.3f} ({_interval(other['macro_f1_ci95'])}) | {other['n']}" if other else "- | 0"
        )
        lines.append(
            f"| {actor} | {a['macro_f1']:.3f} ({_interval(a['macro_f1_ci95'])}) | {recall} | {a['n']} | {other_cell} |"
        )
    block = balanced["actors"]
    mean_recall = " | ".join(f"{block['balanced_recall'].get(label, 0.0):.2f}" for label in LABELS)
    other_mean = (
        f"{natural_actors['balanced_macro_f1']:.3f} ({_interval(natural_actors['balanced_macro_f1_ci95'])}) | "
        f"{natural['n']}"
        if natural and natural.get("actors")
        else "- | -"
    )
    lines.append(
        f"| **actor-balanced mean** | **{block['balanced_macro_f1']:.3f}** ({_interval(balanced['score_ci95'])}) | "
        f"{mean_recall} | {balanced['n']} | {other_mean} |"
    )
    if pooled is not None:
        natural_cell = (
            f"{natural['score']:.3f} ({_interval(natural['score_ci95'])}) | {natural['n']}" if natural else ""
        )
        lines.append(
            f"| pooled over all pairs | {pooled['score']:.3f} ({_interval(pooled['score_ci95'])}) | | | | "
            f"{pooled['n']} | {natural_cell} |"
        )
    return [*lines, ""]


def table(report: dict, command: str) -> str:
    lines = [
        START,
        f"Measured {report['date'][:10]} with `{command}` (model weights `{report['weights_sha256'][:12]}`).",
        "",
        *actor_table(report),
        "Every test set (ECE: expected calibration error of the predicted label's probability, 15 bins, with the "
        "model's calibration and, in brackets, without it):",
        "",
        "| test set | task | metric | ours | 95% CI (test items resampled) | accuracy | ECE | n | published |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["results"]:
        ece = f"{r['ece']:.3f}"
        if r.get("ece_uncalibrated") is not None and r["ece_uncalibrated"] != r["ece"]:
            ece += f" ({r['ece_uncalibrated']:.3f})"
        lines.append(
            f"| {r['set']} | {r['task']} | {METRIC_NAMES[r['metric']]} | **{r['score']:.3f}** "
            f"| {_interval(r.get('score_ci95'))} | {r['accuracy']:.3f} | {ece} | {r['n']} | {r['published']} |"
        )
    lines.append(END)
    return "\n".join(lines)


def _interval(ci: list[float] | None) -> str:
    return f"{ci[0]:.3f} to {ci[1]:.3f}" if ci else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="models/default")
    parser.add_argument("--output", default=str(REPO / "benchmarks" / "results" / "quality.json"))
    parser.add_argument("--update-readme", metavar="README", help="rewrite the quality table in this file")
    args = parser.parse_args()
    report = run(args.model)
    write_report(args.output, report)
    if args.update_readme:
        replace_block(args.update_readme, START, END, table(report, "make bench-quality"))
        print(f"table written to {args.update_readme}")


if __name__ == "__main__":
    main()
