from __future__ import annotations

import json

import pytest

from stance_cli.main import main
from tests.conftest import write_jsonl
from training.agreement import agreement, cohen_kappa, fleiss_kappa, krippendorff_alpha

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
    # Krippendorff (2011), "Computing Krippendorff's alpha-reliability", nominal example with missing values: 0.743.
    n = None
    data = [[1, 2, 3, 3, 2, 1, 4, 1, 2, n, n, n], [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, n, 3],
            [n, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, n], [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, n]]  # fmt: skip
    assert krippendorff_alpha([[None if v is None else str(v) for v in row] for row in data]) == pytest.approx(
        0.743, abs=5e-4
    )


def test_coefficients_are_undefined_not_perfect_when_every_label_is_the_same(tmp_path, capsys):
    assert cohen_kappa(["neutral"] * 5, ["neutral"] * 5) is None
    assert fleiss_kappa([["neutral", "neutral"]] * 5) is None
    assert krippendorff_alpha([["neutral"] * 5, ["neutral"] * 5]) is None
    rows = [{"id": str(i), "text": f"Ankara spoke {i}.", "target": "Turkey", "stance": "neutral"} for i in range(4)]
    files = [str(write_jsonl(tmp_path / f"{name}.jsonl", rows)) for name in ("a", "b")]
    assert main(["agreement", *files, "--output", str(tmp_path / "out")]) == 0
    stance = json.loads((tmp_path / "out/agreement.json").read_text())["tasks"]["stance"]
    assert stance["fleiss_kappa"] is None and stance["krippendorff_alpha"] is None
    assert stance["pairs"]["a vs b"]["cohen_kappa"] is None and stance["pairs"]["a vs b"]["percent_agreement"] == 1
    printed = capsys.readouterr().out
    # The kappa is undefined, not 1.000; percent agreement (the last column) is 1.000.
    assert "| 4 | undefined (every label is 'neutral': chance agreement is 1) | 1.000 |" in printed
    assert "Krippendorff's alpha: undefined" in printed and "Fleiss' kappa: undefined" in printed


def test_krippendorffs_alpha_counts_items_some_annotators_skipped(tmp_path):
    base = {"target": "Turkey"}
    a = [dict(base, id=str(i), text=f"t{i} Ankara.", stance=s) for i, s in enumerate(["against", "favor", "neutral"])]
    b = [dict(r, stance=s) for r, s in zip(a[:2], ["against", "favor"], strict=True)]  # b skipped the third item
    files = [str(write_jsonl(tmp_path / "a.jsonl", a)), str(write_jsonl(tmp_path / "b.jsonl", b))]
    report = agreement(files)
    stance = report["tasks"]["stance"]
    assert stance["n_labelled"] == 3 and stance["n_all_annotators"] == 2
    assert stance["krippendorff_alpha"] == pytest.approx(1.0)


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
    out = capsys.readouterr().out
    assert "difference vs first" in out and "Columns:" in out and "paired bootstrap" in out
    assert report["disagreements"] == {"stance": 0, "sentiment": 0}  # the same model twice
    assert (tmp_path / "cmp/disagreements.jsonl").read_text() == ""


# ----------------------------------------------------------------------------------------------- Label Studio import

TASK = {"id": 41, "data": {"text": "Ankara spoke.", "target": "Turkey"}}


def annotated(*results, who=1):
    return {"completed_by": who, "result": list(results)}


def choice(name, *values):
    return {"from_name": name, "to_name": "sentence", "type": "choices", "value": {"choices": list(values)}}


