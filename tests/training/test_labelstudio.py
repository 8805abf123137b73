"""Label Studio's three export kinds back into training rows, annotators by name (training/labelstudio.py)."""

from __future__ import annotations

import csv
import json

import pytest

from training.labelstudio import ExportError, import_export, read_export

ITEM = {"id": 1234, "item_id": "fakes-7-3", "text": "Ankara spoke.", "target": "Turkey", "mention_start": 0,
        "mention_end": 6, "marked": "[[Ankara]] spoke."}  # fmt: skip


def read(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_json_min_records_become_rows_per_annotator(tmp_path):
    export = tmp_path / "min.json"
    export.write_text(json.dumps([
        {**ITEM, "stance": "against", "sentiment": "negative", "annotator": "ann@x.org", "annotation_id": 1},
        {**ITEM, "stance": {"choices": ["neutral"]}, "sentiment": "neutral", "annotator": 7, "annotation_id": 2},
        {**ITEM, "annotator": "ann@x.org", "annotation_id": 3},  # an empty annotation: nothing to convert
    ]))  # fmt: skip
    rows, tasks = read_export(str(export))
    assert tasks == 3 and set(rows) == {"ann@x.org", "7"}
    (row,) = rows["ann@x.org"]
    # The item's own id comes back from item_id (JSON-MIN puts Label Studio's task id in 'id').
    assert row == {"id": "fakes-7-3", "text": "Ankara spoke.", "target": "Turkey", "mention_start": 0,
                   "mention_end": 6, "stance": "against", "sentiment": "negative"}  # fmt: skip
    assert rows["7"][0]["stance"] == "neutral"


def test_a_csv_export_with_text_cells_becomes_typed_rows(tmp_path):
    export = tmp_path / "export.csv"
    with open(export, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, [*ITEM, "stance", "sentiment", "annotator"])
        writer.writeheader()
        writer.writerow({**ITEM, "stance": "favor", "sentiment": "positive", "annotator": "bob@x.org"})
    written = import_export(str(export), str(tmp_path / "labels"))
    (row,) = read(written["bob@x.org"])
    assert row["mention_start"] == 0 and row["mention_end"] == 6 and row["stance"] == "favor"
    assert written["bob@x.org"].name == "labels_bob_at_x.org.jsonl"


def test_flat_exports_name_each_bad_record_and_write_nothing(tmp_path):
    export = tmp_path / "export.csv"
    export.write_text("text,stance,annotator\nAnkara spoke.,angry,ann\n,favor,ann\n", encoding="utf-8")
    with pytest.raises(ExportError) as caught:
        import_export(str(export), str(tmp_path / "labels"))
    message = str(caught.value)
    assert "line 2: stance: unknown label 'angry'" in message and "line 3: no text" in message
    assert not (tmp_path / "labels").exists()
    bad = tmp_path / "bad.csv"
    bad.write_text("sentence,stance\nx,favor\n", encoding="utf-8")
    with pytest.raises(ExportError, match="a CSV export needs a 'text' column"):
        import_export(str(bad), str(tmp_path / "labels"))


@pytest.mark.parametrize(
    "annotation,name",
    [
        ({"completed_by": {"id": 3, "email": "ann@x.org"}}, "ann@x.org"),
        ({"completed_by": 3, "created_username": " ann@x.org, 3"}, "ann@x.org"),
        ({"completed_by": {"id": 3, "username": "ann"}}, "ann"),
        ({"completed_by": 3}, "3"),
    ],
)
def test_the_json_export_keeps_annotators_names(tmp_path, annotation, name):
    result = [{"from_name": "stance", "value": {"choices": ["favor"]}}]
    export = tmp_path / "export.json"
    export.write_text(json.dumps([{"id": 1, "data": ITEM, "annotations": [{**annotation, "result": result}]}]))
    rows, _ = read_export(str(export))
    assert list(rows) == [name] and rows[name][0]["id"] == "fakes-7-3"
