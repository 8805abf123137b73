from __future__ import annotations

import datetime
import decimal
import json

import pandas as pd
import pytest

from stance_cli.main import main
from tests.conftest import REPO, write_jsonl

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


def analyze(tiny_model, *args):
    return main(["analyze", "--model", str(tiny_model), "--no-progress", *map(str, args)])


def test_malformed_csv_rows_are_reported_and_later_rows_still_analyzed(tiny_model, tmp_path, capsys):
    source = tmp_path / "broken.csv"
    source.write_bytes(
        b'id,text\n1,Syria rejected.\n2,Turkey\rspoke.\n3,"Damascus spoke.\n4,Ankara spoke.\n5,Assad spoke.\n'
    )
    out = tmp_path / "out.jsonl"
    assert analyze(tiny_model, "--input", source, "--output", out) == 0
    err = capsys.readouterr().err
    assert f"{source}:3: invalid CSV: a carriage return" in err
    assert f"{source}:4: invalid CSV: a quote opened on this line is never closed" in err
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["1", "4", "5"]
    assert "analyzed 3 documents" in err and "2 rows skipped" in err

    lone_cr = tmp_path / "mac.csv"
    lone_cr.write_bytes(b"id,text\r1,Syria rejected.\r")
    assert analyze(tiny_model, "--input", lone_cr, "--output", tmp_path / "mac.jsonl") == 2
    assert f"{lone_cr}:1: invalid CSV header" in capsys.readouterr().err
    assert not list(tmp_path.glob("mac.jsonl*"))


def test_dates_and_other_parquet_values_are_written_as_json_and_iso_text(tiny_model, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    source = tmp_path / "dated.parquet"
    table = pa.table(
        {
            "id": ["p1", "p2"],
            "text": ["Syria rejected the claims.", "Turkey spoke."],
            "date": pa.array([datetime.datetime(2017, 4, 7, 10, 30), None], pa.timestamp("us")),
            "day": pa.array([datetime.date(2017, 4, 7), datetime.date(2017, 5, 1)], pa.date32()),
            "price": pa.array([decimal.Decimal("2.50"), None], pa.decimal128(5, 2)),
            "score": [float("nan"), 1.5],
        }
    )
    pq.write_table(table, source)
    assert analyze(tiny_model, "--input", source, "--output", tmp_path / "out.jsonl") == 0
    docs = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]  # strict JSON: no NaN
    assert "NaN" not in (tmp_path / "out.jsonl").read_text()
    assert docs[0]["date"] == "2017-04-07T10:30:00" and docs[0]["day"] == "2017-04-07" and docs[0]["price"] == 2.5
    assert docs[0]["score"] is None and docs[1]["date"] is None and docs[1]["score"] == 1.5
    for suffix in (".csv", ".parquet"):
        out = tmp_path / f"out{suffix}"
        assert analyze(tiny_model, "--input", source, "--output", out) == 0
        frame = pd.read_csv(out, dtype=str) if suffix == ".csv" else pd.read_parquet(out)
        first = frame[frame["id"] == "p1"].iloc[0]
        assert first["date"] == "2017-04-07T10:30:00" and first["day"] == "2017-04-07"
        assert pd.isna(first["score"])


