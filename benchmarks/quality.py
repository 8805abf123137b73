"""Quality of a model on the held-out test sets, against published scores (`make bench-quality`).

Writes benchmarks/results/quality.json and, with --update-readme, the table between the quality markers in the
README, together with the command that produced it.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from model.predictor import StancePredictor  # noqa: E402
from training.data import load_evaluation_data  # noqa: E402
from training.evaluate import evaluate_rows  # noqa: E402
from training.metrics import bootstrap_f1_interval  # noqa: E402

# (name, file, task, metric, published reference)
SUITES = [
    ("NewsMTSC test-rw", "data/newsmtsc/test_rw.jsonl", "stance", "macro_f1",
     "BERT-base 0.801, RoBERTa-base 0.811, GRU-TSC 0.831"),
    ("NewsMTSC test-mt", "data/newsmtsc/test_mt.jsonl", "stance", "macro_f1", "BERT-base 0.737, GRU-TSC 0.825"),
    ("TweetEval stance test (5 targets pooled)", "data/tweeteval_stance/test.jsonl", "stance", "f1_against_favor",
     "RoBERTa-base 0.680, BERTweet 0.712"),
    ("FA-KES in-domain test (Syrian-war news, 4 actors)", "data/fakes_stance/test.jsonl", "stance", "macro_f1",
     "(our set; before in-domain labels: see README)"),
    ("FA-KES in-domain test, sentence sentiment", "data/fakes_stance/test.jsonl", "sentiment", "macro_f1",
     "(our set)"),
    ("TweetEval sentiment, held-out 1,935 tweets", "data/tweeteval_sentiment/test.jsonl", "sentiment", "macro_f1",
     "(our split of the official test set; not comparable)"),
]  # fmt: skip
METRIC_NAMES = {"macro_f1": "macro-F1", "f1_against_favor": "F1 against+favor"}
START, END = "<!-- quality:start -->", "<!-- quality:end -->"


def run(model_dir: str) -> dict:
    predictor = StancePredictor.from_dir(model_dir)
    results = []
    for name, path, task, metric, published in SUITES:
        if task not in {t.name for t in predictor.tasks} or not (REPO / path).is_file():
            continue
        data = load_evaluation_data([str(REPO / path)], predictor.tasks)
        started = time.perf_counter()
        all_metrics, predictions = evaluate_rows(predictor, data.rows)
        metrics = all_metrics[task]
        seconds = time.perf_counter() - started
        ci95 = score_interval(predictor, task, metric, data.rows, predictions)
        results.append(
            {
                "set": name,
                "file": path,
                "task": task,
                "metric": metric,
                "score": metrics[metric],
                "score_ci95": ci95,
                "macro_f1": metrics["macro_f1"],
                "accuracy": metrics["accuracy"],
                "n": metrics["n"],
                "published": published,
                "pairs_per_second": metrics["n"] / seconds,
                "per_target": {t: v["macro_f1"] for t, v in metrics["per_target"].items()} if "fakes" in path else {},
                "per_target_n": {t: v["n"] for t, v in metrics["per_target"].items()} if "fakes" in path else {},
            }
        )
        print(
            f"{name}: {METRIC_NAMES[metric]} {metrics[metric]:.3f} (95% CI {ci95[0]:.3f}-{ci95[1]:.3f}; "
            f"n={metrics['n']}, {seconds:.1f} s)"
        )
        if results[-1]["per_target"]:
            print("  per actor: " + ", ".join(f"{t} {v:.3f}" for t, v in results[-1]["per_target"].items()))
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


def table(report: dict, command: str) -> str:
    lines = [
        START,
        f"Measured {report['date'][:10]} with `{command}` (model weights `{report['weights_sha256'][:12]}`):",
        "",
        "| test set | task | metric | ours | 95% CI (test items resampled) | accuracy | n | published |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in report["results"]:
        lines.append(
            f"| {r['set']} | {r['task']} | {METRIC_NAMES[r['metric']]} | **{r['score']:.3f}** "
            f"| {_interval(r.get('score_ci95'))} | {r['accuracy']:.3f} | {r['n']} | {r['published']} |"
        )
    for r in report["results"]:
        if r["per_target"]:
            per = ", ".join(f"{t} {v:.3f} (n={r['per_target_n'][t]})" for t, v in r["per_target"].items())
            lines.append(f"\n{r['set']}, {r['task']} macro-F1 per actor: {per}.")
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
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(report, indent=2) + "\n")
    if args.update_readme:
        readme = Path(args.update_readme)
        text = readme.read_text()
        if START not in text or END not in text:
            sys.exit(f"{readme}: no {START} ... {END} markers to replace")
        before, rest = text.split(START, 1)
        after = rest.split(END, 1)[1]
        readme.write_text(before + table(report, "make bench-quality") + after)
        print(f"table written to {readme}")


if __name__ == "__main__":
    main()
