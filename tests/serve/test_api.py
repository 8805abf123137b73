from __future__ import annotations

import json

from tests.conftest import REPO
from tests.serve.conftest import make_client, wait_ready

LAVROV = (REPO / "data/examples/lavrov_idlib.txt").read_text()


def error_of(response, status):
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["status"] == status and error["message"]
    return error


def test_health_and_readiness(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["model"].startswith("default@")


def test_analyze_single_text(client):
    response = client.post("/v1/analyze", json={"text": LAVROV[:1900]})
    assert response.status_code == 200
    body = response.json()
    (doc,) = body["documents"]
    assert body["model"].startswith("default@")
    assert {"Syria", "Turkey"} <= set(doc["actors"])
    sentence = next(s for s in doc["sentences"] if "Damascus" in s["text"])
    (syria,) = [a for a in sentence["actors"] if a["actor"] == "Syria"]
    assert syria["mentions"][0]["text"] == "Damascus"
    assert set(syria["stance"]["probabilities"]) == {"against", "neutral", "favor"}
    assert sentence["sentiment"]["label"] in {"negative", "neutral", "positive"}


def test_analyze_documents_in_order_with_fields_actors_and_score_all(client):
    docs = [
        {"id": "b", "text": "The YPG advanced.", "source": "x", "date": "2017-01-01"},
        {"id": 7, "text": "Washington met the envoy."},
    ]
    body = {"documents": docs, "actors": [{"name": "Kurdish YPG", "aliases": ["YPG"]}], "score_all_actors": True}
    out = client.post("/v1/analyze", json=body).json()["documents"]
    assert [d["id"] for d in out] == ["b", "7"]
    assert out[0]["source"] == "x" and out[0]["date"] == "2017-01-01"
    assert [a["actor"] for a in out[0]["sentences"][0]["actors"]] == ["Kurdish YPG"]
    assert out[1]["sentences"][0]["actors"][0]["mentioned"] is False


def test_classify_with_and_without_offsets(client):
    items = [
        {"text": "He said Damascus has every right.", "target": "Syria", "mention_start": 8, "mention_end": 16},
        {"text": "He said Damascus has every right.", "target": "Syria"},
        {"text": "Nothing named here.", "target": "Turkey"},
    ]
    out = client.post("/v1/classify", json={"items": items}).json()["items"]
    assert out[0]["mentions"] == out[1]["mentions"] == [{"start": 8, "end": 16}]
    assert out[0]["stance"] == out[1]["stance"]
    assert out[2]["mentions"] == [] and out[2]["sentiment"]["label"]


def test_limits_name_the_limit(client):
    error = error_of(client.post("/v1/analyze", json={"documents": [{"text": "a"}] * 4}), 413)
    assert "max_documents" in error["message"].lower() and error["limit"] == 3 and error["field"] == "documents"
    error = error_of(client.post("/v1/analyze", json={"documents": [{"text": "a"}, {"text": "b" * 2001}]}), 413)
    assert error["field"] == "documents[1].text" and error["setting"] == "max_document_chars"
    error = error_of(client.post("/v1/classify", json={"items": [{"text": "a", "target": "b"}] * 5}), 413)
    assert error["setting"] == "max_classify_items"
    error = error_of(
        client.post("/v1/analyze", json={"text": "a", "actors": [{"name": f"n{i}"} for i in range(3)]}), 413
    )
    assert error["setting"] == "max_inline_actors"
    big = json.dumps({"text": "x" * 60_000})
    error = error_of(client.post("/v1/analyze", content=big, headers={"content-type": "application/json"}), 413)
    assert error["setting"] == "max_body_bytes" and "50000" in error["message"]


def test_bad_requests_get_field_paths(client):
    error = error_of(
        client.post("/v1/analyze", content=b"{not json", headers={"content-type": "application/json"}), 422
    )
    assert error["code"] == "invalid_request"
    error = error_of(client.post("/v1/analyze", json={"documents": [{"id": "a", "text": 5}]}), 422)
    assert error["field"] == "documents[0].text"
    error = error_of(
        client.post(
            "/v1/classify", json={"items": [{"text": "ab", "target": "x", "mention_start": 1, "mention_end": 9}]}
        ),
        422,
    )
    assert error["field"].startswith("items[0]") and "beyond the text" in error["message"]
    error_of(client.post("/v1/analyze", json={"text": "a", "documents": []}), 422)
    error = error_of(client.post("/v1/analyze", json={"text": "a", "actors": [{"name": "x", "patterns": ["(a"]}]}), 422)
    assert error["code"] == "invalid_actors" and "patterns[0]" in error["message"]
    error_of(client.get("/v1/nothing"), 404)


def test_model_actors_metrics_docs_and_demo(client):
    info = client.get("/v1/model").json()
    assert info["tasks"][0] == {"name": "stance", "labels": ["against", "neutral", "favor"], "input": "pair"}
    assert len(info["content_hash"]) == 64 and info["default_actors"][0] == "Syria"
    assert info["training_data"] and "dev" in info["metrics"]
    actors = client.get("/v1/actors").json()["actors"]
    assert "Damascus" in next(a for a in actors if a["name"] == "Syria")["aliases"]
    metrics = client.get("/metrics").text
    assert 'stance_requests_total{route="/v1/analyze",status="200"}' in metrics
    assert "stance_batch_items_bucket" in metrics and "stance_model_info{" in metrics
    assert "/v1/analyze" in client.get("/openapi.json").json()["paths"]
    assert client.get("/docs").status_code == 200
    page = client.get("/")
    assert page.status_code == 200 and "Analyze" in page.text and "http" not in page.text.split("<script>")[1]


def test_queue_full_is_429_at_once(client):
    batcher = client.app.state.service.batcher
    batcher.queued_items += batcher.max_queue_items  # a backlog that fills the queue
    try:
        error = error_of(client.post("/v1/classify", json={"items": [{"text": "a b", "target": "b"}]}), 429)
        assert error["setting"] == "queue_max_items"
    finally:
        batcher.queued_items -= batcher.max_queue_items


def test_timeout_is_504(models_root):
    with make_client(models_root, request_timeout_s=1e-9) as client:
        error = error_of(client.post("/v1/analyze", json={"text": "Turkey spoke."}), 504)
        assert error["setting"] == "request_timeout_s"
        assert client.get("/healthz").status_code == 200


def test_api_keys(models_root):
    with make_client(models_root, api_keys=["k1"]) as client:
        wait_ready(client)
        error_of(client.post("/v1/classify", json={"items": [{"text": "a b", "target": "b"}]}), 401)
        ok = client.post("/v1/classify", json={"items": [{"text": "a b", "target": "b"}]}, headers={"X-API-Key": "k1"})
        assert ok.status_code == 200
        assert client.get("/healthz").status_code == 200


def test_not_ready_when_the_model_is_missing(models_root):
    with make_client(models_root, model="missing") as client:
        for _ in range(100):
            body = client.get("/readyz").json()
            if "model still loading" not in body["error"]["message"]:
                break
        assert "no such directory" in body["error"]["message"]
        error = error_of(client.post("/v1/analyze", json={"text": "a"}), 503)
        assert "no such directory" in error["message"]