def test_the_chosen_id_wins_and_colliding_columns_are_kept_under_input_names(tiny_model, tmp_path):
    source = write_jsonl(
        tmp_path / "in.jsonl",
        [{"id": "orig", "doc_id": "D1", "text": "Syria rejected.", "sentences": 5, "actors": ["x"], "stance": "pro"}],
    )
    out = tmp_path / "out.jsonl"
    assert analyze(tiny_model, "--input", source, "--output", out, "--id-field", "doc_id") == 0
    (doc,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert doc["id"] == "D1" and doc["input_id"] == "orig" and "doc_id" not in doc
    assert doc["input_sentences"] == 5 and doc["input_actors"] == ["x"] and doc["input_stance"] == "pro"
    assert doc["sentences"][0]["text"] == "Syria rejected." and "Syria" in doc["actors"]
    assert analyze(tiny_model, "--input", source, "--output", tmp_path / "out.csv", "--id-field", "doc_id") == 0
    row = pd.read_csv(tmp_path / "out.csv").iloc[0]
    assert row["id"] == "D1" and row["input_id"] == "orig" and row["input_stance"] == "pro"
    assert row["actor"] == "Syria" and row["stance"] in ("against", "neutral", "favor")


def test_byte_order_marks_are_dropped(tiny_model, tmp_path):
    jsonl = tmp_path / "bom.jsonl"
    jsonl.write_bytes(
        b"\xef\xbb\xbf" + b'{"id": "a", "text": "Syria rejected."}\n{"id": "b", "text": "Ankara spoke."}\n'
    )
    out = tmp_path / "out.jsonl"
    assert analyze(tiny_model, "--input", jsonl, "--output", out) == 0
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["a", "b"]
    txt = tmp_path / "bom.txt"
    txt.write_bytes("\ufeffSyria rejected the claims.\r\nTurkey spoke.\r\n".encode())
    assert analyze(tiny_model, "--input", txt, "--output", out) == 0
    (doc,) = [json.loads(line) for line in out.read_text().splitlines()]
    text = txt.read_bytes().decode("utf-8-sig")  # offsets count from after the BOM; \r\n kept
    assert [s["text"] for s in doc["sentences"]] == ["Syria rejected the claims.", "Turkey spoke."]
    assert all(text[s["start"] : s["end"]] == s["text"] for s in doc["sentences"])


def test_columns_that_change_type_or_appear_late_are_kept(tiny_model, tmp_path):
    from analysis.analyze import analyze_corpus
    from model.actors import ActorRegistry
    from model.pipeline import DocumentAnalyzer
    from model.predictor import StancePredictor

    rows = [{"id": f"m{i}", "text": "Syria rejected.", "year": 2017} for i in range(4)]
    rows += [{"id": f"m{i}", "text": "Syria rejected.", "year": "unknown", "late": "x"} for i in range(4, 6)]
    source = write_jsonl(tmp_path / "mixed.jsonl", rows)
    analyzer = DocumentAnalyzer.from_predictor(
        StancePredictor.from_dir(tiny_model, device="cpu"), ActorRegistry.default()
    )
    for suffix in (".csv", ".parquet"):
        out = tmp_path / f"out{suffix}"
        analyze_corpus(analyzer, source, str(out), chunk_size=2, progress=False, report=lambda message: None)
        frame = pd.read_csv(out, dtype=str) if suffix == ".csv" else pd.read_parquet(out)
        assert frame["year"].tolist() == ["2017"] * 4 + ["unknown"] * 2
        assert frame["late"].isna().tolist() == [True] * 4 + [False] * 2
        assert not list(tmp_path.glob(f"out{suffix}.*"))


def test_fail_on_bad_row_prints_nothing_to_stdout(tiny_model, tmp_path, capsys):
    rows = [{"id": f"d{i}", "text": "Syria rejected."} for i in range(20)] + [{"id": "bad", "text": ""}]
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    assert analyze(tiny_model, "--input", source, "--on-bad-row", "fail") == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "in.jsonl:21: empty 'text'" in captured.err
    assert analyze(tiny_model, "--input", source) == 0
    assert len(capsys.readouterr().out.splitlines()) == 20


def test_inputs_that_cannot_be_analyzed_are_clear_errors(tiny_model, tmp_path, capsys):
    source = write_jsonl(tmp_path / "in.jsonl", DOCS)
    before = source.read_text()
    assert analyze(tiny_model, "--input", source, "--output", source) == 2
    assert "the output would replace the input" in capsys.readouterr().err and source.read_text() == before

    assert analyze(tiny_model, "--input", source, "--text-field", "body") == 2
    captured = capsys.readouterr()
    assert "no row has a 'body' field" in captured.err and "skipped" not in captured.err and captured.out == ""

    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not parquet")
    assert analyze(tiny_model, "--input", broken) == 2
    err = capsys.readouterr().err
    assert f"{broken}: unreadable Parquet file" in err and "row 0" not in err

    array = tmp_path / "docs.json"
    array.write_text(json.dumps(DOCS))
    assert analyze(tiny_model, "--input", array) == 2
    assert "a JSON array" in capsys.readouterr().err

    assert analyze(tiny_model, "--input", source, "--score-all-actors", "Narnia") == 2
    assert "--score-all-actors: unknown actor(s) ['Narnia']" in capsys.readouterr().err

    with pytest.raises(SystemExit) as info:
        analyze(tiny_model, "--input", source, "--batch-size", "0")
    assert info.value.code == 2 and "--batch-size: must be at least 1" in capsys.readouterr().err


@pytest.mark.parametrize("content", ["", "id,text\n"])
def test_empty_inputs_warn(tiny_model, tmp_path, capsys, content):
    source = tmp_path / "empty.csv"
    source.write_text(content)
    out = tmp_path / "out.csv"
    assert analyze(tiny_model, "--input", source, "--output", out) == 0
    assert f"warning: {source}: no documents analyzed (the input has no rows)" in capsys.readouterr().err
    assert "stance" in pd.read_csv(out).columns


def test_folder_reads_txt_files_whatever_the_case_of_the_suffix(tiny_model, tmp_path):
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "a.txt").write_text("Syria rejected.")
    (folder / "c.TXT").write_text("Turkey spoke.")
    (folder / "notes.md").write_text("Ankara.")
    out = tmp_path / "out.jsonl"
    assert analyze(tiny_model, "--input", folder, "--output", out) == 0
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["a", "c"]


def test_sigterm_removes_the_partial_output_and_a_stale_one_is_replaced_with_a_notice(tiny_model, tmp_path, capsys):
    import signal
    import subprocess
    import sys
    import time

    source = tmp_path / "many.jsonl"
    doc = "Turkey shelled the town. Damascus condemned Ankara. The United States said nothing."
    source.write_text("".join(json.dumps({"id": str(i), "text": doc}) + "\n" for i in range(20_000)))
    out = tmp_path / "out.csv"
    partial = tmp_path / "out.csv.partial"
    command = [sys.executable, "-m", "stance_cli.main", "analyze", "--model", str(tiny_model), "--input", str(source),
               "--output", str(out), "--no-progress"]  # fmt: skip
    process = subprocess.Popen(command, cwd=REPO, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not partial.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 128 + signal.SIGTERM, process.stderr.read() if process.stderr else ""
    assert not partial.exists() and not out.exists()
    # Only kill -9 leaves one behind: the next run says so and replaces it.
    partial.write_text("half a file")
    source.write_text(json.dumps({"id": "1", "text": doc}) + "\n")
    assert main(command[3:]) == 0
    assert f"replacing {partial}, left by a run that was cut off" in capsys.readouterr().err
    assert out.exists() and not partial.exists()
