from __future__ import annotations

import json

import pandas as pd

from stance_cli.main import main


def analyzed(tmp_path, tiny_model):
    rows = [
        {"id": "a", "text": "Turkey shelled the town. Damascus condemned Turkey.", "source": "sana", "date": "4/7/17"},
        {"id": "b", "text": "Washington met Ankara.", "source": "trt", "date": "5/1/17"},
        {"id": "c", "text": "Ankara said no.", "source": "trt", "date": "2017-05-20"},
    ]
    corpus = tmp_path / "c.jsonl"
    corpus.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "analyzed.jsonl"
    assert (
        main(["analyze", "--model", str(tiny_model), "--input", str(corpus), "--output", str(out), "--no-progress"])
        == 0
    )
    return out


def test_summary_by_actor_outlet_and_month(tiny_model, tmp_path):
    source = analyzed(tmp_path, tiny_model)
    out = tmp_path / "summary"
    assert main(["summarize", "--input", str(source), "--output", str(out), "--by", "source"]) == 0
    by_actor = pd.read_csv(out / "summary_by_actor.csv").set_index("actor")
    assert by_actor.loc["Turkey", "sentences"] == 4 and by_actor.loc["Turkey", "documents"] == 3
    labels = ["against", "neutral", "favor"]
    assert (by_actor[[f"n_{x}" for x in labels]].sum(axis=1) == by_actor["sentences"]).all()
    assert by_actor["net_stance"].between(-1, 1).all()
    by_source = pd.read_csv(out / "summary_by_source.csv")
    assert set(zip(by_source["source"], by_source["actor"], strict=True)) >= {("sana", "Turkey"), ("trt", "Turkey")}
    months = pd.read_csv(out / "summary_by_month.csv")
    assert set(months["month"]) == {"2017-04", "2017-05"}
    page = (out / "summary.html").read_text()
    assert "data:image/png;base64," in page and "http" not in page.replace("http-equiv", "")
    assert (out / "stance_by_source.png").stat().st_size > 1000


def test_unknown_group_column(tiny_model, tmp_path, capsys):
    source = analyzed(tmp_path, tiny_model)
    assert main(["summarize", "--input", str(source), "--output", str(tmp_path / "s"), "--by", "outlet"]) == 2
    assert "no such column" in capsys.readouterr().err
