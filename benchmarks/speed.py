"""Prediction speed of each backend against a plain Hugging Face pipeline (`make bench-speed`; not a test).

The baseline, measured in the same run on the same pairs: `transformers.pipeline("text-classification")` with the
same base encoder (a fresh classification head: only its speed matters), sentence and target as a text pair, batch
32. Then `StancePredictor` with each backend this machine supports (model/backends.py), batch 32, and `auto` (the
backend `stance export` chose) in its default batching: length-sorted batches under a token budget
(model/batching.py). Each figure is pairs a second and its ratio to the baseline; each backend's stance
macro-F1 on the same pairs stands beside its speed, and whether its check against float32 passed (a backend that
failed is never used by `auto`). The pairs are NewsMTSC dev-rw (a dev set: no test set is read).

    python -m benchmarks.speed --model models/default [--update-readme README.md]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from datetime import UTC, datetime
from pathlib import Path

import torch

from benchmarks.tables import replace_block, write_report

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data/newsmtsc/dev_rw.jsonl"
START, END = "<!-- speed-bench:start -->", "<!-- speed-bench:end -->"
ROUNDS = 3  # each measurement repeated, alternating; the fastest counts (the machine is shared and noisy)


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="models/default")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--output", default=str(REPO / "benchmarks/results/speed.json"))
    parser.add_argument("--update-readme", metavar="README")
    args = parser.parse_args()

    from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

    from model.backends import BACKENDS, ONNX_FILES, machine_kind, onnx_file, read_checks, supported
    from model.base import resolve_base_model
    from model.predictor import StancePredictor
    from training.data import load_evaluation_data
    from training.metrics import macro_f1

    reference = StancePredictor.from_dir(args.model, backend="torch-fp32")
    stance = reference.project.task("stance")
    rows = [r for r in load_evaluation_data([str(DATA)], reference.tasks).rows if "stance" in r.labels]
    pairs = [r.pair for r in rows]
    gold = [stance.labels.index(r.labels["stance"]) for r in rows]

    base = resolve_base_model(reference.project.base_model)
    classifier = pipeline(
        "text-classification",
        model=AutoModelForSequenceClassification.from_pretrained(base, num_labels=3),
        tokenizer=AutoTokenizer.from_pretrained(base),
        device=-1,
    )
    inputs = [{"text": p.text, "text_pair": p.target or ""} for p in pairs]

    def run_baseline() -> None:
        classifier(inputs, batch_size=args.batch_size, truncation=True)

    runners: dict[str, tuple[StancePredictor | None, int | None]] = {"pipeline (baseline)": (None, None)}
    for backend in BACKENDS:
        exported = backend not in ONNX_FILES or onnx_file(args.model, backend).is_file()  # `stance export`
        if supported(backend, reference.device) and exported:
            runners[backend] = (reference.with_backend(backend, args.model), args.batch_size)
    auto = StancePredictor.from_dir(args.model)
    runners[f"auto ({auto.backend}), {auto.max_tokens}-token batches"] = (auto, None)
    seconds: dict[str, float] = {}
    f1: dict[str, float] = {}
    for _ in range(ROUNDS):
        for name, (predictor, batch_size) in runners.items():
            started = time.perf_counter()
            if predictor is None:
                run_baseline()
            else:
                predictions = predictor.predict(pairs, batch_size=batch_size, kinds=("pair",))
            took = time.perf_counter() - started
            seconds[name] = min(seconds.get(name, took), took)
            if predictor is not None:
                predicted = [stance.labels.index(p.tasks["stance"].label) for p in predictions]
                f1[name] = macro_f1(gold, predicted, len(stance.labels))
    baseline = len(pairs) / seconds["pipeline (baseline)"]
    here = machine_kind(reference.device)
    checked = {c.backend: c for c in read_checks(args.model) if c.machine == here}
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "model": args.model,
        "cpu": cpu_name(),
        "machine": machine_kind(reference.device),
        "torch_threads": torch.get_num_threads(),
        "pairs": len(pairs),
        "batch_size": args.batch_size,
        "auto": auto.backend,
        "rows": [
            {
                "name": name,
                "pairs_per_second": round(len(pairs) / s, 1),
                "ratio": round(len(pairs) / s / baseline, 2),
                "stance_macro_f1": round(f1[name], 4) if name in f1 else None,
                "check": check_of(runners[name][0], checked),
            }
            for name, s in seconds.items()
        ],
    }
    write_report(args.output, report)
    print(json.dumps(report, indent=2))
    if args.update_readme:
        replace_block(args.update_readme, START, END, render(report))


def check_of(predictor, checked: dict) -> str | None:
    """How a predictor's backend fared in `stance export`'s check on this kind of machine."""
    if predictor is None:
        return None
    if predictor.backend == "torch-fp32":
        return "reference"
    check = checked.get(predictor.backend)
    if check is None:
        return None
    return "passed" if check.passed else f"failed ({check.agreement:.1%} labels agree)"


def render(report: dict) -> str:
    lines = [
        START,
        f"Measured {report['date'][:10]} with `make bench-speed` on {report['cpu']} ({report['torch_threads']} "
        f"torch threads), {report['pairs']} NewsMTSC dev pairs, batch {report['batch_size']} unless the row says "
        f"otherwise; `auto` runs {report['auto']} here:",
        "",
        "| how | pairs/s | vs pipeline | stance macro-F1 | check against float32 |",
        "|---|---|---|---|---|",
    ]
    for row in report["rows"]:
        f1 = "(fresh head)" if row["stance_macro_f1"] is None else f"{row['stance_macro_f1']:.4f}"
        check = row.get("check") or "-"
        lines.append(f"| {row['name']} | {row['pairs_per_second']:.0f} | {row['ratio']:.2f}x | {f1} | {check} |")
    lines.append(END)
    return "\n".join(lines)


if __name__ == "__main__":
    main()
