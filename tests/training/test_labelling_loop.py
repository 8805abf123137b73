from __future__ import annotations

import json

import pytest

from stance_cli.main import main
from tests.conftest import write_jsonl
from training.agreement import cohen_kappa, fleiss_kappa

CORPUS = [
    {"id": f"doc{i}", "source": ["sana", "trt", "reuters"][i % 3], "text": text}
    for i, text in enumerate(
        [
            "Turkey shelled the town. Damascus condemned the attack. Washington said nothing.",
            "The al-Nusra Front attacked a village. The Syrian army liberated the town.",
            "Ankara and Washington met. Turkey said talks would continue.",
            "Damascus has every right to expel terrorists. The US-led coalition struck Raqqa.",
            "Nusra fighters left Idlib. Erdogan spoke in Ankara.",
        ]
        * 2
    )
]


@pytest.fixture
def corpus(tmp_path):
    rows = [dict(r, id=f"{r['id']}-{n}") for n, r in enumerate(CORPUS)]
    return write_jsonl(tmp_path / "corpus.jsonl", rows)


def read(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_random_suggestions_take_whole_documents_and_skip_labelled_ones(corpus, tmp_path, capsys):
    first = tmp_path / "test.jsonl"
    assert main(["suggest", "--random", "--input", str(corpus), "--n", "5", "--output", str(first)]) == 0
    rows = read(first)
    docs = {r["doc_id"] for r in rows}
    assert len(rows) >= 5 and all(r["stance"] == "" and "model_stance" not in r for r in rows)
    assert all(r["text"][r["mention_start"] : r["mention_end"]] == r["mention"] for r in rows)
    second = tmp_path / "dev.jsonl"
    assert (
        main(
            [
                "suggest",
                "--random",
                "--input",
                str(corpus),
                "--n",
                "5",
                "--output",
                str(second),
                "--exclude",
                str(first),
            ]
        )
        == 0
    )
    assert not docs & {r["doc_id"] for r in read(second)}


def test_active_suggestions_are_uncertain_diverse_and_carry_the_guess(tiny_model, corpus, tmp_path):
    out = tmp_path / "next.csv"
    assert (
        main(
            [
                "suggest",
                "--model",
                str(tiny_model),
                "--input",
                str(corpus),
                "--n",
                "8",
                "--output",
                str(out),
                "--per-document",
                "1",
            ]
        )
        == 0
    )
    import pandas as pd

    frame = pd.read_csv(out)
    assert len(frame) == 8 and frame["doc_id"].is_unique
    assert {"model_stance", "model_stance_p", "stance", "sentiment", "confidence"} <= set(frame.columns)
    assert frame["target"].nunique() >= 3
    texts = (frame["text"] + "|" + frame["target"]).tolist()
    assert len(set(texts)) == len(texts)


def test_label_studio_round_trip(tiny_model, corpus, tmp_path):
    tasks = tmp_path / "tasks.json"
    assert (
        main(["suggest", "--model", str(tiny_model), "--input", str(corpus), "--n", "3", "--output", str(tasks)]) == 0
    )
    exported = json.loads(tasks.read_text())
    assert "[[" in exported[0]["data"]["marked"] and exported[0]["predictions"][0]["result"][0]["from_name"] == "stance"
    assert '<Choices name="stance"' in (tmp_path / "tasks.config.xml").read_text()
    for n, task in enumerate(exported):  # what Label Studio exports after two people labelled
        task["annotations"] = [
            {"completed_by": {"email": who}, "result": [
                {"from_name": "stance", "value": {"choices": [["favor", "against", "neutral"][n % 3]]}},
                {"from_name": "sentiment", "value": {"choices": ["negative"]}},
            ]}
            for who in ("ann@x.org", "bob@x.org")
        ]  # fmt: skip
    export = tmp_path / "export.json"
    export.write_text(json.dumps(exported))
    assert main(["labelstudio-import", str(export), "--output", str(tmp_path / "labels")]) == 0
    files = sorted((tmp_path / "labels").glob("*.jsonl"))
    assert len(files) == 2
    rows = read(files[0])
    assert rows[0]["stance"] == "favor" and rows[0]["text"] and rows[0]["mention_start"] is not None
    assert main(["agreement", *map(str, files), "--output", str(tmp_path / "agree")]) == 0
    assert json.loads((tmp_path / "agree/agreement.json").read_text())["tasks"]["stance"]["fleiss_kappa"] == 1.0


def test_kappas_match_textbook_values():
    # Cohen: 20 items, observed 0.7, expected 0.5 -> kappa 0.4.
    a = ["y"] * 10 + ["n"] * 10
    b = ["y"] * 7 + ["n"] * 3 + ["y"] * 3 + ["n"] * 7
    assert cohen_kappa(a, b) == pytest.approx(0.4)
    assert fleiss_kappa([["a", "a", "a"], ["b", "b", "b"]]) == pytest.approx(1.0)
    assert fleiss_kappa([["a", "b", "c"], ["b", "c", "a"], ["c", "a", "b"]]) < 0


def test_agreement_merges_by_majority_and_lists_ties(tmp_path, capsys):
    base = {"text": "Turkey shelled the town.", "target": "Turkey"}
    files = []
    for name, stances in {"a": ["against", "neutral"], "b": ["against", "favor"], "c": ["neutral", "against"]}.items():
        rows = [dict(base, id="1", stance=stances[0], sentiment="negative"),
                dict(base, id="2", text="Ankara spoke.", stance=stances[1], sentiment="neutral")]  # fmt: skip
        files.append(str(write_jsonl(tmp_path / f"{name}.jsonl", rows)))
    assert main(["agreement", *files, "--output", str(tmp_path / "out")]) == 0
    merged = {r["id"]: r for r in read(tmp_path / "out/merged.jsonl")}
    assert merged["1"]["stance"] == "against" and "stance" not in merged["2"]
    (tie,) = read(tmp_path / "out/no_majority.jsonl")
    assert tie["id"] == "2" and tie["no_majority"][0]["votes"] == {"neutral": 1, "favor": 1, "against": 1}
    report = json.loads((tmp_path / "out/agreement.json").read_text())
    assert set(report["tasks"]["stance"]["pairs"]) == {"a vs b", "a vs c", "b vs c"}
    assert report["tasks"]["sentiment"]["fleiss_kappa"] == pytest.approx(1.0)
    assert "Cohen's kappa" in capsys.readouterr().out


def test_compare_reports_differences_with_intervals(tiny_model, tmp_path, capsys):
    from tests.conftest import stance_rows

    data = write_jsonl(tmp_path / "eval.jsonl", [dict(r, id=f"e{i}") for i, r in enumerate(stance_rows(30))])
    assert (
        main(
            [
                "compare",
                "--models",
                str(tiny_model),
                str(tiny_model),
                "--data",
                str(data),
                "--output",
                str(tmp_path / "cmp"),
                "--resamples",
                "200",
            ]
        )
        == 0
    )
    report = json.loads((tmp_path / "cmp/compare.json").read_text())
    first, second = report["tasks"]["stance"]
    assert second["difference_vs_first"] == 0 and second["difference_ci95"] == [0.0, 0.0]
    lo, hi = first["macro_f1_ci95"]
    assert lo <= first["macro_f1"] <= hi
    assert "difference vs first" in capsys.readouterr().out
