"""The middleware (serve/middleware.py): body limit and UTF-8 check, per-request timeout, one JSON 500, request
metrics; and the app's CORS and page headers."""

from __future__ import annotations

from tests.serve.conftest import error_of, make_client, wait_ready


def test_timeout_is_504(models_root):
    with make_client(models_root, request_timeout_s=1e-9) as client:
        error = error_of(client.post("/v1/analyze", json={"text": "Turkey spoke."}), 504)
        assert error["setting"] == "request_timeout_s"
        assert client.get("/healthz").status_code == 200


def test_a_body_that_is_not_utf8_is_invalid_json_naming_the_byte(client):
    body = b'{"text": "Damascus \xff said"}'
    error = error_of(client.post("/v1/analyze", content=body, headers={"content-type": "application/json"}), 422)
    assert error["code"] == "invalid_json" and "not UTF-8 (byte 0xff at byte 20)" in error["message"]


def test_cors_preflight_with_the_api_key_header_and_page_security_headers(models_root):
    with make_client(models_root, cors_origins=["https://lab.example"], api_keys=["k1"]) as client:
        preflight = client.options(
            "/v1/analyze",
            headers={
                "Origin": "https://lab.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type, x-api-key",
            },
        )
        assert preflight.status_code == 200, preflight.text
        assert preflight.headers["access-control-allow-origin"] == "https://lab.example"
        page = client.get("/")
        policy = page.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "script-src 'sha256-" in policy and "frame-ancestors 'none'" in policy
        assert page.headers["x-content-type-options"] == "nosniff"


# Regression tests for the service audit (items numbered as in the audit).


def test_unhandled_error_is_the_json_shape_and_counted(client, monkeypatch):  # 4, 13
    def boom(*args, **kwargs):
        raise RuntimeError("something broke")

    monkeypatch.setattr(client.app.state.service.handle.analyzer.extractor, "extract", boom)
    error = error_of(client.post("/v1/analyze", json={"text": "Turkey spoke."}), 500)
    assert error["code"] == "internal_error" and "something broke" not in error["message"]
    assert 'stance_requests_total{route="/v1/analyze",status="500"}' in client.get("/metrics").text


def test_oversized_chunked_body_is_413_and_counted(client):  # 5, 13
    chunks = (b'{"text": "' + b"x" * 10_000 + b'"}' for _ in range(6))  # no Content-Length: chunked
    error = error_of(client.post("/v1/analyze", content=chunks, headers={"content-type": "application/json"}), 413)
    assert error["setting"] == "max_body_bytes" and error["limit"] == 50_000
    assert 'stance_requests_total{route="/v1/analyze",status="413"}' in client.get("/metrics").text
    small = (part for part in (b'{"text": ', b'"Turkey spoke."}'))
    assert client.post("/v1/analyze", content=small, headers={"content-type": "application/json"}).status_code == 200


def test_timed_out_requests_are_not_computed(models_root, monkeypatch):  # 12
    import threading
    import time

    with make_client(models_root, request_timeout_s=0.5) as client:
        wait_ready(client)
        service = client.app.state.service
        predictor = service.handle.predictor
        gate, calls = threading.Event(), []
        original = predictor.predict

        def gated_predict(*args, **kwargs):
            calls.append(1)
            gate.wait(10)  # holds the model thread, so the second request waits in the queue
            return original(*args, **kwargs)

        monkeypatch.setattr(predictor, "predict", gated_predict)
        body = {"items": [{"text": "Turkey spoke.", "target": "Turkey"}]}
        assert error_of(client.post("/v1/classify", json=body), 504)["code"] == "timeout"  # its batch is running
        assert error_of(client.post("/v1/classify", json=body), 504)["code"] == "timeout"  # queued behind it
        gate.set()
        deadline = time.monotonic() + 10
        while (service.batcher.queued_items or "skipped_requests_total 1.0" not in client.get("/metrics").text) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.05)
        assert calls == [1]  # only the batch already running was computed
        assert "stance_skipped_requests_total 1.0" in client.get("/metrics").text


def test_metrics_label_docs_by_path_and_405_has_allow(client):  # 13, 14
    assert client.get("/openapi.json").status_code == 200
    client.get("/docs")
    client.get("/no/such/path")
    response = client.get("/v1/analyze")
    assert response.status_code == 405 and response.headers["allow"] == "POST"
    assert response.json()["error"]["code"] == "method_not_allowed"
    metrics = client.get("/metrics").text
    for line in ('route="/openapi.json",status="200"', 'route="/docs",status="200"', 'route="unmatched",status="404"',
                 'route="/v1/analyze",status="405"'):  # fmt: skip
        assert f"stance_requests_total{{{line}}}" in metrics
