"""The routes end to end, against the real app with the tiny model: analyze, classify, the model card and actors,
health and readiness, the pages."""

from __future__ import annotations

import json

from tests.conftest import REPO
from tests.serve.conftest import error_of, make_client

LAVROV = (REPO / "data/examples/lavrov_idlib.txt").read_text()


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
    ypg = [{"name": "Kurdish YPG", "aliases": ["YPG"]}]
    body = {"documents": docs, "actors": ypg, "replace_actors": True, "score_all_actors": True}
    out = client.post("/v1/analyze", json=body).json()["documents"]
    assert [d["id"] for d in out] == ["b", "7"]
    assert out[0]["source"] == "x" and out[0]["date"] == "2017-01-01"
    assert [a["actor"] for a in out[0]["sentences"][0]["actors"]] == ["Kurdish YPG"]
    assert out[1]["sentences"][0]["actors"][0]["mentioned"] is False


def test_inline_actors_are_added_to_the_services_unless_they_replace_them(client):
    body = {"text": "The YPG advanced towards Ankara.", "actors": [{"name": "Kurdish YPG", "aliases": ["YPG"]}]}
    (sentence,) = client.post("/v1/analyze", json=body).json()["documents"][0]["sentences"]
    assert [a["actor"] for a in sentence["actors"]] == ["Turkey", "Kurdish YPG"]
    (sentence,) = client.post("/v1/analyze", json={**body, "replace_actors": True}).json()["documents"][0]["sentences"]
    assert [a["actor"] for a in sentence["actors"]] == ["Kurdish YPG"]
    clash = {"text": "Assad spoke.", "actors": [{"name": "Bashar al-Assad", "aliases": ["the Syrian regime"]}]}
    error = error_of(client.post("/v1/analyze", json=clash), 422)
    assert "already a phrase of 'Syria'" in error["message"] and "replace_actors" in error["message"]


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
    assert error["code"] == "invalid_json" and "field" not in error
    assert "Expecting property name" in error["message"] and "character 1" in error["message"]
    error = error_of(client.post("/v1/analyze", json={"documents": [{"id": "a", "text": 5}]}), 422)
    assert error["field"] == "documents[0].text"
    error = error_of(
        client.post(
            "/v1/classify", json={"items": [{"text": "ab", "target": "x", "mention_start": 1, "mention_end": 9}]}
        ),
        422,
    )
    assert error["field"] == "items[0].mention_end" and "beyond the text" in error["message"]
    error_of(client.post("/v1/analyze", json={"text": "a", "documents": []}), 422)
    error = error_of(client.post("/v1/analyze", json={"text": "a", "actors": [{"name": "x", "patterns": ["(a"]}]}), 422)
    assert error["code"] == "invalid_actors" and "patterns[0]" in error["message"]
    assert error["field"] == "actors[0].patterns[0]"
    error_of(client.get("/v1/nothing"), 404)


def test_an_analyze_response_validates_against_its_typed_schema(client):
    from serve.schemas import AnalyzeResponse

    docs = [{"id": "a", "text": LAVROV[:1900], "source": "sana", "sentences": "carried"}, {"text": "Ankara spoke."}]
    raw = client.post("/v1/analyze", json={"documents": docs, "score_all_actors": True}).json()
    parsed = AnalyzeResponse.model_validate(raw)  # a key the models do not know fails here (extra keys forbidden)
    assert parsed.model_dump(mode="json") == raw
    first = parsed.documents[0]
    assert first.model_extra == {"source": "sana", "input_sentences": "carried"}  # carried fields, renamed
    entries = [a for s in first.sentences for a in s.actors]
    assert any(a.mentions for a in entries) and any(not a.mentioned for a in entries) and first.actors


