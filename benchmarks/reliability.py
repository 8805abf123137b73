"""Reliability under abuse (`make bench-reliability`; not a test). Three parts, each "tried N, failed M":

- overload: `stance serve` with the model; the sustainable rate of /v1/analyze (example article) is measured first
  with one client at a time, then clients offer 1x, 2x and 4x that rate (open loop, one new request every 1/rate s)
  for --seconds each: share of 429, p50/p99 of accepted requests, server errors, accepted requests past the timeout.
- pathological: each kind of hostile text (benchmarks/hostile_texts.py) at 4 sizes through /v1/analyze: time
  against size, the fitted exponent (log-log slope; 1 is linear), and the slowest /healthz answered meanwhile.
- kill: `stance train` on a small config, killed with SIGKILL at random moments (a checkpoint save included), then
  `--resume`d until it finishes: the final step and early-stopping decision against an uninterrupted run, and the
  model directory complete (it loads) and written once.
The baseline of each part is measured in the same command (the unloaded rate, the smallest size, the uninterrupted
run), so the figures are ratios on this machine.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.hostile_texts import PATHOLOGICAL
from benchmarks.tables import replace_block, write_report

REPO = Path(__file__).resolve().parents[1]

ARTICLE = (REPO / "data/examples/lavrov_idlib.txt").read_text()
START, END = "<!-- reliability-bench:start -->", "<!-- reliability-bench:end -->"


def request(url: str, body: dict | None = None, timeout: float = 120) -> tuple[int, float]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data, {"Content-Type": "application/json"})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        exc.read()
        status = exc.code
    except OSError:
        status = -1  # connection lost or refused
    return status, time.perf_counter() - started


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Server:
    def __init__(self, model: str, env: dict[str, str]) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.base = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "stance_cli.main", "serve", "--model", model, "--port", str(port)]
        self.process = subprocess.Popen(
            command, cwd=REPO, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 300
        while request(f"{self.base}/readyz", timeout=2)[0] != 200:
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise SystemExit("the server did not become ready")
            time.sleep(0.3)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=120)


def overload(model: str, seconds: float, timeout_s: float) -> dict:
    server = Server(model, {"STANCE_REQUEST_TIMEOUT_S": str(timeout_s), "STANCE_MAX_QUEUE_WAIT_S": str(timeout_s / 2)})
    url = f"{server.base}/v1/analyze"
    try:
        for _ in range(3):
            request(url, {"text": ARTICLE})
        alone = [request(url, {"text": ARTICLE})[1] for _ in range(10)]
        rate = 1 / statistics.median(alone)  # requests a second, one at a time: the sustainable rate
        levels = []
        for factor in (1, 2, 4):
            results: list[tuple[int, float]] = []
            threads = []
            interval, started = 1 / (rate * factor), time.perf_counter()
            n = int(seconds * rate * factor)
            for i in range(n):
                delay = started + i * interval - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                thread = threading.Thread(target=lambda out=results: out.append(request(url, {"text": ARTICLE})))
                thread.start()
                threads.append(thread)
            for thread in threads:
                thread.join()
            accepted = [t for s, t in results if s == 200]
            levels.append(
                {
                    "offered_x": factor,
                    "requests": len(results),
                    "ok": len(accepted),
                    "refused_429": sum(s == 429 for s, _ in results),
                    "timed_out_504": sum(s == 504 for s, _ in results),
                    "server_errors": sum(s >= 500 and s != 504 for s, _ in results),
                    "lost_connections": sum(s == -1 for s, _ in results),
                    "accepted_past_timeout": sum(t > timeout_s for t in accepted),
                    "p50_ms": 1000 * (percentile(accepted, 0.5) or 0),
                    "p99_ms": 1000 * (percentile(accepted, 0.99) or 0),
                }
            )
            time.sleep(2)
        return {"sustainable_rps": rate, "alone_p50_ms": 1000 * statistics.median(alone), "levels": levels}
    finally:
        server.stop()


def pathological(model: str, sizes: list[int]) -> dict:
    limits = {"STANCE_MAX_DOCUMENT_CHARS": str(max(sizes)), "STANCE_MAX_BODY_BYTES": "50000000",
              "STANCE_QUEUE_MAX_ITEMS": "10000000", "STANCE_REQUEST_TIMEOUT_S": "900"}  # fmt: skip
    server = Server(model, limits)
    url = f"{server.base}/v1/analyze"
    kinds = {}
    try:
        request(url, {"text": ARTICLE})
        for kind, text in PATHOLOGICAL.items():
            unit = text[: max(1, len(text) // 20)] or text
            times, statuses, slowest_health = [], [], 0.0
            for size in sizes:
                body = (unit * (size // len(unit) + 1))[:size]
                done = threading.Event()
                outcome: list = []

                def run(body: str = body, outcome: list = outcome, done: threading.Event = done) -> None:
                    outcome.append(request(url, {"text": body}, timeout=600))
                    done.set()

                thread = threading.Thread(target=run)
                thread.start()
                while not done.wait(0.05):
                    slowest_health = max(slowest_health, request(f"{server.base}/healthz", timeout=30)[1])
                thread.join()
                statuses.append(outcome[0][0])
                times.append(outcome[0][1])
            xs, ys = [math.log(s) for s in sizes], [math.log(t) for t in times]
            mx, my = statistics.mean(xs), statistics.mean(ys)
            slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)
            kinds[kind] = {
                "seconds": times,
                "statuses": statuses,
                "exponent": slope,
                "slowest_healthz_ms": 1000 * slowest_health,
            }
        return {"sizes": sizes, "kinds": kinds}
    finally:
        server.stop()


KILL_CONFIG = """\
base_model: default
train_files:
  - {{path: {repo}/data/fakes_stance/train.jsonl, max_rows: 240}}