@pytest.mark.parametrize(
    ("export", "message"),
    [
        (["a", "b"], "task 1: expected a task object, got str"),
        ([{**TASK, "annotations": ["x"]}], "task 1 (id 41), annotation 1: expected an annotation object"),
        ([{**TASK, "annotations": [{"result": {"from_name": "stance"}}]}], "task 1 (id 41), annotation 1: 'result'"),
        ([{**TASK, "annotations": [annotated({"from_name": "stance", "value": {"choices": "favor"}})]}],
         "stance: value.choices must be a list of labels, got 'favor'"),
        ([{**TASK, "annotations": [annotated(choice("stance", "pro"))]}], "stance: unknown label 'pro'"),
        ([{"data": "x"}], "task 1: 'data' must be an object"),
        ([{**TASK, "annotations": [annotated({"value": {"choices": ["favor"]}})]}], "a result without 'from_name'"),
        ([TASK, {"id": 7, "data": {"id": "2"}}], "task 2 (id 7): no data.text"),
        ([{**TASK, "annotations": []}], "no annotations in 1 task(s)"),
        ({"data": {}}, "expected a JSON list of tasks"),
    ],
)  # fmt: skip
def test_label_studio_import_reports_malformed_exports_and_writes_nothing(tmp_path, capsys, export, message):
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export))
    out = tmp_path / "labels"
    assert main(["labelstudio-import", str(path), "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and "export.json" in err and "Traceback" not in err
    assert not out.exists()


def test_label_studio_import_names_the_file_of_invalid_utf8_and_refuses_a_jsonl_for_two_annotators(tmp_path, capsys):
    binary = tmp_path / "export.json"
    binary.write_bytes(b'[{"data": {"text": "\xff"}}]')
    assert main(["labelstudio-import", str(binary), "--output", str(tmp_path / "labels")]) == 2
    assert f"{binary}: not a Label Studio JSON export (invalid UTF-8" in capsys.readouterr().err
    two = [{**TASK, "annotations": [annotated(choice("stance", "favor"), who={"email": "a@x"}),
                                    annotated(choice("stance", "neutral"), who={"email": "b@x"})]}]  # fmt: skip
    binary.write_text(json.dumps(two))
    merged = tmp_path / "merged.jsonl"
    assert main(["labelstudio-import", str(binary), "--output", str(merged)]) == 2
    assert "2 annotators (a@x, b@x); give a folder" in capsys.readouterr().err and not merged.exists()
    assert main(["labelstudio-import", str(binary), "--output", str(tmp_path / "labels")]) == 0
    assert sorted(p.name for p in (tmp_path / "labels").iterdir()) == ["labels_a_at_x.jsonl", "labels_b_at_x.jsonl"]
    one = [{**TASK, "annotations": [annotated(choice("stance", "favor"), choice("sentiment", "neutral"))]}]
    binary.write_text(json.dumps(one))
    assert main(["labelstudio-import", str(binary), "--output", str(merged)]) == 0
    assert read(merged) == [{"text": "Ankara spoke.", "target": "Turkey", "stance": "favor", "sentiment": "neutral"}]


def test_label_studio_import_says_what_it_left_out(tmp_path, capsys):
    export = [{**TASK, "annotations": [annotated(choice("stance", "favor"), choice("notes", "unsure")),
                                       annotated(choice("notes", "skip"), who=2)]}]  # fmt: skip
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export))
    assert main(["labelstudio-import", str(path), "--output", str(tmp_path / "one.jsonl")]) == 0
    err = capsys.readouterr().err
    assert "left out: 2 results of the control 'notes'" in err
    assert "left out: 1 annotations without a stance or sentiment choice" in err
    assert read(tmp_path / "one.jsonl") == [{"text": "Ankara spoke.", "target": "Turkey", "stance": "favor"}]


# ----------------------------------------------------------------------------------------------- agreement


def test_agreement_does_not_count_a_single_vote_as_a_majority(tmp_path, capsys):
    base = {"text": "Turkey shelled the town.", "target": "Turkey"}
    a = write_jsonl(tmp_path / "a.jsonl", [dict(base, id="1", stance="against"), dict(base, id="2", stance="favor")])
    b = write_jsonl(tmp_path / "b.jsonl", [dict(base, id="1", stance="against")])
    assert main(["agreement", str(a), str(b), "--output", str(tmp_path / "out")]) == 0
    merged = {r["id"]: r for r in read(tmp_path / "out/merged.jsonl")}
    assert merged["1"]["stance"] == "against" and "stance" not in merged["2"]
    (single,) = read(tmp_path / "out/no_majority.jsonl")
    assert single["id"] == "2"
    assert single["no_majority"] == [{"task": "stance", "votes": {"favor": 1}, "reason": "fewer than 2 votes"}]
    report = json.loads((tmp_path / "out/agreement.json").read_text())
    assert report["too_few_votes"]["stance"] == 1 and report["no_majority"]["stance"] == 0
    assert "with fewer than 2 votes (not merged): 1" in capsys.readouterr().out


