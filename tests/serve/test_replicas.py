"""Several replicas of the service sharing one labelling queue and one answers file (docs/api.md "Several
replicas"): every answer kept whole, and each replica counting the answers saved through the others."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import REPO, write_jsonl
from tests.serve.conftest import make_client

# Rows longer than PIPE_BUF (4096) and than Python's write buffer (8192): no help from small-write atomicity.
ITEMS = [
    {"id": f"i{n}", "text": f"Turkey shelled town {n}. " + "The talks went on. " * 500, "target": "Turkey"}
    for n in range(8)
]
STANCES = ("against", "neutral", "favor", "na")


def answer(item_id: str, stance: str = "favor", sentiment: str = "neutral") -> dict:
    return {"id": item_id, "stance": stance, "sentiment": sentiment}


def rows_of(path) -> list[dict]:
    """Every line of an answers file, parsed: a torn line fails here, and so does a blank one (left by a writer that
    took another replica's line, still being written, for one cut short by a crash)."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("output", ["labels.jsonl", "label/{annotator}.jsonl"])
def test_each_replica_counts_the_answers_saved_through_the_other(models_root, tmp_path, output):
    items = write_jsonl(tmp_path / "queue.jsonl", ITEMS)
    settings = {"label_queue": str(items), "label_output": str(tmp_path / output)}
    with make_client(models_root, **settings) as a, make_client(models_root, **settings) as b:
        who = {"annotator": "ann"}
        assert a.post("/v1/label", params=who, json=answer("i0")).json()["replaced"] is False
        seen = b.get("/v1/label/next", params=who).json()
        assert seen["item"]["id"] == "i1" and seen["progress"]["done"] == 1
        assert b.post("/v1/label", params=who, json=answer("i1")).json()["progress"]["done"] == 2
        seen = a.get("/v1/label/next", params=who).json()
        assert seen["item"]["id"] == "i2" and seen["progress"]["done"] == 2
        # Saved first through a, again through b: b knows it replaces an answer, and a counts the new one.
        again = b.post("/v1/label", params=who, json=answer("i0", "against")).json()
        assert again["replaced"] is True and again["progress"]["done"] == 2
        a.get("/v1/label/next", params=who)
        (answers,) = a.app.state.service.labels.files.values()
        assert answers.answers["ann"]["i0"]["stance"] == "against"
        assert b.get("/v1/label/next", params={"annotator": "bob"}).json()["progress"]["done"] == 0


def test_a_line_cut_short_is_kept_apart_once_whichever_replica_saves_next(models_root, tmp_path, caplog):
    items = write_jsonl(tmp_path / "queue.jsonl", ITEMS)
    output = tmp_path / "labels.jsonl"
    output.write_text('{"id": "i0", "annotator": "ann", "stance": "fav')  # a crash mid-write
    settings = {"label_queue": str(items), "label_output": str(output)}
    with (
        caplog.at_level("WARNING", logger="stance.serve"),
        make_client(models_root, **settings) as a,
        make_client(models_root, **settings) as b,
    ):
        assert caplog.text.count(f"{output}:1: invalid JSON") == 2  # each replica reports it once
        a.post("/v1/label", params={"annotator": "ann"}, json=answer("i1"))
        assert b.post("/v1/label", params={"annotator": "ann"}, json=answer("i2")).json()["progress"]["done"] == 2
        assert a.get("/v1/label/next", params={"annotator": "ann"}).json()["progress"]["done"] == 2
        assert caplog.text.count("invalid JSON") == 2
    lines = output.read_text().split("\n")
    assert len(lines) == 4 and lines[-1] == "" and [json.loads(line)["id"] for line in lines[1:3]] == ["i1", "i2"]


def test_two_replicas_hammered_by_threads_keep_every_answer(models_root, tmp_path):
    items = write_jsonl(tmp_path / "queue.jsonl", ITEMS)
    output = tmp_path / "labels.jsonl"
    settings = {"label_queue": str(items), "label_output": str(output)}
    with make_client(models_root, **settings) as a, make_client(models_root, **settings) as b:
        sent: list[tuple[str, str, str]] = []
        replies: list[tuple[str, str, bool]] = []
        lock = threading.Lock()

        def annotate(worker: int) -> None:
            client = (a, b)[worker % 2]
            for n in range(24):  # every worker saves for the shared annotator and for one of its own
                annotator = "shared" if n % 2 else f"own{worker // 2}"  # own0 and own1 each on both replicas too
                item_id, stance = ITEMS[(worker + n) % len(ITEMS)]["id"], STANCES[(worker * 7 + n) % 4]
                response = client.post("/v1/label", params={"annotator": annotator}, json=answer(item_id, stance))
                assert response.status_code == 200, response.text
                with lock:
                    sent.append((annotator, item_id, stance))
                    replies.append((annotator, item_id, response.json()["replaced"]))

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(annotate, range(4)))

        rows = rows_of(output)
        assert Counter((r["annotator"], r["id"], r["stance"]) for r in rows) == Counter(sent)  # none lost, all whole
        first_saves = Counter((annotator, item_id) for annotator, item_id, replaced in replies if not replaced)
        assert first_saves == Counter({key: 1 for key in {(r["annotator"], r["id"]) for r in rows}})
        last = {(r["annotator"], r["id"]): r["stance"] for r in rows}  # the last row per annotator and id counts
        for annotator in ("shared", "own0", "own1"):
            done = len({item_id for who, item_id in last if who == annotator})
            for client in (a, b):
                assert client.get("/v1/label/next", params={"annotator": annotator}).json()["progress"]["done"] == done
        for client in (a, b):
            (answers,) = client.app.state.service.labels.files.values()
            kept = {
                (who, item_id): row["stance"] for who, mine in answers.answers.items() for item_id, row in mine.items()
            }
            assert kept == last


# One replica process: reads the answers file, says so, and once told to go saves its share of answers, then prints
# each save's `replaced`.
REPLICA = """
import json, sys
from serve.labelling import LabelQueue

queue, output, name = sys.argv[1:4]
labels = LabelQueue(queue, output)
print("ready", flush=True)
sys.stdin.readline()
replies = []
for n in range(40):
    annotator = "shared" if n % 2 else name
    item_id = f"i{(n // 2) % 8}"
    answer = {"id": item_id, "stance": ("favor", "against")[n % 3 == 0], "sentiment": "neutral"}
    replies.append([annotator, item_id, labels.save(annotator, answer)["replaced"]])
print(json.dumps(replies))
"""


def test_replica_processes_append_to_one_file_in_turn(tmp_path):
    items = write_jsonl(tmp_path / "queue.jsonl", ITEMS)
    output = tmp_path / "labels.jsonl"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", REPLICA, str(items), str(output), name],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("p1", "p2")
    ]
    replies = []
    try:
        for process in processes:  # both have read the (empty) answers file before either saves
            assert process.stdout is not None and process.stdout.readline() == "ready\n", process.communicate()[1]
        for process in processes:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        for process in processes:
            out, err = process.communicate(timeout=60)
            assert process.returncode == 0, err
            replies += json.loads(out)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    rows = rows_of(output)
    assert len(rows) == 80
    assert Counter((r["annotator"], r["id"]) for r in rows) == Counter((who, item_id) for who, item_id, _ in replies)
    first_saves = Counter((who, item_id) for who, item_id, replaced in replies if not replaced)
    assert set(first_saves.values()) == {1} and len(first_saves) == 8 + 8 + 8  # p1's, p2's and the shared ids