def test_model_actors_metrics_docs_and_demo(client):
    info = client.get("/v1/model").json()
    assert info["tasks"][0] == {"name": "stance", "labels": ["against", "neutral", "favor"], "input": "pair"}
    assert len(info["content_hash"]) == 64 and info["default_actors"][0] == "Syria"
    assert info["training_data"] and "dev" in info["metrics"]
    assert info["calibration"] == {}  # the tiny model is not calibrated; a calibrated one lists each task's
    actors = client.get("/v1/actors").json()["actors"]
    assert "Damascus" in next(a for a in actors if a["name"] == "Syria")["aliases"]
    metrics = client.get("/metrics").text
    assert 'stance_requests_total{route="/v1/analyze",status="200"}' in metrics
    assert "stance_batch_items_bucket" in metrics and "stance_model_info{" in metrics
    assert "/v1/analyze" in client.get("/openapi.json").json()["paths"]
    docs = client.get("/docs")
    assert docs.status_code == 200 and "cdn" not in docs.text and "https://" not in docs.text  # works offline
    for asset in ("/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css"):
        assert f'"{asset}"' in docs.text or f"'{asset}'" in docs.text
        assert client.get(asset).status_code == 200 and len(client.get(asset).content) > 10_000
    page = client.get("/")
    assert page.status_code == 200 and "Analyze" in page.text and "http" not in page.text.split("<script>")[1]


def test_not_ready_when_the_model_is_missing(models_root):
    with make_client(models_root, model="missing") as client:
        for _ in range(100):
            body = client.get("/readyz").json()
            if "model still loading" not in body["error"]["message"]:
                break
        assert "no such directory" in body["error"]["message"]
        error = error_of(client.post("/v1/analyze", json={"text": "a"}), 503)
        assert "no such directory" in error["message"]


# Regression tests for the service audit (items numbered as in the audit).


def test_unknown_score_all_actor_is_422_with_field(client):  # 4
    error = error_of(client.post("/v1/analyze", json={"text": "Turkey won.", "score_all_actors": ["Narnia"]}), 422)
    assert error["field"] == "score_all_actors" and "Narnia" in error["message"]


def test_invalid_json_names_reason_and_position_not_a_field(client):  # 9
    body = b'{"text": "a",\n "documents": }'
    error = error_of(client.post("/v1/analyze", content=body, headers={"content-type": "application/json"}), 422)
    assert error["code"] == "invalid_json" and "field" not in error
    assert "Expecting value" in error["message"] and "character 28 (line 2, column 15)" in error["message"]


def test_field_paths_name_the_field_not_the_item_or_a_type(client):  # 10
    def field_of(route, body):
        return error_of(client.post(route, json=body), 422)["field"]

    item = {"text": "ab", "target": "x"}
    assert field_of("/v1/classify", {"items": [{**item, "mention_start": 1}]}) == "items[0].mention_end"
    assert field_of("/v1/classify", {"items": [{**item, "mention_start": 1, "mention_end": 1}]}) == (
        "items[0].mention_end"
    )
    assert field_of("/v1/analyze", {"text": "a", "score_all_actors": 5}) == "score_all_actors"
    assert field_of("/v1/analyze", {"documents": [{"id": 1.5, "text": "a"}]}) == "documents[0].id"
    actors = [{"name": "A"}, {"name": "B", "patterns": ["ok", "(a"]}]
    error = error_of(client.post("/v1/analyze", json={"text": "a", "actors": actors}), 422)
    assert error["field"] == "actors[1].patterns[1]" and "actors[1]" in error["message"]
    error = error_of(client.post("/v1/analyze", json={"text": "a", "score_all_actors": "yes"}), 422)
    assert error["message"].count("score_all_actors") == 1 and len(error["problems"]) == 1


