from __future__ import annotations

import json

import pytest

from stance_cli.main import main
from tests.conftest import stance_rows, write_jsonl


def test_evaluate_writes_metrics_report_charts_and_predictions(tiny_model, tmp_path, capsys):
    rows = [dict(r, id=f"e{i}") for i, r in enumerate(stance_rows(12))]
    rows.append({"id": "s", "text": "Peace at last.", "sentiment": "positive"})
    data = write_jsonl(tmp_path / "eval.jsonl", rows)
    out = tmp_path / "eval"
    assert main(["evaluate", "--model", str(tiny_model), "--data", str(data), "--output", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics) == {"stance", "sentiment"}
    stance = metrics["stance"]
    for key in ("macro_f1", "accuracy", "per_class", "confusion_matrix", "per_target", "f1_against_favor"):
        assert key in stance
    assert stance["n"] == 12 and metrics["sentiment"]["n"] == 13
    assert set(stance["per_target"]) == {"Syria", "Turkey", "United States", "al-Nusra Front"}
    assert sum(map(sum, stance["confusion_matrix"]["matrix"])) == 12
    assert (out / "confusion_stance.png").stat().st_size > 1000
    assert "## stance" in (out / "report.md").read_text()
    assert len((out / "predictions.jsonl").read_text().splitlines()) == 13
    assert "stance: macro-F1" in capsys.readouterr().out


def test_evaluate_gives_every_figure_a_bootstrap_interval(tiny_model, tmp_path, capsys):
    data = write_jsonl(tmp_path / "eval.jsonl", [dict(r, id=f"e{i}") for i, r in enumerate(stance_rows(30))])
    out = tmp_path / "eval"
    assert main(["evaluate", "--model", str(tiny_model), "--data", str(data), "--output", str(out)]) == 0
    stance = json.loads((out / "metrics.json").read_text())["stance"]
    figures = {
        "macro_f1": stance["macro_f1"],
        "accuracy": stance["accuracy"],
        "f1_against_favor": stance["f1_against_favor"],
        "ece": stance["calibration"]["ece"],
    }
    assert set(stance["ci95"]) == set(figures)
    for name, value in figures.items():
        low, high = stance["ci95"][name]
        assert low <= value + 1e-9 and value <= high + 1e-9, name
    assert "macro-F1 = " in (out / "report.md").read_text() and "(95% CI " in (out / "report.md").read_text()
    printed = capsys.readouterr().out
    assert "stance: macro-F1" in printed and "[" in printed.split("stance: macro-F1")[1].splitlines()[0]


def test_evaluate_reports_bad_labels_and_missing_model(tiny_model, tmp_path, capsys):
    data = write_jsonl(tmp_path / "bad.jsonl", [{"text": "Ankara spoke.", "target": "Turkey", "stance": "pro"}])
    assert main(["evaluate", "--model", str(tiny_model), "--data", str(data)]) == 2
    assert "bad.jsonl:1: unknown stance label 'pro'" in capsys.readouterr().err
    assert main(["evaluate", "--model", str(tmp_path / "nowhere"), "--data", str(data)]) == 2
    assert "not a directory" in capsys.readouterr().err


def test_evaluate_macro_f1_averages_the_labels_present_overall_and_per_target(tiny_model, tmp_path, capsys):
    rows = [{"id": f"s{i}", "text": f"Peace at last ({i}).", "sentiment": "negative"} for i in range(3)]
    rows.append({"id": "t", "text": "Ankara spoke.", "target": "Turkey", "sentiment": "neutral"})
    data = write_jsonl(tmp_path / "sent.jsonl", rows)
    out = tmp_path / "eval"
    assert main(["evaluate", "--model", str(tiny_model), "--data", str(data), "--output", str(out)]) == 0
    sentiment = json.loads((out / "metrics.json").read_text())["sentiment"]
    present = sentiment["macro_f1_labels"]
    assert set(present) >= {"negative", "neutral"} and len(sentiment["per_class"]) == 3
    expected = sum(sentiment["per_class"][label]["f1"] for label in present) / len(present)
    assert sentiment["macro_f1"] == pytest.approx(expected)
    turkey = sentiment["per_target"]["Turkey"]
    assert turkey["n"] == 1 and turkey["macro_f1"] == turkey["accuracy"]  # 1.0 or 0.0, never 1/3
    assert "the labels in gold or predictions" in (out / "report.md").read_text()


def test_evaluate_output_that_is_a_file_is_a_clear_error(tiny_model, tmp_path, capsys):
    data = write_jsonl(tmp_path / "eval.jsonl", [dict(r, id=f"e{i}") for i, r in enumerate(stance_rows(3))])
    existing = tmp_path / "existing"
    existing.write_text("x")
    assert main(["evaluate", "--model", str(tiny_model), "--data", str(data), "--output", str(existing)]) == 2
    err = capsys.readouterr().err
    assert f"stance evaluate: error: {existing}: File exists" in err and "Traceback" not in err


def test_evaluate_reports_each_actor_with_an_interval_recall_and_the_balanced_mean(tiny_model, tmp_path, capsys):
    data = write_jsonl(tmp_path / "eval.jsonl", [dict(r, id=f"e{i}") for i, r in enumerate(stance_rows(24))])
    out = tmp_path / "eval"
    assert main(["evaluate", "--model", str(tiny_model), "--data", str(data), "--output", str(out)]) == 0
    stance = json.loads((out / "metrics.json").read_text())["stance"]
    block = stance["actors"]
    assert set(block["per_actor"]) == {"Syria", "Turkey", "United States", "al-Nusra Front"}
    means = [a["macro_f1"] for a in block["per_actor"].values()]
    assert block["balanced_macro_f1"] == pytest.approx(sum(means) / 4)
    low, high = block["balanced_macro_f1_ci95"]
    assert 0.0 <= low <= high <= 1.0
    turkey = block["per_actor"]["Turkey"]
    assert turkey["n"] == 8 and turkey["support"] == {"against": 4, "neutral": 4, "favor": 0}
    assert set(turkey["recall"]) == {"against", "neutral"}  # no favor item: no favor recall, not a 0
    calibration = stance["calibration"]
    assert len(calibration["bins"]) == 15 and sum(b["n"] for b in calibration["bins"]) == 24
    assert 0.0 <= calibration["ece"] <= 1.0
    assert (out / "reliability_stance.png").stat().st_size > 1000
    report = (out / "report.md").read_text()
    assert "Actor-balanced macro-F1" in report and "| Turkey | 8 |" in report and "ECE" in report
    printed = capsys.readouterr().out
    assert "actor-balanced macro-F1" in printed and "Turkey: macro-F1" in printed


def test_evaluate_takes_the_actors_to_report_from_a_registry(tiny_model, tmp_path):
    data = write_jsonl(tmp_path / "eval.jsonl", [dict(r, id=f"e{i}") for i, r in enumerate(stance_rows(12))])
    actors = tmp_path / "actors.yaml"
    actors.write_text("replace_defaults: true\nactors:\n  - {name: Turkey, aliases: [Turkey, Ankara]}\n")
    out = tmp_path / "eval"
    assert main(["evaluate", "--model", str(tiny_model), "--data", str(data), "--output", str(out),
                 "--actors", str(actors)]) == 0  # fmt: skip
    block = json.loads((out / "metrics.json").read_text())["stance"]["actors"]
    assert block["actors"] == ["Turkey"] and block["balanced_macro_f1"] == block["per_actor"]["Turkey"]["macro_f1"]
