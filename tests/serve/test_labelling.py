from __future__ import annotations

import json

import pytest

from tests.conftest import write_jsonl
from tests.serve.conftest import make_client

ITEMS = [
    {"id": "i1", "text": "He added that Damascus has every right.", "target": "Syria", "mention": "Damascus",
     "mention_start": 14, "mention_end": 22, "stance": "", "model_stance": "favor"},
    {"id": "i2", "text": "Turkey shelled the town.", "target": "Turkey", "mention": "Turkey",
     "mention_start": 0, "mention_end": 6},
]  # fmt: skip


@pytest.fixture
def queue(tmp_path):
    return write_jsonl(tmp_path / "queue.jsonl", ITEMS), tmp_path / "labels.jsonl"


def test_labels_are_appended_at_once_and_progress_survives_a_restart(models_root, queue):
    items, output = queue
    with make_client(models_root, label_queue=str(items), label_output=str(output)) as client:
        first = client.get("/v1/label/next", params={"annotator": "ann"}).json()
        assert first["item"]["id"] == "i1" and first["progress"] == {"done": 0, "total": 2}
        assert "model_stance" not in first["item"]  # annotators do not see the model's guess
        answer = {"id": "i1", "stance": "favor", "sentiment": "neutral", "confidence": "low"}
        nxt = client.post("/v1/label", params={"annotator": "ann"}, json=answer).json()
        assert nxt["item"]["id"] == "i2"
        (saved,) = [json.loads(line) for line in output.read_text().splitlines()]
        assert saved["stance"] == "favor" and saved["annotator"] == "ann" and saved["mention_start"] == 14
        bad = client.post(
            "/v1/label", params={"annotator": "ann"}, json={"id": "i2", "stance": "pro", "sentiment": "neutral"}
        )
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "stance"
        assert client.post("/v1/label", json={"id": "zz", "stance": "favor", "sentiment": "neutral"}).status_code == 404
    with make_client(models_root, label_queue=str(items), label_output=str(output)) as client:
        again = client.get("/v1/label/next", params={"annotator": "ann"}).json()
        assert again["item"]["id"] == "i2" and again["progress"]["done"] == 1
        assert client.get("/v1/label/next", params={"annotator": "bob"}).json()["item"]["id"] == "i1"
        assert client.get("/label").status_code == 200


def test_labelling_is_off_without_a_queue(client):
    response = client.get("/v1/label/next")
    assert response.status_code == 404 and "STANCE_LABEL_QUEUE" in response.json()["error"]["message"]
