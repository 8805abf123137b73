from __future__ import annotations

import json

import pytest

from model.records import RecordFileError, read_records


def rows(path):
    return [(line, record, error) for line, record, error in read_records(path)]


def test_csv_error_mid_file_is_reported_at_its_line_and_later_rows_are_read(tmp_path):
    path = tmp_path / "midcr.csv"
    path.write_bytes(b"id,text\n1,Syria rejected.\n2,Turkey\rspoke.\n3,Damascus spoke.\n4,Assad spoke.\n")
    got = rows(path)
    assert [(line, r and r["id"]) for line, r, _ in got] == [(2, "1"), (3, None), (4, "3"), (5, "4")]
    assert "carriage return" in got[1][2]


def test_lone_carriage_return_line_ends_fail_with_the_file_and_line(tmp_path):
    path = tmp_path / "mac.csv"
    path.write_bytes(b"id,text\r1,Syria rejected.\r2,Turkey spoke.\r")
    with pytest.raises(RecordFileError, match=r"mac\.csv:1: .*lone \\r"):
        rows(path)


def test_unclosed_quote_is_reported_at_the_opening_line_and_does_not_swallow_later_rows(tmp_path):
    path = tmp_path / "open.csv"
    path.write_text('id,text\n1,"Syria rejected the claims.\n2,Turkey responded.\n3,Damascus spoke.\n4,"last\n')
    got = rows(path)
    assert [(line, r and r["text"]) for line, r, _ in got] == [
        (2, None),
        (3, "Turkey responded."),
        (4, "Damascus spoke."),
        (5, None),
    ]
    assert "quote opened on this line runs on to line 5" in got[0][2] and "only this line is skipped" in got[0][2]
    assert "never closed" in got[3][2]


def test_text_after_a_closing_quote_costs_only_its_row(tmp_path):
    path = tmp_path / "quotes.csv"
    path.write_text('id,text\n1,"Syria said ""no"" twice."\n2,"Turkey" said "no".\n3,"multi\nline"\n4,Assad spoke.\n')
    got = rows(path)
    assert [(line, r and r["text"]) for line, r, _ in got] == [
        (2, 'Syria said "no" twice.'),
        (3, None),
        (4, "multi\nline"),
        (6, "Assad spoke."),
    ]
    assert "closing quote" in got[1][2]


def test_jsonl_byte_order_mark_is_dropped_not_the_first_row(tmp_path):
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"id": "a", "text": "Syria."}).encode() + b"\n")
    assert rows(path) == [(1, {"id": "a", "text": "Syria."}, None)]


def test_json_array_and_unreadable_parquet_are_file_errors(tmp_path):
    array = tmp_path / "docs.json"
    array.write_text(json.dumps([{"id": "a", "text": "Syria."}], indent=1))
    with pytest.raises(RecordFileError, match=r"docs\.json:1: a JSON array"):
        rows(array)
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not parquet")
    with pytest.raises(RecordFileError, match=r"broken\.parquet: unreadable Parquet file"):
        rows(broken)


def test_quote_never_closed_before_the_end_of_the_file(tmp_path):
    path = tmp_path / "unterminated.csv"
    path.write_text('id,text\n1,"Syria rejected the claims.\n2,Turkey responded.\n3,Damascus spoke.\n')
    got = rows(path)
    assert [(line, r and r["id"]) for line, r, _ in got] == [(2, None), (3, "2"), (4, "3")]
    assert "never closed" in got[0][2]


def test_a_quote_inside_an_unquoted_field_is_malformed_but_a_doubled_one_in_a_quoted_field_is_kept(tmp_path):
    path = tmp_path / "stray.csv"
    path.write_text('id,text\n1,Syria said "no.\n2,"Turkey said ""yes"", then left."\n3,"two\nlines",x"\n4,ok\n')
    got = rows(path)
    assert [(line, r and r["id"]) for line, r, _ in got] == [(2, None), (3, "2"), (4, None), (6, "4")]
    assert "quote inside an unquoted field (column 14)" in got[0][2]
    assert got[1][1]["text"] == 'Turkey said "yes", then left.'


def test_json_messages_ending_in_at_read_once(tmp_path):
    path = tmp_path / "cut.jsonl"
    path.write_text('{"text": "Syria')
    ((line, record, error),) = rows(path)
    assert (line, record) == (1, None) and error == "invalid JSON (Unterminated string starting at column 10)"
