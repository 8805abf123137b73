"""Texts built to break segmenting, matching or tokenizing (benchmarks/hostile_texts.py): each is answered (never a
5xx), sentence offsets stay exact, and /healthz answers while the largest runs. Time against size is measured in
benchmarks/reliability.py."""

from __future__ import annotations

import threading
import time

import pytest

from benchmarks.hostile_texts import PATHOLOGICAL
from tests.serve.conftest import make_client, wait_ready


@pytest.fixture(scope="module")
def big_client(models_root):
    with make_client(models_root) as client:
        wait_ready(client)
        yield client


@pytest.mark.parametrize("kind", PATHOLOGICAL)
def test_pathological_texts_are_answered_with_exact_offsets(big_client, kind):
    text = PATHOLOGICAL[kind]
    response = big_client.post("/v1/analyze", json={"text": text})
    assert response.status_code == 200, response.text[:300]
    (document,) = response.json()["documents"]
    for sentence in document["sentences"]:
        assert text[sentence["start"] : sentence["end"]] == sentence["text"]
        for actor in sentence["actors"]:
            for mention in actor["mentions"]:
                assert text[mention["start"] : mention["end"]] == mention["text"]
    piece = text[-5000:]
    classify = big_client.post("/v1/classify", json={"items": [{"text": piece, "target": "Syria"}]})
    assert classify.status_code == 200, classify.text[:300]


def test_a_lone_surrogate_is_refused_not_a_server_error(big_client):
    body = b'{"text": "Syria \\ud800 spoke."}'  # JSON may carry it; a client library would refuse to encode it
    response = big_client.post("/v1/analyze", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422 and response.json()["error"]["field"] == "text"


def test_liveness_is_answered_while_the_largest_pathological_text_runs(big_client):
    done = threading.Event()
    text = "Syria Turkey Ankara Damascus Washington al-Nusra " * 2000  # 100,000 characters, the default limit

    def heavy() -> None:
        big_client.post("/v1/analyze", json={"text": text})
        done.set()

    thread = threading.Thread(target=heavy)
    thread.start()
    slowest = 0.0
    while not done.is_set():
        started = time.perf_counter()
        assert big_client.get("/healthz").status_code == 200
        slowest = max(slowest, time.perf_counter() - started)
        time.sleep(0.02)
    thread.join()
    # Not a timing assertion: only that liveness was answered while the request ran (the bench times it).
    assert slowest >= 0


def test_overload_in_small_is_refused_with_429_and_no_server_error(models_root):
    # CI's small version of the overload bench: 24 clients at once against a 20 ms budget of queued work.
    import concurrent.futures

    text = "Turkey shelled the town. Damascus condemned Ankara. Washington said nothing. " * 30
    with make_client(models_root, max_queue_wait_s=0.02, request_timeout_s=30) as client:
        wait_ready(client)
        client.post("/v1/analyze", json={"text": text})  # the throughput is measured from this one

        def post(_: int):
            return client.post("/v1/analyze", json={"text": text})

        with concurrent.futures.ThreadPoolExecutor(24) as pool:
            responses = list(pool.map(post, range(24)))
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {200, 429} and 200 in statuses and 429 in statuses, statuses
    refused = next(r for r in responses if r.status_code == 429)
    assert int(refused.headers["retry-after"]) >= 1 and refused.json()["error"]["setting"] == "max_queue_wait_s"
