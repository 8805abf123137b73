from __future__ import annotations

import json

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


def test_evaluate_reports_bad_labels_and_missing_model(tiny_model, tmp_path, capsys):
    data = write_jsonl(tmp_path / "bad.jsonl", [{"text": "Ankara spoke.", "target": "Turkey", "stance": "pro"}])
    assert main(["evaluate", "--model", str(tiny_model), "--data", str(data)]) == 2
    assert "bad.jsonl:1: unknown stance label 'pro'" in capsys.readouterr().err
    assert main(["evaluate", "--model", str(tmp_path / "nowhere"), "--data", str(data)]) == 2
    assert "not a directory" in capsys.readouterr().err
