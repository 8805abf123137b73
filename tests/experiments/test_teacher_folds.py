"""experiments/teacher_folds.py: every training row is held out by exactly one fold."""

from __future__ import annotations

import yaml

from experiments.teacher_folds import write_folds
from tests.conftest import stance_rows, write_jsonl


def test_teacher_folds_hold_out_each_row_once(tmp_path):
    train_file = write_jsonl(tmp_path / "train.jsonl", stance_rows(40))
    dev_file = write_jsonl(tmp_path / "dev.jsonl", [dict(r, id=f"d{i}") for i, r in enumerate(stance_rows(52)[40:])])
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump({"train_files": [{"path": str(train_file), "repeat": 2}], "dev_files": [str(dev_file)]})
    )
    folds = write_folds(str(config), 3, tmp_path / "work")
    lines = train_file.read_text().splitlines()
    held = [line for fold in folds for f in (fold / "heldout").iterdir() for line in f.read_text().splitlines()]
    assert sorted(held) == sorted(lines)
    for fold in folds:
        kept = [line for f in (fold / "train").iterdir() for line in f.read_text().splitlines()]
        out = [line for f in (fold / "heldout").iterdir() for line in f.read_text().splitlines()]
        assert sorted(kept + out) == sorted(lines) and not set(kept) & set(out)
        cfg = yaml.safe_load((fold / "config.yaml").read_text())
        assert cfg["train_files"][0]["repeat"] == 2 and cfg["dev_files"] == [str(dev_file)]
