"""Out-of-fold soft labels from a larger teacher, for distilling it into the default model.

Splits the training rows of a config into K folds (by each row's input, so a row and its copies stay together),
trains one teacher per fold with `stance train` on the other folds, and labels each fold with the teacher that did
not see it (`training.distill.write_soft_labels`). Every teacher is also scored on the dev and test sets. Meant for
a GPU machine: with all-mpnet-base-v2 as the teacher, one fold takes minutes there and hours on a 2-core CPU.

    python -m experiments.teacher_folds --config configs/default.yaml --base DIR --folds 5 --out OUT \
        [--variant NAME "OVERRIDES" ...] [--deadline 480] [--workers 5] [--int8-base DIR ...]

Writes OUT/soft_<variant>.jsonl (every training row's soft labels, once all folds of the variant finished),
OUT/soft_mean.jsonl (the mean of the finished variants' soft labels, an ensemble teacher; ``--keep-tasks stance``
keeps only the stance probabilities), OUT/results.jsonl (one line per teacher: dev and test scores, seconds) and
OUT/log.txt.

``--int8-base DIR...``: the teacher's weights as int8 matrices with per-row scales, split over several folders (to
carry them within a transfer limit); they are put back together as float32 before training.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shlex
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def fold_of(key: str, folds: int) -> int:
    return int(hashlib.sha1(key.encode()).hexdigest(), 16) % folds


def write_folds(config_path: str, folds: int, work: Path) -> list[Path]:
    """Per fold: the training files without the fold (as config files) and the fold's rows (held out)."""
    import yaml

    from training.config import build_config, load_config_file
    from training.data import FileSpec, load_split

    config = build_config(config_path)
    raw = load_config_file(config_path)
    problems: list = []
    configs = []
    by_file = []
    for entry in config.train_files:
        spec = FileSpec.parse(entry)
        data = load_split([FileSpec(spec.path, spec.max_rows)], config.task_specs(), problems)
        lines = Path(spec.path).read_bytes().splitlines(keepends=True)
        by_file.append(
            (spec, [(fold_of(r.digest, folds), lines[r.line - 1].rstrip(b"\r\n") + b"\n") for r in data.rows])
        )
    if problems:
        raise SystemExit("\n".join(map(str, problems)))
    for k in range(folds):
        fold_dir = work / f"fold-{k}"
        (fold_dir / "train").mkdir(parents=True, exist_ok=True)
        (fold_dir / "heldout").mkdir(parents=True, exist_ok=True)
        train_files = []
        for i, (spec, rows) in enumerate(by_file):
            name = f"{i}-{Path(spec.path).name}"
            (fold_dir / "train" / name).write_bytes(b"".join(line for f, line in rows if f != k))
            (fold_dir / "heldout" / name).write_bytes(b"".join(line for f, line in rows if f == k))
            train_files.append({"path": str(fold_dir / "train" / name), "repeat": spec.repeat})
        cfg = {**raw, "train_files": train_files, "output_dir": str(fold_dir / "model")}
        (fold_dir / "config.yaml").write_text(yaml.safe_dump(cfg))
        configs.append(fold_dir)
    return configs


def label_fold(model_dir: Path, heldout: Path, soft_out: Path) -> dict:
    """Soft labels for the held-out rows, and the teacher's dev and test scores."""
    from model.predictor import StancePredictor
    from training.data import load_evaluation_data
    from training.dev_score import score
    from training.distill import write_soft_labels

    predictor = StancePredictor.from_dir(model_dir)
    data = load_evaluation_data(sorted(str(p) for p in heldout.iterdir()), predictor.tasks)
    written = write_soft_labels(predictor, data.rows, soft_out, batch_size=128)
    return {"soft_rows": written, **score(model_dir, predictor)}


def run(args: argparse.Namespace) -> None:
    from experiments.gpu_grid import Job, parse_variants, run_jobs, start_run

    out, work = Path(args.out), Path(args.work)
    log, base = start_run(out, work, args.base, args.int8_base)
    fold_dirs = write_folds(args.config, args.folds, work)
    log(f"wrote {args.folds} folds")
    variants = parse_variants(args.variant) or [("teacher", [])]
    jobs = []
    for name, overrides in variants:
        for k, fold in enumerate(fold_dirs):
            model_dir, soft = work / f"{name}-fold-{k}", work / f"{name}-fold-{k}.soft.jsonl"
            scores = work / f"{name}-fold-{k}.json"
            train = [sys.executable, "-m", "stance_cli.main", "train", "--config", str(fold / "config.yaml"),
                     "--base-model", base, "--output-dir", str(model_dir), "--no-progress", "--threads", "1",
                     *overrides]  # fmt: skip
            label = [sys.executable, "-m", "experiments.teacher_folds", "--label", str(model_dir),
                     str(fold / "heldout"), str(soft)]  # fmt: skip
            shell = f"{shlex.join(train)} && {shlex.join(label)} > {scores}"
            record = {"variant": name, "args": overrides, "fold": k}
            jobs.append(Job(f"{name} fold {k}", record, shell, model_dir, scores))
    finished: dict[str, int] = {}

    def merge_when_complete(job, record: dict) -> None:
        """Once every fold of a variant is labelled: its soft labels in one file."""
        name = record["variant"]
        if "scores" not in record:
            return
        finished[name] = finished.get(name, 0) + 1
        if finished[name] == args.folds:
            with open(out / f"soft_{name}.jsonl", "w") as merged:
                for k in range(args.folds):
                    merged.write((work / f"{name}-fold-{k}.soft.jsonl").read_text())
            log(f"wrote {out / f'soft_{name}.jsonl'}")

    run_jobs(jobs, out, args.deadline, args.workers, log, first_guess=0.5, on_done=merge_when_complete)
    done = [out / f"soft_{name}.jsonl" for name, _ in variants if finished.get(name) == args.folds]
    if len(done) > 1 or args.keep_tasks:
        from training.distill import average_soft_labels

        rows = average_soft_labels(done, out / "soft_mean.jsonl", args.keep_tasks)
        log(f"wrote {out / 'soft_mean.jsonl'}: the mean of {[p.name for p in done]}, {rows} rows")
    log("finished")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default=str(REPO / "configs/default.yaml"))
    parser.add_argument("--base", default="default", help="the teacher's base model (as for --base-model)")
    parser.add_argument("--int8-base", nargs="+", help="folders holding the teacher's base as int8 parts")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--variant", nargs="+", help="pairs of NAME and 'stance train overrides'")
    parser.add_argument("--out", help="folder for soft_<variant>.jsonl, results.jsonl and log.txt")
    parser.add_argument("--work", default="/tmp/teacher_folds", help="folder for folds, models and logs")
    parser.add_argument("--deadline", type=float, default=480, help="seconds; no run is left unfinished past it")
    parser.add_argument("--workers", type=int, default=5, help="runs at the same time")
    parser.add_argument("--keep-tasks", nargs="+", help="soft_mean.jsonl keeps only these tasks (e.g. stance)")
    parser.add_argument("--label", nargs=3, help=argparse.SUPPRESS)  # internal: MODEL HELDOUT SOFT_OUT
    args = parser.parse_args()
    if args.label:
        print(json.dumps(label_fold(Path(args.label[0]), Path(args.label[1]), Path(args.label[2]))))
        return
    run(args)


if __name__ == "__main__":
    main()