def test_offsets_are_strict_ints_and_texts_not_blank(client):  # 11
    def field_of(item):
        return error_of(client.post("/v1/classify", json={"items": [item]}), 422)["field"]

    item = {"text": "Turkey spoke.", "target": "Turkey"}
    assert field_of({**item, "mention_start": False, "mention_end": 6}) == "items[0].mention_start"
    assert field_of({**item, "mention_start": 0, "mention_end": True}) == "items[0].mention_end"
    assert field_of({**item, "mention_start": "0", "mention_end": 6}) == "items[0].mention_start"
    assert field_of({**item, "mention_start": 0, "mention_end": 6.0}) == "items[0].mention_end"
    assert field_of({**item, "target": " "}) == "items[0].target"
    assert field_of({**item, "text": " \n"}) == "items[0].text"
    assert error_of(client.post("/v1/analyze", json={"text": "  "}), 422)["field"] == "text"
    assert error_of(client.post("/v1/analyze", json={"documents": [{"text": ""}]}), 422)["field"] == (
        "documents[0].text"
    )
    ok = client.post("/v1/classify", json={"items": [{**item, "mention_start": 0, "mention_end": 6}]})
    assert ok.status_code == 200 and ok.json()["items"][0]["mentions"] == [{"start": 0, "end": 6}]


def test_model_info_gives_the_resolved_base_model(client, tmp_path):  # 14
    from serve.handle import MINILM, base_model_name

    info = client.get("/v1/model").json()
    assert "base_model_resolved" in info
    assert base_model_name("default", tmp_path) == MINILM == "sentence-transformers/all-MiniLM-L6-v2"
    (tmp_path / "config.json").write_text(json.dumps({"_name_or_path": "org/encoder"}))
    assert base_model_name("/some/dir", tmp_path) == "org/encoder"


def test_a_model_that_fails_to_load_is_logged_at_start(models_root, caplog):  # 14
    with caplog.at_level("ERROR", logger="stance.serve"), make_client(models_root, model="models/typo") as client:
        assert "could not load the model 'models/typo'" in caplog.text and "no such directory" in caplog.text
        assert error_of(client.get("/readyz"), 503)["code"] == "not_ready"


def test_label_page_is_404_when_labelling_is_off(client):  # 14
    error = error_of(client.get("/label"), 404)
    assert error["code"] == "labelling_disabled"


def test_a_lone_surrogate_is_a_422_naming_the_field_not_a_500(client):
    def post(route, body):
        # json.dumps writes "\ud800" as the escape a client would send; the body itself is valid UTF-8
        return client.post(route, content=json.dumps(body), headers={"content-type": "application/json"})

    bad = "Turkey shelled \ud800 the town."
    error = error_of(post("/v1/analyze", {"text": bad}), 422)
    assert error["field"] == "text" and "lone surrogate" in error["message"] and "character 15" in error["message"]
    error = error_of(post("/v1/classify", {"items": [{"text": "Ankara spoke.", "target": "Tur\udfffkey"}]}), 422)
    assert error["field"] == "items[0].target"
    error = error_of(post("/v1/analyze", {"documents": [{"text": "Ankara spoke.", "source": ["ok", "\ud83d"]}]}), 422)
    assert error["field"].startswith("documents[0]") and "'source'" in error["message"]
    error = error_of(
        post("/v1/analyze", {"text": "Ankara spoke.", "actors": [{"name": "A", "aliases": ["\ud800"]}]}), 422
    )
    assert error["field"] == "actors[0].aliases[0]"
    # A surrogate pair is an ordinary character (an emoji) and passes.
    assert post("/v1/analyze", {"text": "Turkey \ud83d\ude00 shelled the town."}).status_code == 200


def test_the_openapi_schema_documents_every_status_with_the_error_shape(client):
    spec = client.get("/openapi.json").json()
    expected = {
        ("/v1/analyze", "post"): {"401", "413", "422", "429", "500", "503", "504"},
        ("/v1/classify", "post"): {"401", "413", "422", "429", "500", "503", "504"},
        ("/v1/admin/reload", "post"): {"400", "401", "404", "413", "422", "500"},
        ("/v1/model", "get"): {"500", "503"},
    }
    for (path, method), statuses in expected.items():
        responses = spec["paths"][path][method]["responses"]
        assert statuses <= set(responses), (path, statuses - set(responses))
        for status in statuses:
            schema = responses[status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (path, status)
    assert "405" in spec["info"]["description"] and "Allow" in spec["info"]["description"]
    assert "HTTPValidationError" not in spec["components"]["schemas"]
