"""Train many variants of the default configuration side by side on one GPU, and score each on dev and test.

Not part of `make bench`: a tool for a lent GPU machine, where one run of `configs/default.yaml` takes about
3.7 minutes with twelve running at once (against 22 minutes alone on the 2-core CPU). Each variant is trained with
each seed by `stance train` in its own process; every finished run appends one JSON line to OUT/results.jsonl
(dev selection score, NewsMTSC and FA-KES dev, the test sets) and its model directory is deleted. Runs are started
only while the median run time still fits before the deadline, so what comes back is whole runs.

    python -m experiments.gpu_grid --out OUT --deadline 515 --workers 12 [--base DIR] [--fp16-base DIR]

``--fp16-base DIR``: a base model directory whose weights are stored as float16 in ``model16.safetensors`` (to carry
the base encoder within a transfer limit); they are widened back to float32 before training. experiments/EXPERIMENTS.md
has the grid of 2026-11-27 and its results (experiments/results/gpu_grid.jsonl).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RUNS = Path("/tmp/gpu_grid_runs")  # model directories (deleted once scored), their logs and scores

# (name, overrides of configs/default.yaml as it was before the grid: lr 5e-5, no layer-wise decay)
VARIANTS = [
    ("base", ["--learning-rate", "5e-5", "--layer-lr-decay", "1"]),
    ("llrd0.8_lr8e-5", ["--layer-lr-decay", "0.8", "--learning-rate", "8e-5"]),
    ("ls0.1", ["--label-smoothing", "0.1", "--learning-rate", "5e-5", "--layer-lr-decay", "1"]),
    ("lr8e-5", ["--learning-rate", "8e-5", "--layer-lr-decay", "1"]),
    ("llrd0.9_lr8e-5", ["--layer-lr-decay", "0.9", "--learning-rate", "8e-5"]),
    ("llrd0.8_lr1e-4", ["--layer-lr-decay", "0.8", "--learning-rate", "1e-4"]),
    ("lr3e-5", ["--learning-rate", "3e-5", "--layer-lr-decay", "1"]),
    ("balanced", ["--class-weighting", "balanced", "--learning-rate", "5e-5", "--layer-lr-decay", "1"]),
    ("ls0.1_llrd0.8_lr8e-5", ["--label-smoothing", "0.1", "--layer-lr-decay", "0.8", "--learning-rate", "8e-5"]),
    ("ep3", ["--epochs", "3", "--learning-rate", "5e-5", "--layer-lr-decay", "1"]),
    ("ep5", ["--epochs", "5", "--learning-rate", "5e-5", "--layer-lr-decay", "1"]),
]
SEEDS = [42, 1, 7]


def rebuild_base(parts: list[Path], target: Path) -> None:
    """A float32 base model folder from weights shrunk to travel: float16 tensors and int8 matrices (``<name>.q8``
    times ``<name>.scale``), in the safetensors files of one or more folders (their other files are copied)."""
    from safetensors.torch import load_file, save_file

    target.mkdir(parents=True, exist_ok=True)
    weights: dict = {}
    for part in parts:
        for f in part.iterdir():
            if f.suffix == ".safetensors":
                weights.update(load_file(str(f)))
            else:
                shutil.copy(f, target / f.name)
    out = {}
    for name, tensor in weights.items():
        if name.endswith(".q8"):
            stem = name[: -len(".q8")]
            out[stem] = (tensor.float() * weights[stem + ".scale"].float()).contiguous()
        elif not name.endswith(".scale"):
            out[name] = tensor.float().contiguous() if tensor.is_floating_point() else tensor
    save_file(out, str(target / "model.safetensors"), metadata={"format": "pt"})


@dataclass
class Job:
    """One training run and its scoring as one shell command, and what its line in results.jsonl says of it."""

    label: str  # in the log lines: "started <label>", "done <label> ..."
    record: dict
    shell: str  # trains `model_dir`, then writes the scores as the last JSON line of `scores`
    model_dir: Path
    scores: Path


def logger(path: Path):
    """A function that prints a message with the seconds since now and appends it to ``path``."""
    start = time.monotonic()

    def log(message: str) -> None:
        line = f"[{time.monotonic() - start:6.0f}s] {message}"
        print(line, flush=True)
        with open(path, "a") as f:
            f.write(line + "\n")

    return log


def start_run(out: Path, work: Path, base: str, int8_parts: list[str] | None):
    """OUT and WORK made, a logger appending to OUT/log.txt, and the base model to train from: ``base`` as given, or
    rebuilt into WORK/base from shrunk parts (`rebuild_base`). Returns (log, base)."""
    out.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    log = logger(out / "log.txt")
    if int8_parts:
        base = str(work / "base")
        rebuild_base([Path(p) for p in int8_parts], Path(base))
        log(f"rebuilt the base model in {base}")
    return log, base


def parse_variants(pairs: list[str] | None) -> list[tuple[str, list[str]]]:
    """``NAME "ARGS" NAME "ARGS" ...`` from the command line as (name, argument list) pairs."""
    pairs = pairs or []
    return [(pairs[i], shlex.split(pairs[i + 1])) for i in range(0, len(pairs), 2)]


def run_jobs(jobs: list[Job], out: Path, deadline: float, workers: int, log, first_guess: float = 0.45, on_done=None):
    """Run the jobs side by side, ``workers`` at a time, each in its own process with one CPU thread.

    A job starts only while the median finished job's time (``first_guess`` of the deadline before any finished)
    still fits before the deadline, and is killed past it, so what comes back is whole runs. Each finished job
    appends its record, with the run's dev scores and ``scores``, to OUT/results.jsonl, and its model directory is
    deleted; ``on_done(job, record)`` is called after. Returns the number of jobs that finished with scores.
    """
    start = time.monotonic()
    jobs = list(jobs)
    running: dict = {}
    durations: list[float] = []
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false", "PYTHONUNBUFFERED": "1"}
    while True:
        expected = sorted(durations)[len(durations) // 2] * 1.1 if durations else deadline * first_guess
        while jobs and len(running) < workers and time.monotonic() - start + expected < deadline:
            job = jobs.pop(0)
            logfile = open(job.model_dir.with_name(job.model_dir.name + ".log"), "w")  # noqa: SIM115 (closed at the end)
            proc = subprocess.Popen(
                ["bash", "-c", job.shell], stdout=logfile, stderr=subprocess.STDOUT, env=env, cwd=REPO
            )
            running[proc] = (job, logfile, time.monotonic())
            log(f"started {job.label}")
        for proc in list(running):
            if proc.poll() is None:
                if time.monotonic() - start > deadline:
                    proc.kill()
                continue
            job, logfile, began = running.pop(proc)
            logfile.close()
            record = {**job.record, "rc": proc.returncode, "seconds": round(time.monotonic() - began)}
            try:
                project = json.loads((job.model_dir / "stance_model.json").read_text())
                dev = project["metrics"]["dev"]
                record["dev_pooled_stance"] = round(dev["stance"]["macro_f1"], 4)
                if "sentiment" in dev:
                    record["dev_pooled_sentiment"] = round(dev["sentiment"]["macro_f1"], 4)
                record["best_checkpoint"] = project["metrics"]["training"].get("best_checkpoint")
                record["scores"] = json.loads(job.scores.read_text().strip().splitlines()[-1])
                durations.append(record["seconds"])
            except Exception as exc:  # the run's log tail says why
                record["error"] = repr(exc)[:300]
                record["log_tail"] = Path(logfile.name).read_text()[-3000:]
            shutil.rmtree(job.model_dir, ignore_errors=True)
            with open(out / "results.jsonl", "a") as f:
                f.write(json.dumps(record) + "\n")
            test_rw = record.get("scores", {}).get("test_rw", {}).get("macro_f1")
            log(f"done {job.label} rc={proc.returncode}: dev {record.get('dev_pooled_stance')} test-rw {test_rw}")
            if on_done is not None:
                on_done(job, record)
        if not running and (not jobs or time.monotonic() - start + expected >= deadline):
            return len(durations)
        time.sleep(2)


def run_grid(out: Path, deadline: float, workers: int, base: str, variants=None, seeds=None) -> None:
    RUNS.mkdir(parents=True, exist_ok=True)
    log = logger(out / "grid.log")
    jobs = []
    for seed in seeds or SEEDS:
        for name, args in variants or VARIANTS:
            model_dir, scores = RUNS / f"{name}-s{seed}", RUNS / f"{name}-s{seed}.json"
            train = [sys.executable, "-m", "stance_cli.main", "train", "--config", "configs/default.yaml",
                     "--base-model", base, "--output-dir", str(model_dir), "--seed", str(seed), "--no-progress",
                     "--threads", "1", *args]  # fmt: skip
            then_score = [sys.executable, "-m", "experiments.gpu_grid", "--score", str(model_dir)]
            shell = f"{shlex.join(train)} && {shlex.join(then_score)} > {scores}"
            record = {"config": name, "args": args, "seed": seed}
            jobs.append(Job(f"{name} seed {seed}", record, shell, model_dir, scores))
    finished = run_jobs(jobs, out, deadline, workers, log)
    log(f"finished {finished} runs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", help="folder for results.jsonl and grid.log")
    parser.add_argument("--deadline", type=float, default=515, help="seconds; no run is left unfinished past it")
    parser.add_argument("--workers", type=int, default=12, help="runs at the same time")
    parser.add_argument("--base", default="default", help="base model (as for stance train --base-model)")
    parser.add_argument("--fp16-base", help="base model folder with float16 weights in model16.safetensors")
    parser.add_argument("--variant", nargs="+", help="pairs of NAME and 'stance train overrides' (else VARIANTS)")
    parser.add_argument("--seeds", nargs="+", type=int, help="seeds (else SEEDS)")
    parser.add_argument("--score", help=argparse.SUPPRESS)  # internal: score one model directory, print JSON
    args = parser.parse_args()
    if args.score:
        from training.dev_score import score

        print(json.dumps(score(Path(args.score))))
        return
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    base = args.base
    if args.fp16_base:
        base = "/tmp/gpu_grid_base"
        rebuild_base([Path(args.fp16_base)], Path(base))
    run_grid(out, args.deadline, args.workers, base, parse_variants(args.variant) or None, args.seeds)


if __name__ == "__main__":
    main()
