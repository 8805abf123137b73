"""Hugging Face `datasets` where it serves users: saved datasets as input, analyze output as a dataset."""

from __future__ import annotations

import json

import pytest
from datasets import Dataset, DatasetDict, load_dataset

from stance_cli.main import main
from tests.conftest import stance_rows


def test_a_saved_dataset_is_read_like_a_data_file_by_evaluate_and_analyze(tiny_model, tmp_path, capsys):
    rows = [dict(r, id=f"e{i}") for i, r in enumerate(stance_rows(12))]
    saved = tmp_path / "labelled"
    Dataset.from_list(rows).save_to_disk(str(saved))
    out = tmp_path / "eval"
    assert main(["evaluate", "--model", str(tiny_model), "--input", str(saved), "--output", str(out)]) == 0
    assert json.loads((out / "metrics.json").read_text())["stance"]["n"] == 12
    analyzed = tmp_path / "analyzed.jsonl"
    assert main(["analyze", "--model", str(tiny_model), "--input", str(saved), "--output", str(analyzed),
                 "--no-progress"]) == 0  # fmt: skip
    assert len(analyzed.read_text().splitlines()) == 12


def test_a_saved_dataset_dict_names_its_splits(tiny_model, tmp_path, capsys):
    saved = tmp_path / "dd"
    split = Dataset.from_list([dict(r, id=f"e{i}") for i, r in enumerate(stance_rows(4))])
    DatasetDict({"train": split, "test": split}).save_to_disk(str(saved))
    assert main(["evaluate", "--model", str(tiny_model), "--input", str(saved)]) == 2
    err = capsys.readouterr().err
    assert "a saved DatasetDict with the splits ['test', 'train']" in err and str(saved / "test") in err


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_analyze_output_loads_with_datasets(tiny_model, tmp_path, suffix):
    text = tmp_path / "doc.txt"
    text.write_text("Damascus has every right. Ankara said talks would continue. Nothing here.")
    out = tmp_path / f"analyzed{suffix}"
    assert main(["analyze", "--model", str(tiny_model), "--input", str(text), "--output", str(out),
                 "--no-progress"]) == 0  # fmt: skip
    loaded = load_dataset("json" if suffix == ".jsonl" else "parquet", data_files=str(out), split="train")
    if suffix == ".jsonl":  # one document a row, sentences nested
        assert loaded.num_rows == 1 and len(loaded[0]["sentences"]) == 3
    else:  # one (sentence, actor) pair or sentence a row
        assert loaded.num_rows >= 3 and "stance" in loaded.column_names
