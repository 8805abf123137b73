from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import FIXTURES, write_jsonl
from training.config import TrainConfig
from training.data import load_evaluation_data, load_training_data
from training.rows import DataValidationError

TASKS = TrainConfig().task_specs()
BAD_TRAIN = str(FIXTURES / "data" / "bad_train.jsonl")
BAD_DEV = str(FIXTURES / "data" / "bad_dev.jsonl")


def problems_of(train, dev=()):
    with pytest.raises(DataValidationError) as info:
        load_training_data(train, list(dev), TASKS)
    return info.value.problems


def test_every_defect_is_reported_at_once_with_file_and_line():
    problems = problems_of([BAD_TRAIN], [BAD_DEV])
    found = {(Path(p.file).name, p.line): p.message for p in problems}
    expected = {
        ("bad_train.jsonl", 2): "invalid JSON",
        ("bad_train.jsonl", 3): "invalid UTF-8",
        ("bad_train.jsonl", 4): "empty text",
        ("bad_train.jsonl", 5): "unknown stance label 'hostile'",
        ("bad_train.jsonl", 6): "out of range",
        ("bad_train.jsonl", 7): "inverted",
        ("bad_train.jsonl", 8): "not the 'mention' 'Turkey'",
        ("bad_train.jsonl", 9): "missing required column 'text'",
        ("bad_train.jsonl", 10): "missing required column 'target'",
        ("bad_train.jsonl", 11): "duplicate id 'g1'",
        ("bad_train.jsonl", 12): "conflicting stance labels",
        ("bad_dev.jsonl", 2): "identical to training row",
    }
    for where, fragment in expected.items():
        assert where in found, f"no problem reported at {where}; got {sorted(found)}"
        assert fragment in found[where], f"{where}: {found[where]!r} lacks {fragment!r}"
    # The valid rows (1, 13 'na', 14) and the clean dev row raise nothing.
    assert not {("bad_train.jsonl", 1), ("bad_train.jsonl", 13), ("bad_train.jsonl", 14), ("bad_dev.jsonl", 1)} & set(
        found
    )
    assert str(problems[0]).startswith(BAD_TRAIN + ":")


def test_the_error_message_lists_locations():
    with pytest.raises(DataValidationError) as info:
        load_training_data([BAD_TRAIN], [], TASKS)
    assert f"{BAD_TRAIN}:2: invalid JSON" in str(info.value)


def test_valid_rows_load_with_offsets_found_from_aliases(tmp_path):
    rows = [
        {"text": "He said Damascus has every right.", "target": "Syria", "stance": "favor"},
        {"text": "Nothing here names the actor.", "target": "Turkey", "stance": "neutral"},
        {"text": "Peace at last.", "sentiment": "positive"},
        {"text": "The bridge fell.", "target": "the bridge", "mention": "bridge", "stance": "neutral"},
        {"text": "Let US go home.", "target": "United States", "stance": "na"},
    ]
    train, _ = load_training_data([str(write_jsonl(tmp_path / "t.jsonl", rows))], [], TASKS)
    by_text = {r.pair.text: r for r in train.rows}
    damascus = by_text["He said Damascus has every right."]
    assert [(s.start, s.end) for s in damascus.pair.spans] == [(8, 16)]
    assert by_text["Nothing here names the actor."].pair.spans == ()
    assert by_text["Peace at last."].labels == {"sentiment": "positive"}
    assert [(s.start, s.end) for s in by_text["The bridge fell."].pair.spans] == [(4, 10)]
    assert "Let US go home." not in by_text
    assert train.left_out["stance 'na'"] == 1
    assert train.files[0]["sha256"] and train.files[0]["rows"] == 4


def test_csv_rows_report_their_line_numbers():
    with pytest.raises(DataValidationError) as info:
        load_evaluation_data([str(FIXTURES / "data" / "mixed.csv")], TASKS)
    (problem,) = info.value.problems
    # The third record spans lines 4-5, so the bad fourth record starts on line 6.
    assert problem.line == 6 and "furious" in problem.message


