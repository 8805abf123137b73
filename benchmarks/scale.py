"""Corpus throughput by engine (`make bench-scale`): the bundled FA-KES articles through `stance analyze` as a user
runs it, each configuration in processes of its own, all in one run on this machine:

    local, 1 process          the baseline: one process with every core's threads, one output file
    local, N shards           N processes at once (`--output-dir --shard K/N`), one thread each
    ray, 1 worker             `--engine ray` on a local Ray, one worker with every core
    ray, N workers            `--engine ray --workers N`, one core each

Reports documents/s for each (end to end: Python start, model load, Ray start-up included, as a user waits) and per
worker, each as a ratio to the baseline, and projects 10 million articles of FA-KES's length on K such workers.
Writes benchmarks/results/scale.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TEN_MILLION = 10_000_000


def analyze(model: str, corpus: str, extra: list[str], threads: int) -> list[str]:
    return [sys.executable, "-m", "stance_cli.main", "analyze", "--model", model, "--input", corpus, "--no-progress",
            *extra]  # fmt: skip


def run(commands: list[list[str]], threads: int) -> float:
    """Seconds until every command (started together) has finished; any failure stops the benchmark."""
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}  # torch reads it for its thread count
    started = time.perf_counter()
    processes = [subprocess.Popen(c, cwd=REPO, env=env, stderr=subprocess.PIPE, text=True) for c in commands]
    for process, command in zip(processes, commands, strict=True):
        _, err = process.communicate()
        if process.returncode:
            raise SystemExit(f"{' '.join(command)} failed:\n{err[-2000:]}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="models/default")
    parser.add_argument("--corpus", default=str(REPO / "data/fakes/articles.jsonl"))
    parser.add_argument("--work", default=str(REPO / "runs/scale"))
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="N: shards and Ray workers")
    parser.add_argument("--part-size", type=int, default=100)
    args = parser.parse_args()
    work = Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    documents = sum(1 for line in Path(args.corpus).read_text(encoding="utf-8").splitlines() if line.strip())
    cores, n = os.cpu_count() or 2, args.workers
    part = ["--part-size", str(args.part_size)]

    configs = {
        "local, 1 process": ([analyze(args.model, args.corpus, ["--output", str(work / "one.parquet")], cores)], cores,
                             1),
        f"local, {n} shards": ([analyze(args.model, args.corpus, ["--output-dir", str(work / "shards"), *part,
                                                                  "--shard", f"{k}/{n}"], 1) for k in range(1, n + 1)],
                               1, n),
        "ray, 1 worker": ([analyze(args.model, args.corpus, ["--engine", "ray", "--workers", "1", "--cpus-per-worker",
                                                             str(cores), "--output-dir", str(work / "ray1"), *part],
                                   cores)], cores, 1),
        f"ray, {n} workers": ([analyze(args.model, args.corpus, ["--engine", "ray", "--workers", str(n),
                                                                 "--cpus-per-worker", "1", "--output-dir",
                                                                 str(work / "rayn"), *part], 1)], 1, n),
    }  # fmt: skip
    results = {}
    for name, (commands, threads, workers) in configs.items():
        seconds = run(commands, threads)
        results[name] = {"seconds": round(seconds, 1), "documents_per_s": round(documents / seconds, 2),
                         "workers": workers, "per_worker": round(documents / seconds / workers, 2)}  # fmt: skip
        print(f"{name}: {seconds:.1f} s, {documents / seconds:.2f} documents/s", flush=True)
    base = results["local, 1 process"]["documents_per_s"]
    for figures in results.values():
        figures["ratio"] = round(figures["documents_per_s"] / base, 2)
    per_worker = results[f"ray, {n} workers"]["per_worker"]
    projection = {
        f"{k} workers": round(TEN_MILLION / (per_worker * k) / 3600, 1) for k in (8, 64, 256)
    }  # hours, at this machine's per-core speed
    out = {"machine": f"{cores} cores", "documents": documents, "engines": results,
           "ten_million_articles_hours_at_this_per_worker_speed": projection}  # fmt: skip
    (REPO / "benchmarks/results/scale.json").write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
