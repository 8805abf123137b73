"""`stance analyze --engine ray`: on a local Ray (2 CPUs, started by the test) the same rows and labels as the
single-process run, written as a part folder that `stance summarize` reads."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from analysis.parts import read_status
from stance_cli.main import main
from tests.conftest import REPO

pytest.importorskip("ray")

KEY = ["id", "sentence_index", "actor"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """40 bundled FA-KES articles and a row without text."""
    lines = (REPO / "data/fakes/articles.jsonl").read_text(encoding="utf-8").splitlines()[:40]
    lines.insert(7, json.dumps({"id": "empty", "text": "", "source": "x"}))
    path = tmp_path_factory.mktemp("ray") / "articles.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def local_ray():
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    yield
    ray.shutdown()


def rows(frame: pd.DataFrame) -> pd.DataFrame:
    columns = [*KEY, "sentence", "mentions", "stance", "sentiment", "source", "date"]
    return frame[columns].astype(str).sort_values(KEY).reset_index(drop=True)


def test_the_ray_engine_gives_the_rows_and_labels_of_one_process(tiny_model, corpus, tmp_path, local_ray, capsys):
    base = ["analyze", "--model", str(tiny_model), "--backend", "torch-fp32", "--input", str(corpus), "--no-progress"]
    assert main([*base, "--output", str(tmp_path / "one.parquet")]) == 0
    out = tmp_path / "ray"
    assert main([*base, "--engine", "ray", "--workers", "2", "--part-size", "8", "--output-dir", str(out)]) == 0
    assert "Parquet parts written by 2 Ray workers" in capsys.readouterr().err
    status = read_status(out)
    assert status.complete and status.parts_total >= 2  # 41 rows, batches of 8 (Ray may write two in one file)
    from_ray = pd.concat([pd.read_parquet(p) for p in status.part_files()], ignore_index=True)
    single = pd.read_parquet(tmp_path / "one.parquet")
    assert len(from_ray) == len(single) > 300
    assert rows(from_ray).equals(rows(single))
    merged = single.merge(from_ray, on=KEY, suffixes=("", "_ray"))
    assert (merged["stance_p_favor"] - merged["stance_p_favor_ray"]).abs().max() < 1e-5
    skipped = [s for n in status.finished for s in json.loads((out / f"part-{n:06d}.json").read_text())["skipped"]]
    assert [s["reason"] for s in skipped] == ["empty 'text'"]
    assert main(["summarize", "--input", str(out), "--output", str(tmp_path / "summary")]) == 0


def test_analyze_dataset_works_on_a_ray_dataset_from_python(tiny_model, local_ray):
    import ray

    from analysis.ray_engine import analyze_dataset

    ds = ray.data.from_items([{"id": "a", "text": "Turkey shelled the town. Damascus condemned it."}])
    frame = analyze_dataset(ds, tiny_model, backend="torch-fp32").to_pandas()
    assert set(frame.dropna(subset=["actor"])["actor"]) == {"Turkey", "Syria"}


def test_the_ray_engine_needs_an_output_dir(tiny_model, corpus, capsys):
    assert main(["analyze", "--model", str(tiny_model), "--input", str(corpus), "--engine", "ray"]) == 2
    assert "--engine ray needs --output-dir" in capsys.readouterr().err


def test_a_ray_run_replaces_the_parts_of_an_earlier_run_in_its_folder(tiny_model, tmp_path, local_ray):
    import ray

    from analysis.parts import PartFolder, RunSpec
    from analysis.ray_engine import run_to_parts

    folder = PartFolder(tmp_path / "run", RunSpec(input={"sha256": None}, model={}, options={}))
    stale = folder.part_path(99)
    stale.write_bytes(b"an earlier run's part")
    folder.write_record(99, {"documents": 1})
    ds = ray.data.from_items([{"id": "a", "text": "Turkey shelled the town."}, {"id": "b", "text": ""}])
    status = run_to_parts(ds, folder, model_dir=tiny_model, backend="torch-fp32")
    assert status.complete and 99 not in status.finished and not stale.exists()
    record = json.loads((tmp_path / "run" / "part-000000.json").read_text())
    assert record["documents"] == 1 and record["skipped"][0]["reason"] == "empty 'text'"


def test_on_bad_row_fail_stops_a_ray_run_before_anything_is_written(tiny_model, tmp_path, local_ray):
    import ray

    from analysis.corpus import CorpusError
    from analysis.parts import PartFolder, RunSpec
    from analysis.ray_engine import run_to_parts

    folder = PartFolder(tmp_path / "run", RunSpec(input={"sha256": None}, model={}, options={}))
    ds = ray.data.from_items([{"id": "a", "text": "Turkey shelled the town."}, {"id": "b", "text": " "}])
    with pytest.raises(CorpusError, match="id 'b': empty 'text'"):
        run_to_parts(ds, folder, on_bad_row="fail", model_dir=tiny_model, backend="torch-fp32")
    assert not list(folder.directory.glob("part-*"))
