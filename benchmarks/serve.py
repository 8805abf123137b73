"""Latency and throughput of the HTTP service with a real model (`make bench-serve`; not a test).

Starts `stance serve` on a free port and measures, over real HTTP:
- p50/p99 latency of POST /v1/analyze on the example article, and of POST /v1/classify with one pair;
- classify pairs per second with 16 concurrent clients (micro-batching across requests), each sending one pair a
  request, then 32 pairs a request (the service's cost per request shared by 32 pairs).
The baseline, run in the same command, is the predictor called directly in this process on the same inputs
(no HTTP, no batching across requests), so the ratios say what the service adds or saves on this machine.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.tables import replace_block, write_report

REPO = Path(__file__).resolve().parents[1]

ARTICLE = (REPO / "data/examples/lavrov_idlib.txt").read_text()
PAIR = {"text": "He added that Damascus has every right to expel terrorists from its territory.", "target": "Syria"}
START, END = "<!-- serve-bench:start -->", "<!-- serve-bench:end -->"


def post(url: str, body: dict) -> float:
    request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as response:
        response.read()
    return time.perf_counter() - started


def rss_mb(pid: int) -> float:
    """Resident memory of a process (Linux /proc), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def baseline(model: str, n: int) -> dict:
    from model.actors import ActorRegistry
    from model.extraction import Document
    from model.pipeline import DocumentAnalyzer
    from model.predictor import StancePredictor
    from model.types import Pair

    predictor = StancePredictor.from_dir(model)
    analyzer = DocumentAnalyzer.from_predictor(predictor, ActorRegistry.default())
    analyzer.analyze([Document("w", ARTICLE)])
    analyze = [_timed(lambda: analyzer.analyze([Document("a", ARTICLE)])) for _ in range(n)]
    pair = Pair(PAIR["text"], PAIR["target"])
    classify = [_timed(lambda: predictor.predict([pair])) for _ in range(n)]
    batch = [pair] * 512
    seconds = _timed(lambda: predictor.predict(batch))
    return {"analyze": analyze, "classify": classify, "pairs_per_second": len(batch) / seconds}


def concurrent(url: str, clients: int, pairs_per_request: int, seconds: float) -> float:
    """Pairs a second answered while ``clients`` threads post requests of ``pairs_per_request`` pairs back to back."""
    done = []
    stop = time.perf_counter() + seconds

    def client() -> None:
        while time.perf_counter() < stop:
            post(url, {"items": [PAIR] * pairs_per_request})
            done.append(pairs_per_request)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / (time.perf_counter() - started)


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="models/default")
    parser.add_argument("--requests", type=int, default=100, help="sequential requests per latency figure")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20, help="duration of the concurrent run")
    parser.add_argument("--output", default=str(REPO / "benchmarks/results/serve.json"))
    parser.add_argument("--update-readme", metavar="README")
    args = parser.parse_args()

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "STANCE_QUEUE_MAX_ITEMS": "100000"}
    server = subprocess.Popen(
        [sys.executable, "-m", "stance_cli.main", "serve", "--model", args.model, "--port", str(port)],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                with urllib.request.urlopen(f"{base}/readyz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        rss_ready = rss_mb(server.pid)
        for _ in range(5):
            post(f"{base}/v1/analyze", {"text": ARTICLE})
        analyze = [post(f"{base}/v1/analyze", {"text": ARTICLE}) for _ in range(args.requests)]
        classify = [post(f"{base}/v1/classify", {"items": [PAIR]}) for _ in range(args.requests)]
        concurrent_rate = concurrent(f"{base}/v1/classify", args.clients, 1, args.seconds)
        concurrent_rate_32 = concurrent(f"{base}/v1/classify", args.clients, 32, args.seconds)
        time.sleep(1)  # the server collects and trims its heap once idle (serve/heap.py)
        rss_after = rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait()
    direct = baseline(args.model, max(10, args.requests // 4))

    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "model": args.model,
        "cpu_threads": os.cpu_count(),
        "analyze_article_ms": {"p50": 1000 * statistics.median(analyze), "p99": 1000 * percentile(analyze, 0.99)},
        "classify_one_ms": {"p50": 1000 * statistics.median(classify), "p99": 1000 * percentile(classify, 0.99)},
        "classify_pairs_per_second_16_clients": concurrent_rate,
        "classify_pairs_per_second_16_clients_32_pairs_a_request": concurrent_rate_32,
        "server_rss_mb": {"ready": rss_ready, "after_the_run": rss_after},
        "baseline_in_process": {
            "analyze_article_ms_p50": 1000 * statistics.median(direct["analyze"]),
            "classify_one_ms_p50": 1000 * statistics.median(direct["classify"]),
            "pairs_per_second_batch_512": direct["pairs_per_second"],
        },
    }
    b = report["baseline_in_process"]
    report["ratios"] = {
        "analyze_http_over_direct": report["analyze_article_ms"]["p50"] / b["analyze_article_ms_p50"],
        "classify_http_over_direct": report["classify_one_ms"]["p50"] / b["classify_one_ms_p50"],
        "concurrent_over_direct_batched_throughput": concurrent_rate / b["pairs_per_second_batch_512"],
        "concurrent_32_over_direct_batched_throughput": concurrent_rate_32 / b["pairs_per_second_batch_512"],
        "concurrent_over_sequential_one_pair": concurrent_rate * b["classify_one_ms_p50"] / 1000,
    }
    write_report(args.output, report)
    print(json.dumps(report, indent=2))
    if args.update_readme:
        a, c, r = report["analyze_article_ms"], report["classify_one_ms"], report["ratios"]
        table = "\n".join(
            [
                START,
                f"Measured {report['date'][:10]} with `make bench-serve` "
                f"({report['cpu_threads']} CPU threads, default model):",
                "",
                "| measure | service | direct call in the same command | ratio |",
                "|---|---|---|---|",
                f"| /v1/analyze, example article (17 sentences), p50 / p99 | {a['p50']:.0f} / {a['p99']:.0f} ms "
                f"| {b['analyze_article_ms_p50']:.0f} ms | {r['analyze_http_over_direct']:.2f}x |",
                f"| /v1/classify, one pair, p50 / p99 | {c['p50']:.1f} / {c['p99']:.1f} ms "
                f"| {b['classify_one_ms_p50']:.1f} ms | {r['classify_http_over_direct']:.2f}x |",
                f"| /v1/classify, 16 concurrent clients, pairs/s | {concurrent_rate:.0f} "
                f"| {b['pairs_per_second_batch_512']:.0f} (one batch of 512) "
                f"| {r['concurrent_over_direct_batched_throughput']:.2f}x |",
                f"| /v1/classify, 16 concurrent clients sending 32 pairs a request, pairs/s | {concurrent_rate_32:.0f} "
                f"| {b['pairs_per_second_batch_512']:.0f} (one batch of 512) "
                f"| {r['concurrent_32_over_direct_batched_throughput']:.2f}x |",
                "",
                f"Server memory (RSS, one copy of the weights): {rss_ready:.0f} MB when ready, {rss_after:.0f} MB "
                "a second after the run.",
                END,
            ]
        )
        replace_block(args.update_readme, START, END, table)


if __name__ == "__main__":
    main()