def test_agreement_reports_unknown_labels_and_duplicate_ids_with_file_and_line(tmp_path, capsys):
    base = {"text": "Turkey shelled the town.", "target": "Turkey"}
    a = write_jsonl(tmp_path / "a.jsonl", [dict(base, id="1", stance="Favor"), dict(base, id="2", stance="pro")])
    b = write_jsonl(tmp_path / "b.jsonl", [dict(base, id="1", stance="favor"), dict(base, id="1", stance="against")])
    assert main(["agreement", str(a), str(b), "--output", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert f"{a}:1: unknown stance label 'Favor'" in err and "did you mean 'favor'?" in err
    assert f"{a}:2: unknown stance label 'pro'" in err
    assert f"{b}:2: duplicate id '1' (also on line 1)" in err
    assert not (tmp_path / "out").exists()
    # Other label sets can be given; 'na' is a codebook label.
    c = write_jsonl(tmp_path / "c.jsonl", [dict(base, id="1", stance="pro"), dict(base, id="2", stance="na")])
    d = write_jsonl(tmp_path / "d.jsonl", [dict(base, id="1", stance="pro"), dict(base, id="2", stance="na")])
    assert main(["agreement", str(c), str(d), "--labels", "stance=pro,con,na"]) == 0


def test_agreement_refuses_files_that_are_not_annotations(tmp_path, capsys):
    # A CSV of unrelated columns used to give exit 0, an empty report and a merged.jsonl of junk.
    a = tmp_path / "sales.csv"
    a.write_text("region,amount\nnorth,3\nsouth,4\n")
    rows = [{"id": "1", "text": "Turkey spoke.", "stance": "neutral"}, {"stance": "favor"}]
    b = write_jsonl(tmp_path / "b.jsonl", rows)
    assert main(["agreement", str(a), str(b), "--output", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert f"{a}:2: no row has a 'stance' or 'sentiment' label (fields: 'region', 'amount')" in err
    assert f"{b}:2: no 'id' or 'text'" in err
    assert not (tmp_path / "out").exists()


def test_agreement_splits_a_labelling_page_file_by_annotator(tmp_path):
    base = {"text": "Turkey shelled the town.", "target": "Turkey", "sentiment": "negative"}
    rows = [
        dict(base, id="1", stance="favor", annotator="ann", labelled_at="2024-01-01T00:00:00+00:00"),
        dict(base, id="1", stance="against", annotator="bob", labelled_at="2024-01-01T00:00:01+00:00"),
        dict(base, id="1", stance="against", annotator="ann", labelled_at="2024-01-01T00:00:02+00:00"),  # re-saved
        dict(base, id="2", stance="neutral", annotator="ann", labelled_at="2024-01-01T00:00:03+00:00"),
        dict(base, id="2", stance="neutral", annotator="bob", labelled_at="2024-01-01T00:00:04+00:00"),
    ]
    page = write_jsonl(tmp_path / "server1.jsonl", rows)
    assert main(["agreement", str(page), "--output", str(tmp_path / "out")]) == 0
    report = json.loads((tmp_path / "out/agreement.json").read_text())
    assert report["annotators"] == ["server1:ann", "server1:bob"] and report["superseded_answers"] == 1
    assert report["tasks"]["stance"]["pairs"]["server1:ann vs server1:bob"]["percent_agreement"] == 1.0
    merged = read(tmp_path / "out/merged.jsonl")
    assert [r["stance"] for r in merged] == ["against", "neutral"]
    assert not {"annotator", "labelled_at"} & set(merged[0])
    alone = write_jsonl(tmp_path / "alone.jsonl", [dict(base, id="1", stance="favor", annotator="ann")])
    assert main(["agreement", str(alone)]) == 2
    # A file per annotator ({annotator} in the page's output path) keeps the file's name.
    report = agreement([str(alone), str(page)])
    assert report["annotators"] == ["alone", "server1:ann", "server1:bob"]


# ----------------------------------------------------------------------------------------------- compare


@pytest.fixture(scope="module")
def stance_only_model(tiny_base, tmp_path_factory):
    from tests.conftest import stance_rows
    from training.config import TrainConfig
    from training.train import train

    work = tmp_path_factory.mktemp("stance-only")
    config = TrainConfig(
        train_files=[str(write_jsonl(work / "train.jsonl", stance_rows(24)))],
        output_dir=str(work / "model"), base_model=str(tiny_base), only_tasks=["stance"], max_steps=2,
        batch_size=8, max_length=48, progress=False, bf16="false",
    )  # fmt: skip
    return train(config)


def test_compare_uses_the_tasks_the_models_share_on_the_same_rows(tiny_model, stance_only_model, tmp_path, capsys):
    from tests.conftest import stance_rows

    rows = [dict(r, id=f"e{i}") for i, r in enumerate(stance_rows(12))]
    rows.append({"id": "na", "text": "Ankara is a city.", "target": "Turkey", "stance": "na", "sentiment": "neutral"})
    data = write_jsonl(tmp_path / "eval.jsonl", rows)
    args = ["compare", "--models", str(tiny_model), str(stance_only_model), "--data", str(data), "--resamples", "100"]
    assert main([*args, "--output", str(tmp_path / "cmp")]) == 0
    report = json.loads((tmp_path / "cmp/compare.json").read_text())
    assert set(report["tasks"]) == {"stance"} and [e["n"] for e in report["tasks"]["stance"]] == [12, 12]
    lines = (tmp_path / "cmp/disagreements.jsonl").read_text().splitlines()
    assert len(lines) == report["disagreements"]["stance"]
    for record in map(json.loads, lines):
        assert record["task"] == "stance" and record["gold"] and record["line"] >= 1
        assert [m["model"] for m in record["models"]] == [str(tiny_model), str(stance_only_model)]
        assert len({m["label"] for m in record["models"]}) == 2
    sentiment_only = write_jsonl(tmp_path / "sent.jsonl", [{"text": "Peace at last.", "sentiment": "positive"}])
    capsys.readouterr()
    assert main([*args[:4], "--data", str(sentiment_only)]) == 2
    assert "no rows with labels for the tasks the models have in common ['stance']" in capsys.readouterr().err


def test_compare_refuses_too_few_resamples(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["compare", "--models", "a", "b", "--data", "x.jsonl", "--resamples", "0"])
    assert exit_.value.code == 2 and "--resamples: must be at least 100" in capsys.readouterr().err


# ----------------------------------------------------------------------------------------------- suggest


def test_random_suggestions_report_the_real_count_and_write_the_jsonl_columns_to_csv(corpus, tmp_path, capsys):
    jsonl, csv_ = tmp_path / "one.jsonl", tmp_path / "one.csv"
    for out in (jsonl, csv_):
        assert main(["suggest", "--random", "--input", str(corpus), "--n", "1", "--output", str(out)]) == 0
    rows = read(jsonl)
    summary_err = capsys.readouterr().err
    assert f"{len(rows)} pairs from 1 documents written to {csv_} (--random takes whole articles" in summary_err
    import pandas as pd

    frame = pd.read_csv(csv_)
    assert list(frame.columns) == list(rows[0]) and len(frame) == len(rows) >= 1
    assert {"text", "target", "mention", "mention_start", "mention_end", "stance", "sentiment"} <= set(frame.columns)


def test_suggest_refuses_bad_n_and_corpora_without_pairs_and_reports_bad_exclude_lines(
    corpus, tmp_path, capsys, caplog
):
    out = tmp_path / "s.jsonl"
    with pytest.raises(SystemExit) as exit_:
        main(["suggest", "--random", "--input", str(corpus), "--n", "-3", "--output", str(out)])
    assert exit_.value.code == 2 and "--n: must be at least 1" in capsys.readouterr().err
    empty = write_jsonl(tmp_path / "plain.jsonl", [{"id": "d1", "text": "The weather was fine all week."}])
    assert main(["suggest", "--random", "--input", str(empty), "--n", "5", "--output", str(out)]) == 2
    assert "no (sentence, actor) pairs to suggest" in capsys.readouterr().err and not out.exists()
    exclude = tmp_path / "labelled.jsonl"
    exclude.write_text('{"text": "Ankara spoke.", "target": "Turkey"}\n{oops\n{"id": "x"}\n')
    with caplog.at_level("WARNING", logger="stance.suggest"):
        args = ["--input", str(corpus), "--n", "3", "--output", str(out), "--exclude", str(exclude)]
        assert main(["suggest", "--random", *args]) == 0
    assert f"{exclude}:2: invalid JSON" in caplog.text and f"{exclude}:3: no 'text'" in caplog.text


def test_per_actor_suggestions_are_balanced_random_within_each_actor_and_capped_per_document(corpus, tmp_path, capsys):
    out = tmp_path / "balanced.jsonl"
    args = ["suggest", "--per-actor", "--input", str(corpus), "--n", "3", "--per-document", "1", "--seed", "4"]
    assert main([*args, "--output", str(out)]) == 0
    rows = read(out)
    by_actor: dict[str, list] = {}
    for r in rows:
        by_actor.setdefault(r["target"], []).append(r)
    assert set(by_actor) == {"Syria", "Turkey", "United States", "al-Nusra Front"}
    assert all(len(v) == 3 and len({r["doc_id"] for r in v}) == 3 for v in by_actor.values())
    assert all("model_stance" not in r for r in rows)  # no model is read in this mode
    assert "3 pairs per actor, at most 1 from one document" in capsys.readouterr().err
    again = tmp_path / "again.jsonl"
    assert main([*args, "--output", str(again)]) == 0
    assert read(again) == rows  # the seed fixes the sample
    dev = tmp_path / "dev.jsonl"
    assert main([*args[:-2], "--seed", "5", "--output", str(dev), "--exclude", str(out)]) == 0
    assert not {r["doc_id"] for r in rows} & {r["doc_id"] for r in read(dev)}


def test_per_actor_and_random_are_two_modes(corpus, tmp_path, capsys):
    out = tmp_path / "x.jsonl"
    assert main(["suggest", "--per-actor", "--random", "--input", str(corpus), "--n", "3", "--output", str(out)]) == 2
    assert "choose one" in capsys.readouterr().err and not out.exists()