def test_parquet_is_read(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {"text": ["Ankara spoke.", "Turkey shelled it."], "target": ["Turkey", "Turkey"], "stance": ["neutral", "bad"]}
    )
    pq.write_table(table, tmp_path / "d.parquet")
    with pytest.raises(DataValidationError) as info:
        load_evaluation_data([str(tmp_path / "d.parquet")], TASKS)
    (problem,) = info.value.problems
    assert problem.line == 2 and "(row 2)" in str(problem)


def test_unknown_file_type_and_missing_file(tmp_path):
    (tmp_path / "x.txt").write_text("hello")
    problems = problems_of([str(tmp_path / "x.txt"), str(tmp_path / "missing.jsonl")])
    messages = " | ".join(str(p) for p in problems)
    assert "unsupported file type '.txt'" in messages and "file not found" in messages


def test_max_rows_sample_is_deterministic(tmp_path):
    rows = [{"text": f"Sentence number {i}.", "sentiment": "neutral"} for i in range(50)]
    path = str(write_jsonl(tmp_path / "s.jsonl", rows))
    first, _ = load_training_data([{"path": path, "max_rows": 10}], [], TASKS)
    second, _ = load_training_data([{"path": path, "max_rows": 10}], [], TASKS)
    assert len(first.rows) == 10
    assert [r.pair.text for r in first.rows] == [r.pair.text for r in second.rows]


def test_the_probe_sentences_are_valid_labelled_data():
    probes = Path(__file__).resolve().parents[2] / "benchmarks" / "probes" / "accusations.jsonl"
    data = load_evaluation_data([str(probes)], TASKS)
    assert len(data.rows) == 18 and all(r.pair.spans for r in data.rows)
    assert {r.labels["stance"] for r in data.rows} == {"against", "neutral", "favor"}


def test_a_file_of_unreadable_lines_reports_each_line_not_a_missing_column(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{bad\n{"text": 1,\n[1, 2]\n')
    problems = problems_of([str(bad)])
    assert [(p.line, p.message.split(" (")[0]) for p in problems] == [
        (1, "invalid JSON"),
        (2, "invalid JSON"),
        (3, "expected a JSON object, got list"),
    ]
    assert not any("missing required column" in p.message for p in problems)


def test_a_missing_text_column_is_reported_with_the_unreadable_lines(tmp_path):
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{bad\n{"sentence": "Ankara spoke.", "sentiment": "neutral"}\n')
    found = {(p.line, p.message.split(" (")[0]) for p in problems_of([str(rows)])}
    assert found == {(1, "invalid JSON"), (2, "missing required column 'text'")}


def test_files_that_cannot_be_read_as_rows_say_why(tmp_path):
    array = tmp_path / "rows.json"
    array.write_text('[\n  {"text": "Ankara spoke.", "sentiment": "neutral"}\n]\n')
    garbage = tmp_path / "rows.parquet"
    garbage.write_bytes(b"this is not parquet at all")
    folder = tmp_path / "folder"
    folder.mkdir()
    problems = problems_of([str(array), str(garbage), str(folder)])
    by_file = {Path(p.file).name: p for p in problems}
    assert "JSON array" in by_file["rows.json"].message and "JSON Lines" in by_file["rows.json"].message
    assert "unreadable Parquet file" in by_file["rows.parquet"].message
    assert str(by_file["folder"]) == (
        f"{folder}:0: is a directory, not a data file or a saved dataset; give the data files in it"
    )
    assert not any("missing required column" in p.message for p in problems)


def test_empty_text_in_csv_and_parquet_is_empty_text(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    csv = tmp_path / "rows.csv"
    csv.write_text('text,sentiment\n,neutral\n"  ",neutral\nAnkara spoke.,neutral\n')
    pq.write_table(pa.table({"text": ["Ankara spoke again.", None], "sentiment": ["neutral", "neutral"]}),
                   tmp_path / "rows.parquet")  # fmt: skip
    found = {(Path(p.file).name, p.line, p.message) for p in problems_of([str(csv), str(tmp_path / "rows.parquet")])}
    assert found == {("rows.csv", 2, "empty text"), ("rows.csv", 3, "empty text"), ("rows.parquet", 2, "empty text")}
