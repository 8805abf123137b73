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


# Regression tests for the service audit (items numbered as in the audit).


def answer(item_id, stance="favor", sentiment="neutral"):
    return {"id": item_id, "stance": stance, "sentiment": sentiment}


def test_duplicate_ids_are_a_startup_error_naming_both_lines(tmp_path):  # 1
    from serve.labelling import LabelQueue, LabelSetupError

    items = write_jsonl(tmp_path / "queue.jsonl", [ITEMS[0], ITEMS[1], {**ITEMS[1], "id": "i1", "target": "Turkey"}])
    with pytest.raises(LabelSetupError, match=r"queue.jsonl:3: duplicate id 'i1' \(first on line 1\)"):
        LabelQueue(str(items), str(tmp_path / "labels.jsonl"))


def test_a_half_written_last_line_is_reported_and_kept_apart(models_root, queue, caplog):  # 2
    items, output = queue
    saved = {**ITEMS[0], "stance": "favor", "sentiment": "neutral", "annotator": "ann"}
    output.write_text(json.dumps(saved) + "\n" + '{"id": "i2", "stance": "aga')  # crash mid-write
    with (
        caplog.at_level("WARNING", logger="stance.serve"),
        make_client(models_root, label_queue=str(items), label_output=str(output)) as client,
    ):
        assert f"{output}:2: invalid JSON" in caplog.text
        state = client.get("/v1/label/next", params={"annotator": "ann"}).json()
        assert state["item"]["id"] == "i2" and state["progress"]["done"] == 1
        assert client.post("/v1/label", params={"annotator": "ann"}, json=answer("i2")).json()["item"] is None
    lines = output.read_text().splitlines()
    assert len(lines) == 3 and json.loads(lines[2])["id"] == "i2"
    with make_client(models_root, label_queue=str(items), label_output=str(output)) as client:
        assert client.get("/v1/label/next", params={"annotator": "ann"}).json()["progress"]["done"] == 2


@pytest.mark.parametrize("suffix", [".csv", ".txt", ".json"])
def test_the_output_must_be_jsonl(tmp_path, queue, suffix):  # 7
    from serve.labelling import LabelQueue, LabelSetupError

    items, _ = queue
    with pytest.raises(LabelSetupError, match=r"STANCE_LABEL_OUTPUT=.*\.jsonl"):
        LabelQueue(str(items), str(tmp_path / f"ann{suffix}"))


def test_an_output_directory_is_a_clear_startup_error(tmp_path, queue):  # 7
    from serve.labelling import LabelQueue, LabelSetupError

    items, _ = queue
    (tmp_path / "out.jsonl").mkdir()
    with pytest.raises(LabelSetupError, match=r"STANCE_LABEL_OUTPUT=.*is a directory"):
        LabelQueue(str(items), str(tmp_path / "out.jsonl"))


def test_saving_again_appends_and_the_last_answer_wins(models_root, queue):  # 8
    items, output = queue
    with make_client(models_root, label_queue=str(items), label_output=str(output)) as client:
        first = client.post("/v1/label", params={"annotator": "ann"}, json=answer("i1", "favor")).json()
        again = client.post("/v1/label", params={"annotator": "ann"}, json=answer("i1", "against")).json()
        assert first["replaced"] is False and again["replaced"] is True
        assert again["progress"]["done"] == 1 and again["item"]["id"] == "i2"
        queue_state = client.app.state.service.labels
        (answers,) = queue_state.files.values()
        assert answers.answers["ann"]["i1"]["stance"] == "against"
    rows = [json.loads(line) for line in output.read_text().splitlines()]
    assert [r["stance"] for r in rows] == ["favor", "against"]  # the file keeps every answer (the audit trail)
    with make_client(models_root, label_queue=str(items), label_output=str(output)) as client:
        (answers,) = client.app.state.service.labels.files.values()
        assert answers.answers["ann"]["i1"]["stance"] == "against"
        assert client.get("/v1/label/next", params={"annotator": "ann"}).json()["progress"]["done"] == 1


def test_one_output_file_per_annotator(models_root, queue, tmp_path):  # 8
    items, _ = queue
    template = tmp_path / "label" / "{annotator}.jsonl"
    with make_client(models_root, label_queue=str(items), label_output=str(template)) as client:
        client.post("/v1/label", params={"annotator": "ann1"}, json=answer("i1"))
        client.post("/v1/label", params={"annotator": "ann2"}, json=answer("i1", "against"))
        assert client.get("/v1/label/next", params={"annotator": "ann1"}).json()["progress"]["done"] == 1
        bad = client.get("/v1/label/next", params={"annotator": "../x"})
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "annotator"
    assert sorted(p.name for p in (tmp_path / "label").iterdir()) == ["ann1.jsonl", "ann2.jsonl"]
    assert json.loads((tmp_path / "label" / "ann2.jsonl").read_text())["stance"] == "against"


def test_id_zero_and_csv_offsets_are_accepted(models_root, tmp_path):  # 14
    items = write_jsonl(tmp_path / "queue.jsonl", [{**ITEMS[1], "id": 0}])
    output = tmp_path / "labels.jsonl"
    with make_client(models_root, label_queue=str(items), label_output=str(output)) as client:
        assert client.get("/v1/label/next").json()["item"]["id"] == 0
        assert client.post("/v1/label", json=answer(0)).json()["progress"]["done"] == 1
    csv_items = tmp_path / "queue.csv"
    csv_items.write_text("id,text,target,mention_start,mention_end\n0,Turkey shelled it.,Turkey,0,6\n")
    from serve.labelling import LabelQueue

    item = LabelQueue(str(csv_items), str(output)).next_item("someone")["item"]
    assert (item["id"], item["mention_start"], item["mention_end"]) == ("0", 0, 6)


def test_the_label_page_sends_the_api_key(models_root, queue):  # 3
    items, output = queue
    with make_client(models_root, label_queue=str(items), label_output=str(output), api_keys=["k1"]) as client:
        page = client.get("/label").text
        assert 'id="key"' in page and 'headers["X-API-Key"]' in page
        assert client.get("/v1/label/next").status_code == 401
        assert client.get("/v1/label/next", headers={"X-API-Key": "k1"}).status_code == 200


def test_the_pages_cut_text_by_code_points():  # 6: the browser tests in test_demo_page.py check this for real
    from importlib import resources

    for page in ("index.html", "label.html"):
        script = resources.files("serve.static").joinpath(page).read_text(encoding="utf-8").split("<script>")[1]
        assert "Array.from(" in script and ".text.slice(" not in script
