"""`stance analyze --output-dir`: a folder of parts that resumes, shards and summarizes as one run."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from analysis import sharded
from analysis.parts import read_status
from stance_cli.main import main
from tests.conftest import REPO

ARTICLES = REPO / "data/fakes/articles.jsonl"


@pytest.fixture
def corpus(tmp_path):
    """12 bundled FA-KES articles and one row with no text (a bad row counts toward its part)."""
    lines = ARTICLES.read_text(encoding="utf-8").splitlines()[:12]
    lines.insert(5, json.dumps({"id": "empty", "text": ""}))
    path = tmp_path / "corpus.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def analyze(model, corpus, out, *extra: str) -> int:
    args = ["analyze", "--model", str(model), "--backend", "torch-fp32", "--input", str(corpus), "--no-progress"]
    return main([*args, "--output-dir", str(out), "--part-size", "4", *extra])


def labels(paths) -> pd.DataFrame:
    frame = pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)
    return frame[["id", "sentence_index", "actor", "stance", "sentiment"]]


def test_shards_together_make_the_parts_of_one_run(tiny_model, corpus, tmp_path, capsys):
    assert analyze(tiny_model, corpus, tmp_path / "one") == 0
    assert "all 4 parts finished" in capsys.readouterr().err  # 13 rows, 4 a part
    assert analyze(tiny_model, corpus, tmp_path / "shared", "--shard", "2/2") == 0
    assert "2 of 4 parts finished" in capsys.readouterr().err
    assert read_status(tmp_path / "shared").finished == (1, 3)
    assert analyze(tiny_model, corpus, tmp_path / "shared", "--shard", "1/2") == 0
    one, shared = read_status(tmp_path / "one"), read_status(tmp_path / "shared")
    assert one.complete and shared.complete and one.finished == shared.finished == (0, 1, 2, 3)
    assert labels(one.part_files()).equals(labels(shared.part_files()))
    record = json.loads((tmp_path / "one" / "part-000001.json").read_text())
    assert record["rows"] == 4 and record["documents"] == 3 and record["skipped"][0]["reason"] == "empty 'text'"


def test_a_crash_loses_only_the_part_being_written_and_a_rerun_finishes(
    tiny_model, corpus, tmp_path, monkeypatch, capsys
):
    out = tmp_path / "run"
    real = sharded.analyze_chunk
    calls = []

    def crash_in_third_part(analyzer, chunk, writer, stats, score_all):
        calls.append(len(chunk))
        if len(calls) == 3:
            raise KeyboardInterrupt  # as a kill would stop it, mid-part
        return real(analyzer, chunk, writer, stats, score_all)

    monkeypatch.setattr(sharded, "analyze_chunk", crash_in_third_part)
    with pytest.raises(KeyboardInterrupt):
        analyze(tiny_model, corpus, out)
    assert read_status(out).finished == (0, 1)
    assert not list(out.glob("*.partial*")) and not (out / "part-000002.parquet").exists()
    written = {p.name: p.stat().st_mtime_ns for p in out.glob("part-*")}
    monkeypatch.setattr(sharded, "analyze_chunk", real)
    capsys.readouterr()
    assert analyze(tiny_model, corpus, out) == 0
    assert "parts written 2, already finished 2, of 4" in capsys.readouterr().err
    assert all(out.joinpath(name).stat().st_mtime_ns == mtime for name, mtime in written.items())
    assert read_status(out).complete


def test_a_part_whose_file_changed_is_done_again(tiny_model, corpus, tmp_path, capsys):
    out = tmp_path / "run"
    analyze(tiny_model, corpus, out)
    (out / "part-000002.parquet").write_bytes(b"truncated")
    capsys.readouterr()
    assert analyze(tiny_model, corpus, out) == 0
    assert "parts written 1, already finished 3" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("change", "named"),
    [(["--part-size", "5"], "part_size"), (["--score-all-actors"], "options"), (["--text-field", "body"], "options")],
)
def test_a_rerun_with_other_options_is_refused_naming_them(tiny_model, corpus, tmp_path, capsys, change, named):
    out = tmp_path / "run"
    analyze(tiny_model, corpus, out, "--shard", "1/4")
    args = ["analyze", "--model", str(tiny_model), "--input", str(corpus), "--no-progress", "--output-dir", str(out)]
    defaults = {"--part-size": "4", "--backend": "torch-fp32"}
    for flag, value in defaults.items():
        if flag not in change:
            args += [flag, value]
    assert main([*args, *change]) == 2
    err = capsys.readouterr().err
    assert f"this folder holds a run with other {named}" in err and "give another --output-dir" in err


def test_another_model_is_refused(tiny_model, corpus, tmp_path, capsys):
    out = tmp_path / "run"
    analyze(tiny_model, corpus, out, "--shard", "1/2")
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["model"]["weights_sha256"] = "0" * 64  # as if the folder had been started with other weights
    (out / "manifest.json").write_text(json.dumps(manifest))
    assert analyze(tiny_model, corpus, out, "--shard", "2/2") == 2
    assert "other model" in capsys.readouterr().err


def test_a_changed_input_is_refused(tiny_model, corpus, tmp_path, capsys):
    out = tmp_path / "run"
    analyze(tiny_model, corpus, out, "--shard", "1/2")
    corpus.write_text(corpus.read_text() + json.dumps({"id": "new", "text": "Turkey spoke."}) + "\n")
    assert analyze(tiny_model, corpus, out, "--shard", "2/2") == 2
    assert "other input" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "message"),
    [(["--shard", "3/2"], "give K/N with 1 <= K <= N"), (["--shard", "x"], "give K/N")],
)
def test_bad_shard_values_are_refused(tiny_model, corpus, tmp_path, capsys, extra, message):
    assert analyze(tiny_model, corpus, tmp_path / "run", *extra) == 2
    assert message in capsys.readouterr().err


def test_shard_needs_an_output_dir_and_excludes_output(tiny_model, corpus, tmp_path, capsys):
    base = ["analyze", "--model", str(tiny_model), "--input", str(corpus), "--no-progress"]
    assert main([*base, "--shard", "1/2"]) == 2
    assert "--shard needs --output-dir" in capsys.readouterr().err
    assert main([*base, "--output", str(tmp_path / "x.jsonl"), "--output-dir", str(tmp_path / "d")]) == 2
    assert "not both" in capsys.readouterr().err


def test_a_folder_with_other_files_is_not_taken(tiny_model, corpus, tmp_path, capsys):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("keep me")
    assert analyze(tiny_model, corpus, tmp_path / "mine") == 2
    assert "has files but no manifest.json" in capsys.readouterr().err


@pytest.mark.parametrize("part_format", ["parquet", "jsonl"])
def test_summarize_reads_a_finished_part_folder_as_one_output(tiny_model, corpus, tmp_path, capsys, part_format):
    out = tmp_path / "run"
    analyze(tiny_model, corpus, out, "--part-format", part_format, "--shard", "1/2")
    assert main(["summarize", "--input", str(out), "--output", str(tmp_path / "s")]) == 2
    assert "the run is not finished" in capsys.readouterr().err
    analyze(tiny_model, corpus, out, "--part-format", part_format, "--shard", "2/2")
    single = tmp_path / "single.parquet"
    args = ["analyze", "--model", str(tiny_model), "--backend", "torch-fp32", "--input", str(corpus), "--no-progress"]
    assert main([*args, "--output", str(single)]) == 0
    assert main(["summarize", "--input", str(out), "--output", str(tmp_path / "from_parts")]) == 0
    assert main(["summarize", "--input", str(single), "--output", str(tmp_path / "from_file")]) == 0
    by_actor = [pd.read_csv(tmp_path / d / "summary_by_actor.csv") for d in ("from_parts", "from_file")]
    counts = [f.filter(regex="^(actor|n_|pairs|sentences|documents)") for f in by_actor]
    assert counts[0].equals(counts[1]) and len(counts[0]) > 0
