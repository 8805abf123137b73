"""The real server process over real HTTP: concurrent requests across a hot reload, and a graceful SIGTERM."""

from __future__ import annotations

import signal
import threading
import time
import urllib.error
import urllib.request

import pytest

from tests.serve.conftest import call


def test_requests_keep_succeeding_through_reloads(server):
    base, _ = server
    statuses: list[int] = []
    models: set[str] = set()
    stop = threading.Event()

    def client(n: int) -> None:
        while not stop.is_set():
            status, body = call(
                f"{base}/v1/analyze", {"documents": [{"id": str(n), "text": "Turkey shelled it. Damascus spoke."}]}
            )
            statuses.append(status)
            models.add(body.get("model", ""))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    auth = {"Authorization": "Bearer secret"}
    for name in ("other", "default", "other"):
        time.sleep(0.5)
        assert call(f"{base}/v1/admin/reload", {"model": name}, auth)[0] == 200
    time.sleep(0.5)
    stop.set()
    for t in threads:
        t.join()
    assert len(statuses) > 16 and set(statuses) == {200}
    assert {m.split("@")[0] for m in models} == {"default", "other"}
    metrics = urllib.request.urlopen(f"{base}/metrics").read().decode()
    assert "stance_batch_requests_bucket" in metrics


def test_sigterm_finishes_in_flight_requests_then_exits(server):
    base, process = server
    result: dict = {}
    documents = [{"id": str(i), "text": "Turkey shelled the town. Damascus condemned it. " * 20} for i in range(32)]

    def slow_request() -> None:
        result["response"] = call(f"{base}/v1/analyze", {"documents": documents})

    thread = threading.Thread(target=slow_request)
    thread.start()
    time.sleep(0.3)
    process.send_signal(signal.SIGTERM)
    thread.join(timeout=120)
    assert result["response"][0] == 200 and len(result["response"][1]["documents"]) == 32
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status says how the process ended.
    assert process.wait(timeout=60) in (0, -signal.SIGTERM)
    assert "Finished server process" in process.stdout.read()
    with pytest.raises(OSError):
        call(f"{base}/healthz", timeout=2)


def test_sigterm_with_many_requests_arriving_serves_every_one_and_readyz_says_draining(server):
    # 15 clients whose requests reach the server around the signal: uvicorn alone closed the connections whose
    # request it had not read yet (1 of 15 lost). Now it drains first: readyz 503, every request answered.
    base, process = server
    results: list = []
    text = "Turkey shelled the town. Damascus condemned it. " * 10

    def request(i: int) -> None:
        try:
            results.append(call(f"{base}/v1/analyze", {"text": f"{i} {text}"})[0])
        except OSError as exc:
            results.append(repr(exc))

    threads = [threading.Thread(target=request, args=(i,)) for i in range(15)]
    for i, thread in enumerate(threads):
        thread.start()
        if i == 7:
            process.send_signal(signal.SIGTERM)
    status, body = call(f"{base}/readyz", timeout=5)
    assert status == 503 and body["error"]["code"] == "shutting_down"
    for thread in threads:
        thread.join(timeout=120)
    assert results == [200] * 15
    assert process.wait(timeout=60) in (0, -signal.SIGTERM)