dev_files:
  - {repo}/data/fakes_stance/dev.jsonl
tasks:
  stance: {{labels: [against, neutral, favor], input: pair}}
  sentiment: {{labels: [negative, neutral, positive], input: sentence}}
max_steps: 60
batch_size: 8
max_length: 64
evals_per_epoch: 6
early_stopping_patience: 2
learning_rate: 0.0   # dev never improves after the first evaluation: patience 2 stops the run at the third
warmup_ratio: 0.0
seed: 7
"""


def kills(tries: int, seed: int) -> dict:
    rng = random.Random(seed)
    work = Path(tempfile.mkdtemp(prefix="stance-kill-"))
    config = work / "kill.yaml"
    config.write_text(KILL_CONFIG.format(repo=REPO))

    def train(out: Path, resume: bool = False) -> subprocess.Popen:
        command = [sys.executable, "-m", "stance_cli.main", "train", "--config", str(config), "--output-dir",
                   str(out), "--no-progress", "--threads", "1"] + (["--resume"] if resume else [])  # fmt: skip
        return subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def steps(out: Path) -> int | None:
        project = out / "stance_model.json"
        if not project.exists():
            return None
        return json.loads(project.read_text())["metrics"]["training"]["steps"]

    started = time.perf_counter()
    whole = work / "whole"
    assert train(whole).wait() == 0, "the uninterrupted run failed"
    seconds = time.perf_counter() - started
    expected = steps(whole)
    results = []
    for i in range(tries):
        out = work / f"killed-{i}"
        kills_done, resumes, failures = 0, 0, []
        process = train(out)
        # Kill 1-3 times at random moments within the run's length (startup, a step, an evaluation or a save).
        for _ in range(rng.randint(1, 3)):
            time.sleep(rng.uniform(0.1, 0.7) * seconds)
            if process.poll() is not None:
                break
            process.send_signal(signal.SIGKILL)
            process.wait()
            kills_done += 1
            resumes += 1
            process = train(out, resume=True)
        code = process.wait()
        stderr = process.stderr.read() if process.stderr else ""
        if code != 0:
            failures.append(stderr.strip().splitlines()[-1:] or [f"exit {code}"])
        from model.predictor import StancePredictor

        try:
            StancePredictor.from_dir(out)
            complete = True
        except Exception as exc:  # any failure to load is the finding
            complete, failures = False, [*failures, str(exc)[:200]]
        leftovers = [p.name for p in work.iterdir() if p.name.startswith(f"killed-{i}") and p.name != f"killed-{i}"]
        results.append(
            {
                "kills": kills_done,
                "resumes": resumes,
                "exit": code,
                "final_step": steps(out),
                "same_final_step": steps(out) == expected,
                "model_dir_loads": complete,
                "other_dirs": leftovers,
                "failures": failures,
            }
        )
    return {"uninterrupted_steps": expected, "uninterrupted_seconds": seconds, "runs": results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="models/default")
    parser.add_argument("--parts", default="overload,pathological,kill")
    parser.add_argument("--seconds", type=float, default=20, help="duration of each overload level")
    parser.add_argument("--timeout", type=float, default=10, help="the server's request timeout in the overload part")
    parser.add_argument("--sizes", default="12500,25000,50000,100000", help="pathological text sizes (characters)")
    parser.add_argument("--kills", type=int, default=5, help="killed training runs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default=str(REPO / "benchmarks/results/reliability.json"))
    parser.add_argument("--update-readme", metavar="README")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    out = Path(args.output)
    report = json.loads(out.read_text()) if out.exists() else {}
    report.update({"date": datetime.now(UTC).isoformat(timespec="seconds"), "model": args.model})
    report["cpu_threads"] = os.cpu_count()
    if "overload" in parts:
        report["overload"] = overload(args.model, args.seconds, args.timeout)
    if "pathological" in parts:
        report["pathological"] = pathological(args.model, [int(s) for s in args.sizes.split(",")])
    if "kill" in parts:
        report["kill"] = kills(args.kills, args.seed)
    write_report(out, report)
    print(json.dumps(report, indent=2))
    if args.update_readme:
        replace_block(args.update_readme, START, END, render(report))


def render(report: dict) -> str:
    lines = [
        START,
        f"Measured {report['date'][:10]} with `make bench-reliability` ({report['cpu_threads']} CPU threads):",
        "",
    ]
    lines += ["| tried | N | failed | what failing means |", "|---|---|---|---|"]
    if "overload" in report:
        o = report["overload"]
        for level in o["levels"]:
            bad = level["server_errors"] + level["lost_connections"] + level["accepted_past_timeout"]
            lines.append(
                f"| /v1/analyze at {level['offered_x']}x the sustainable rate ({o['sustainable_rps']:.1f}/s): "
                f"{level['refused_429']} refused with 429, accepted p50 / p99 {level['p50_ms']:.0f} / "
                f"{level['p99_ms']:.0f} ms | {level['requests']} | {bad} | a 5xx, a lost connection, or an accepted "
                "request past the timeout |"
            )
    if "pathological" in report:
        p = report["pathological"]
        worst = max(p["kinds"].values(), key=lambda k: k["exponent"])
        n = len(p["kinds"]) * len(p["sizes"])
        bad = sum(s >= 500 or s < 0 for k in p["kinds"].values() for s in k["statuses"])
        health = max(k["slowest_healthz_ms"] for k in p["kinds"].values())
        lines.append(
            f"| {len(p['kinds'])} kinds of hostile text at {p['sizes'][0]:,}-{p['sizes'][-1]:,} characters: "
            f"largest fitted time exponent {worst['exponent']:.2f} (1 = linear), slowest /healthz meanwhile "
            f"{health:.0f} ms | {n} | {bad} | a 5xx or a lost connection |"
        )
    if "kill" in report:
        k = report["kill"]
        runs = k["runs"]
        bad = sum(not (r["same_final_step"] and r["model_dir_loads"] and not r["other_dirs"]) for r in runs)
        lines.append(
            f"| `stance train` killed with SIGKILL at random moments ({sum(r['kills'] for r in runs)} kills), "
            f"then `--resume` | {len(runs)} | {bad} | not the uninterrupted run's final step "
            f"({k['uninterrupted_steps']}), or a model directory that does not load or appears twice |"
        )
    lines.append(END)
    return "\n".join(lines)


if __name__ == "__main__":
    main()
