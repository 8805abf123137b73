from __future__ import annotations

import json

import pandas as pd
import pytest

from stance_cli.main import main
from tests.conftest import REPO

DOCS = [
    {"id": "a", "text": "Turkey shelled the town. Damascus condemned it.", "source": "sana", "date": "4/7/17"},
    {"id": "b", "text": "Washington met Ankara.", "source": "trt", "date": "5/1/17"},
]


def write_inputs(tmp_path, bad: bool):
    rows = list(DOCS)
    jsonl = tmp_path / "corpus.jsonl"
    lines = [json.dumps(r) for r in rows]
    if bad:
        lines.insert(1, json.dumps({"id": "empty", "text": "  ", "source": "x"}))
    jsonl.write_text("\n".join(lines) + "\n")
    csv = tmp_path / "corpus.csv"
    frame = pd.DataFrame(rows if not bad else [rows[0], {"id": "empty", "text": "", "source": "x"}, rows[1]])
    frame.to_csv(csv, index=False)
    parquet = tmp_path / "corpus.parquet"
    frame.to_parquet(parquet)
    folder = tmp_path / "folder"
    folder.mkdir()
    for r in rows:
        (folder / f"{r['id']}.txt").write_text(r["text"])
    if bad:
        (folder / "broken.txt").write_bytes(b"caf\xe9")
    return {"jsonl": jsonl, "csv": csv, "parquet": parquet, "folder": folder}


@pytest.mark.parametrize("kind", ["jsonl", "csv", "parquet", "folder"])
def test_analyze_each_input_kind(tiny_model, tmp_path, kind, capsys):
    source = write_inputs(tmp_path, bad=False)[kind]
    out = tmp_path / "out.jsonl"
    assert (
        main(["analyze", "--model", str(tiny_model), "--input", str(source), "--output", str(out), "--no-progress"])
        == 0
    )
    docs = [json.loads(line) for line in out.read_text().splitlines()]
    assert [d["id"] for d in docs] == ["a", "b"]
    if kind != "folder":
        assert docs[0]["source"] == "sana" and docs[0]["date"] == "4/7/17"
    assert set(docs[0]["actors"]) == {"Turkey", "Syria"}
    assert "analyzed 2 documents, 3 sentences, 4 (sentence, actor) pairs; 0 rows skipped" in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["jsonl", "csv", "parquet", "folder"])
def test_bad_rows_are_reported_and_skipped_or_fail_the_run(tiny_model, tmp_path, kind, capsys):
    source = write_inputs(tmp_path, bad=True)[kind]
    out = tmp_path / "out.jsonl"
    args = ["analyze", "--model", str(tiny_model), "--input", str(source), "--output", str(out), "--no-progress"]
    assert main(args) == 0
    err = capsys.readouterr().err
    where = {
        "jsonl": "corpus.jsonl:2: empty 'text'",
        "csv": "corpus.csv:3: empty 'text'",
        "parquet": "corpus.parquet (row 2): empty 'text'",
        "folder": "broken.txt:1: invalid UTF-8",
    }[kind]
    assert where in err and "1 rows skipped" in err
    assert len(out.read_text().splitlines()) == 2

    out.unlink()
    assert main([*args, "--on-bad-row", "fail"]) == 2
    assert where in capsys.readouterr().err
    assert not out.exists() and not list(tmp_path.glob("out.jsonl*"))


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_flattened_output_has_one_row_per_sentence_and_actor(tiny_model, tmp_path, suffix):
    source = write_inputs(tmp_path, bad=False)["jsonl"]
    out = tmp_path / f"out{suffix}"
    assert (
        main(["analyze", "--model", str(tiny_model), "--input", str(source), "--output", str(out), "--no-progress"])
        == 0
    )
    frame = pd.read_csv(out) if suffix == ".csv" else pd.read_parquet(out)
    assert len(frame) == 4
    assert set(frame["actor"]) == {"Turkey", "Syria", "United States"}
    assert {"source", "date", "sentence", "stance", "stance_p_favor", "sentiment", "mention_texts"} <= set(
        frame.columns
    )
    row = frame[frame["actor"] == "Syria"].iloc[0]
    assert row["mention_texts"] == "Damascus" and row["source"] == "sana"


def test_single_text_file_to_stdout(tiny_model, capsys):
    path = REPO / "data/examples/lavrov_idlib.txt"
    assert main(["analyze", "--model", str(tiny_model), "--input", str(path), "--no-progress"]) == 0
    captured = capsys.readouterr()
    (doc,) = [json.loads(line) for line in captured.out.splitlines()]
    assert doc["id"] == "lavrov_idlib" and len(doc["actors"]) == 4


def test_missing_input_and_bad_output_type(tiny_model, tmp_path, capsys):
    assert main(["analyze", "--model", str(tiny_model), "--input", str(tmp_path / "nope.jsonl")]) == 2
    assert "no such file" in capsys.readouterr().err
    source = write_inputs(tmp_path, bad=False)["jsonl"]
    assert (
        main(["analyze", "--model", str(tiny_model), "--input", str(source), "--output", str(tmp_path / "o.xlsx")]) == 2
    )
    assert "unsupported output type" in capsys.readouterr().err
