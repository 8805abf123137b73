"""Admission to the micro-batcher (serve/batcher.py): a full queue and too much work ahead are refused at once."""

from __future__ import annotations

from tests.serve.conftest import error_of


def test_queue_full_is_429_at_once(client):
    batcher = client.app.state.service.batcher
    batcher.queued_items += batcher.max_queue_items  # a backlog that fills the queue
    try:
        error = error_of(client.post("/v1/classify", json={"items": [{"text": "a b", "target": "b"}]}), 429)
        assert error["setting"] == "queue_max_items"
    finally:
        batcher.queued_items -= batcher.max_queue_items


def test_overload_is_refused_by_estimated_time_with_retry_after(client):
    batcher = client.app.state.service.batcher
    item = {"items": [{"text": "Ankara spoke.", "target": "Turkey"}]}
    assert client.post("/v1/classify", json=item).status_code == 200
    assert batcher.throughput and batcher.throughput > 0  # measured from the model call
    saved = batcher.throughput, batcher.queued_items
    # 10 inputs/s and 1,000 queued: 100 s of work ahead, over the 30 s limit by 70.
    batcher.throughput, batcher.queued_items = 10.0, 1000
    try:
        response = client.post("/v1/classify", json=item)
        error = error_of(response, 429)
        assert error["setting"] == "max_queue_wait_s" and "retry in 71 s" in error["message"]
        assert response.headers["retry-after"] == "71"
        batcher.queued_items = 100  # 10 s of work ahead: accepted
        assert batcher.estimated_wait_s(1) < 30
        # Alone, a request is never refused for its own size (the size limits govern that): 8 inputs at 0.1/s.
        batcher.throughput, batcher.queued_items = 0.1, 0
        many = {"items": [{"text": "Ankara spoke.", "target": "Turkey"}] * 4}
        assert batcher.estimated_wait_s(8) > 30 and client.post("/v1/classify", json=many).status_code == 200
    finally:
        batcher.throughput, batcher.queued_items = saved
    assert client.post("/v1/classify", json=item).status_code == 200
