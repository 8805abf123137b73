"""Teacher labels for unlabelled pairs (scripts/unlabelled_pairs.py), then students that learn from them.

Trains one teacher per variant on all the training rows of a config (all-mpnet-base-v2 in practice), has each
label the unlabelled pairs, and writes the mean of their stance probabilities as two files: a training file whose
``stance`` is the teachers' most probable label (``label_source: teacher``), and the soft labels keyed as
``stance soft-labels`` keys them. Then, with the time left before the deadline, trains students (`stance train`
with the given overrides, several seeds) and scores them on dev and test like experiments/gpu_grid.py. Meant for a
lent GPU machine; a teacher takes hours on a 2-core CPU.

    python -m scripts.unlabelled_pairs --output cand.jsonl --per-source 100000      # every candidate pair
    python -m experiments.teacher_unlabelled --pairs cand.jsonl --out OUT \
        --int8-base P1 P2 P3 --teacher A "OVERRIDES" B "OVERRIDES" \
        [--student-subset SUBSET --student NAME "OVERRIDES" ... --seeds 42 1 2 --deadline 560]

The bundled data/distill/teacher_pairs*.jsonl came from the teachers A ``--batch-size 32 --learning-rate 5e-5
--layer-lr-decay 0.9 --evals-per-epoch 1 --eval-batch-size 128`` and B (the same with ``--learning-rate 3e-5
--layer-lr-decay 1``). Their base was shrunk as ``python -m experiments.shrink_base --base models/teacher-base
--int8 all --parts 3`` does; that run also zeroed the word-embedding rows of tokens that occur in no bundled text,
which no input read. The students got the subset of ``scripts/unlabelled_pairs.py`` with its default 1,500 pairs a
source (experiments/EXPERIMENTS.md).

In a student's overrides, ``{soft}`` stands for the soft-label file written, and a ``+pairs`` argument (removed)
adds the teacher-labelled training file to the config's training files.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

PROBES = "benchmarks/probes/accusations.jsonl"


def read_pairs(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def row_for(entry: dict, labels: dict, file: str, line: int):
    from model.types import Pair, Span
    from training.rows import LabelledRow

    span = (Span(entry["mention_start"], entry["mention_end"]),)
    return LabelledRow(Pair(entry["text"], entry["target"], span), labels, entry.get("id"), file, line)


def label_pairs(model_dir: Path, pairs_file: Path, probs_out: Path) -> dict:
    """The teacher's stance probabilities for every pair (one JSON list per line), and its scores."""
    from model.predictor import StancePredictor
    from training.dev_score import score

    predictor = StancePredictor.from_dir(model_dir)
    entries = read_pairs(pairs_file)
    rows = [row_for(e, {}, str(pairs_file), i + 1) for i, e in enumerate(entries)]
    predictions = predictor.predict([r.pair for r in rows], batch_size=128)
    with open(probs_out, "w") as handle:
        for p in predictions:
            handle.write(json.dumps(p.tasks["stance"].probabilities) + "\n")
    scores = score(model_dir, predictor)
    from training.data import load_evaluation_data
    from training.evaluate import evaluate_rows

    probes = load_evaluation_data([str(REPO / PROBES)], predictor.tasks)
    scores["probes"] = round(evaluate_rows(predictor, probes.rows)[0]["stance"]["accuracy"], 4)
    return scores


