"""docs/labelling.md's walkthrough, run verbatim (its `stance` commands in order) on the tiny model, with three
simulated annotators where people would label (the `make serve` step)."""

from __future__ import annotations

import json
import shlex
import zlib

from model.records import read_records
from stance_cli.main import main
from tests.conftest import REPO

WALKTHROUGH = REPO / "docs/labelling.md"


def commands() -> list[str]:
    """The shell lines of the walkthrough's first code block, continuation lines joined, comments dropped."""
    block = WALKTHROUGH.read_text().split("```bash\n", 1)[1].split("```", 1)[0]
    lines, current = [], ""
    for raw in block.splitlines():
        if raw.startswith("#") or not raw.strip():
            continue
        current += raw.rstrip("\\").strip() + " "
        if not raw.endswith("\\"):
            lines.append(current.strip())
            current = ""
    return lines


def annotate(source: str, name: str) -> None:
    """Three annotators label every row of ``source`` (by a fixed rule; the third disagrees now and then)."""
    rows = [record for _, record, _ in read_records(source) if record]
    for annotator in ("ann1", "ann2", "ann3"):
        out = []
        for row in rows:
            h = zlib.crc32(f"{row['text']}|{row.get('target')}".encode())
            if annotator == "ann3" and h % 7 == 0:
                h += 1
            item = {k: row[k] for k in ("id", "text", "target", "mention_start", "mention_end") if row.get(k) != ""}
            out.append({**item, "annotator": annotator, "stance": ("against", "neutral", "favor")[h % 3],
                        "sentiment": ("negative", "neutral", "positive")[h // 3 % 3]})  # fmt: skip
        with open(f"label/{name}_{annotator}.jsonl", "w", encoding="utf-8") as handle:
            handle.writelines(json.dumps(r) + "\n" for r in out)


def test_the_labelling_walkthrough_runs_as_written(tiny_model, tmp_path, monkeypatch, caplog):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data/fakes").mkdir(parents=True)
    (tmp_path / "data/fakes/articles.jsonl").symlink_to(REPO / "data/fakes/articles.jsonl")
    (tmp_path / "models").mkdir()
    (tmp_path / "models/default").symlink_to(tiny_model)
    ran = []
    for line in commands():
        if "make serve" in line:  # people label here: three annotators for each file
            for name, source in (
                ("train", "label/train.csv"),
                ("dev", "label/dev.jsonl"),
                ("test", "label/test.jsonl"),
            ):
                annotate(source, name)
            continue
        words = shlex.split(line)
        assert words[0] == ".venv/bin/stance", line
        if words[1] == "train":  # the tiny model trains in seconds with a short schedule
            words += ["--epochs", "1", "--no-progress"]
        assert main(words[1:]) == 0, line
        ran.append(words[1])
    assert ran == ["suggest"] * 4 + ["agreement"] * 3 + ["train", "calibrate", "compare"]
    report = json.loads((tmp_path / "eval/compare/compare.json").read_text())
    assert report["models"] == ["models/default", "models/v2"] and report["tasks"]["stance"][0]["n"] > 50