def merge(pairs_file: Path, prob_files: list[Path], train_out: Path, soft_out: Path) -> int:
    """Mean of the teachers' probabilities: a training file (argmax label) and its soft labels."""
    entries = read_pairs(pairs_file)
    per_teacher = [[json.loads(line) for line in p.read_text().splitlines()] for p in prob_files]
    with open(train_out, "w") as train, open(soft_out, "w") as soft:
        for i, entry in enumerate(entries):
            mean = {k: sum(t[i][k] for t in per_teacher) / len(per_teacher) for k in per_teacher[0][i]}
            label = max(mean, key=mean.__getitem__)
            out = {**entry, "stance": label, "label_source": "teacher"}
            train.write(json.dumps(out, ensure_ascii=False) + "\n")
            key = row_for(entry, {"stance": label}, str(train_out), i + 1).digest
            probs = {k: round(v, 5) for k, v in mean.items()}
            entry_out = {"key": key, "text": entry["text"], "target": entry["target"], "stance": probs}
            soft.write(json.dumps(entry_out) + "\n")
    return len(entries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default=str(REPO / "configs/default.yaml"))
    parser.add_argument("--pairs")
    parser.add_argument("--out")
    parser.add_argument("--work", default="/tmp/teacher_unlabelled")
    parser.add_argument("--base", default="default")
    parser.add_argument("--int8-base", nargs="+")
    parser.add_argument("--teacher", nargs="+", help="pairs of NAME and 'stance train overrides'")
    parser.add_argument("--student-subset", help="a pairs file: students get only the labelled pairs with its ids")
    parser.add_argument("--student", nargs="+", help="pairs of NAME and 'stance train overrides'")
    parser.add_argument("--seeds", nargs="+", type=int, default=[42, 1, 2])
    parser.add_argument("--deadline", type=float, default=560)
    parser.add_argument("--workers", type=int, default=12)
    parser.add_argument("--label", nargs=3, help=argparse.SUPPRESS)  # internal: MODEL PAIRS PROBS_OUT
    args = parser.parse_args()
    if args.label:
        print(json.dumps(label_pairs(Path(args.label[0]), Path(args.label[1]), Path(args.label[2]))))
        return
    if not (args.pairs and args.out and args.teacher):
        parser.error("--pairs, --out and --teacher are required")

    from experiments.gpu_grid import RUNS, Job, parse_variants, run_jobs, start_run

    start = time.monotonic()
    out, work = Path(args.out), Path(args.work)
    log, base = start_run(out, work, args.base, args.int8_base)
    pairs = Path(args.pairs).resolve()
    jobs, prob_files = [], []
    for name, overrides in parse_variants(args.teacher):
        model_dir, probs, scores = work / f"teacher-{name}", work / f"teacher-{name}.probs", work / f"{name}.json"
        train = [sys.executable, "-m", "stance_cli.main", "train", "--config", args.config, "--base-model", base,
                 "--output-dir", str(model_dir), "--no-progress", "--threads", "1", *overrides]  # fmt: skip
        label = [sys.executable, "-m", "experiments.teacher_unlabelled", "--label", str(model_dir),
                 str(pairs), str(probs)]  # fmt: skip
        shell = f"{shlex.join(train)} && {shlex.join(label)} > {scores}"
        jobs.append(Job(f"teacher {name}", {"teacher": name, "args": overrides}, shell, model_dir, scores))
        prob_files.append(probs)
    run_jobs(jobs, out, args.deadline, args.workers, log, first_guess=0.6)
    done = [p for p in prob_files if p.exists()]
    if not done:
        log("no teacher finished")
        return
    train_out, soft_out = out / "teacher_pairs.jsonl", out / "teacher_pairs_soft.jsonl"
    n = merge(pairs, done, train_out, soft_out)
    log(f"wrote {train_out} and {soft_out}: {n} pairs, the mean of {len(done)} teachers")
    if not args.student:
        return
    RUNS.mkdir(parents=True, exist_ok=True)
    left = args.deadline - (time.monotonic() - start)
    import yaml

    from training.config import load_config_file

    student_pairs = train_out
    if args.student_subset:
        ids = {e["id"] for e in read_pairs(Path(args.student_subset))}
        student_pairs = out / "teacher_pairs_subset.jsonl"
        kept = [line for line in train_out.read_text().splitlines(keepends=True) if json.loads(line)["id"] in ids]
        student_pairs.write_text("".join(kept))
        log(f"students: {len(kept)} of the labelled pairs")
    raw = load_config_file(args.config)
    with_pairs = work / "with_pairs.yaml"
    with_pairs.write_text(yaml.safe_dump({**raw, "train_files": [*raw["train_files"], str(student_pairs)]}))
    students = []
    for seed in args.seeds:
        for name, overrides in parse_variants(args.student):
            config = str(with_pairs) if "+pairs" in overrides else args.config
            overrides = [o.replace("{soft}", str(soft_out)) for o in overrides if o != "+pairs"]
            model_dir, scores = RUNS / f"{name}-s{seed}", RUNS / f"{name}-s{seed}.json"
            train = [sys.executable, "-m", "stance_cli.main", "train", "--config", config,
                     "--output-dir", str(model_dir), "--seed", str(seed), "--no-progress", "--threads", "1",
                     *overrides]  # fmt: skip
            then_score = [sys.executable, "-m", "experiments.gpu_grid", "--score", str(model_dir)]
            shell = f"{shlex.join(train)} && {shlex.join(then_score)} > {scores}"
            students.append(Job(f"{name} seed {seed}", {"config": name, "seed": seed}, shell, model_dir, scores))
    log(f"students: {len(students)} runs, {left:.0f} s left")
    run_jobs(students, out, left, args.workers, log, first_guess=0.95)
    log("finished")


if __name__ == "__main__":
    main()
