from __future__ import annotations

import json

import pandas as pd
import pytest

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


# Regression tests on hand-written analyze output (no model needed).

PROBS = {
    "against": {"against": 0.8, "neutral": 0.1, "favor": 0.1},
    "neutral": {"against": 0.1, "neutral": 0.8, "favor": 0.1},
    "favor": {"against": 0.1, "neutral": 0.1, "favor": 0.8},
}


def doc(doc_id, pairs, **meta):
    """An analyzed document: one sentence per (actor, label[, mentioned]) pair."""
    sentences = []
    for index, (actor, label, *mentioned) in enumerate(pairs):
        stance = {"label": label, "probabilities": PROBS[label]}
        actors = [{"actor": actor, "mentioned": mentioned[0] if mentioned else True, "mentions": [], "stance": stance}]
        sentences.append({"index": index, "start": 0, "end": 1, "text": "x", "actors": actors})
    return {"id": doc_id, **meta, "sentences": sentences}


def write_docs(path, docs):
    path.write_text("".join((d if isinstance(d, str) else json.dumps(d)) + "\n" for d in docs), encoding="utf-8")
    return path


def run(capsys, *argv):
    code = main(["summarize", *map(str, argv)])
    captured = capsys.readouterr()
    return code, captured.err


GOOD = doc("a", [("Syria", "favor"), ("Turkey", "against")], source="sana", date="2017-04-07")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("42", ":2: expected an analyzed document (a JSON object), got a number"),
        ('{"id": "x", "sentences": 5}', ":2: field 'sentences' must be a list"),
        (
            '{"id": "x", "sentences": [{"index": 0, "actors": [{"actor": "Syria", "mentioned": true, '
            '"stance": {"label": "favor"}}]}]}',
            ":2: sentences[0].actors[0].stance.probabilities: missing",
        ),
        ('{"id": "x", "sentences": [{"actors": "Syria"}]}', ":2: sentences[0].actors: expected a list"),
    ],
)
def test_malformed_lines_are_errors_with_file_line_and_field(tmp_path, capsys, line, expected):
    source = write_docs(tmp_path / "in.jsonl", [GOOD, line])
    code, err = run(capsys, "--input", source, "--output", tmp_path / "out")
    assert code == 2 and f"{source}{expected}" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_group_column_with_lists_or_mixed_kinds_is_an_error(tmp_path, capsys):
    docs = [
        doc("a", [("Syria", "favor")], source="sana", tags=["x", "y"]),
        doc("b", [("Syria", "against")], source=5, tags=["z"]),
    ]
    source = write_docs(tmp_path / "in.jsonl", docs)
    code, err = run(capsys, "--input", source, "--output", tmp_path / "out", "--by", "tags")
    assert code == 2 and f"{source}:1: field 'tags' is a list" in err
    code, err = run(capsys, "--input", source, "--output", tmp_path / "out", "--by", "source")
    assert code == 2 and "--by source" in err and "mixes kinds" in err and f"{source}:2" in err
    assert not (tmp_path / "out").exists()


def test_output_that_is_a_file_or_a_builtin_group_name(tmp_path, capsys):
    source = write_docs(tmp_path / "in.jsonl", [GOOD])
    target = tmp_path / "taken"
    target.write_text("keep")
    code, err = run(capsys, "--input", source, "--output", target)
    assert code == 2 and "--output" in err and "is a file" in err and target.read_text() == "keep"
    code, err = run(capsys, "--input", source, "--output", tmp_path / "out", "--by", "actor")
    assert code == 2 and "--by actor" in err and "rename it" in err and "already exists" not in err
    assert not (tmp_path / "out").exists()


def test_nothing_is_overwritten_when_the_input_is_bad(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary_by_actor.csv").write_text("old")
    source = write_docs(tmp_path / "in.jsonl", [GOOD, "42"])
    assert run(capsys, "--input", source, "--output", out)[0] == 2
    assert [p.name for p in out.iterdir()] == ["summary_by_actor.csv"] and (
        out / "summary_by_actor.csv"
    ).read_text() == "old"


def test_min_sentences_above_every_group_writes_tables_and_skips_the_chart(tmp_path, capsys):
    source = write_docs(tmp_path / "in.jsonl", [GOOD])
    out = tmp_path / "out"
    code, err = run(capsys, "--input", source, "--output", out, "--by", "source", "--min-sentences", "1000")
    assert code == 0 and "no (source, actor) group has 1000 or more sentences (the largest has 1)" in err
    assert pd.read_csv(out / "summary_by_source.csv").empty and not (out / "stance_by_source.png").exists()
    assert "no (source, actor) group has 1000" in (out / "summary.html").read_text()


def test_empty_csv_names_the_file(tmp_path, capsys):
    source = tmp_path / "empty.csv"
    source.write_text("")
    code, err = run(capsys, "--input", source, "--output", tmp_path / "out")
    assert code == 2 and f"{source}: empty file" in err


def test_dates_that_do_not_parse_are_reported(tmp_path, capsys):
    docs = [
        doc("a", [("Syria", "favor")], date="2017-04-07T10:00:00Z"),
        doc("b", [("Syria", "against"), ("Turkey", "favor")], date="sometime in spring"),
        doc("c", [("Syria", "neutral")], date="03/04/2017"),
    ]
    source = write_docs(tmp_path / "in.jsonl", docs)
    out = tmp_path / "out"
    code, err = run(capsys, "--input", source, "--output", out)
    assert code == 0
    assert f"1 of 3 documents have a 'date' that did not parse as a date, e.g. 'sometime in spring' ({source}:2)" in err
    assert "'03/04/2017' could be day or month first" in err and "--date-order dmy" in err
    assert "sometime in spring" in (out / "summary.html").read_text()
    assert set(pd.read_csv(out / "summary_by_month.csv")["month"]) == {"2017-03", "2017-04"}
    assert run(capsys, "--input", source, "--output", out, "--date-order", "dmy")[0] == 0
    assert set(pd.read_csv(out / "summary_by_month.csv")["month"]) == {"2017-04"}

    source = write_docs(tmp_path / "none.jsonl", [doc("a", [("Syria", "favor")], date="soon")])
    code, err = run(capsys, "--input", source, "--output", tmp_path / "none")
    assert code == 0 and "no value of 'date' is a date" in err and not (tmp_path / "none/summary_by_month.csv").exists()


def test_unknown_date_column_lists_the_columns(tmp_path, capsys):
    source = write_docs(tmp_path / "in.jsonl", [GOOD])
    code, err = run(capsys, "--input", source, "--output", tmp_path / "out", "--date-column", "published")
    assert code == 2 and "--date-column 'published': no such column; available: ['id', 'source', 'date']" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_unmentioned_pairs_are_left_out_unless_asked(tmp_path, capsys, suffix):
    docs = [doc("a", [("Syria", "favor"), ("Turkey", "against", False), ("Turkey", "favor", False)])]
    source = write_docs(tmp_path / "in.jsonl", docs)
    if suffix != ".jsonl":  # the flat form of stance analyze: one row per pair, with a mentioned column
        from analysis.analyzed import load_pairs

        flat = load_pairs(source)[
            ["id", "sentence_index", "actor", "mentioned", "stance", *(f"stance_p_{k}" for k in PROBS)]
        ]
        source = tmp_path / f"in{suffix}"
        flat.to_csv(source, index=False) if suffix == ".csv" else flat.to_parquet(source)
    out = tmp_path / "out"
    code, err = run(capsys, "--input", source, "--output", out)
    assert code == 0 and "2 (sentence, actor) pairs for actors the sentence does not mention" in err
    assert list(pd.read_csv(out / "summary_by_actor.csv")["actor"]) == ["Syria"]
    assert "--include-unmentioned" in (out / "summary.html").read_text()
    assert run(capsys, "--input", source, "--output", out, "--include-unmentioned")[0] == 0
    assert pd.read_csv(out / "summary_by_actor.csv").set_index("actor").loc["Turkey", "sentences"] == 2


def _pairs(rows):
    """Scored pairs as `summarize` reads them: doc_id, month, actor, stance and its probabilities."""
    import pandas as pd

    from analysis.analyzed import DOC

    out = []
    for doc, month, actor, favor in rows:
        out.append({DOC: doc, "month": month, "actor": actor, "stance": "favor" if favor > 0.5 else "against",
                    "stance_p_favor": favor, "stance_p_against": 1 - favor, "stance_p_neutral": 0.0})  # fmt: skip
    return pd.DataFrame(out)


def test_net_stance_intervals_are_clustered_by_document():
    import math

    from analysis.aggregate import aggregate

    # Two articles, each with four sentences that agree with each other: two units, not eight.
    rows = [("a", "2017-01", "Syria", 0.9)] * 4 + [("b", "2017-01", "Syria", 0.1)] * 4
    rows += [("c", "2017-02", "Syria", 0.9)]  # one article: no interval
    table = aggregate(_pairs(rows), ["month"]).set_index("month")
    low, high = table.loc["2017-01", ["net_stance_ci95_low", "net_stance_ci95_high"]]
    assert abs(table.loc["2017-01", "net_stance"]) < 1e-9 and low == -1 and high == 1  # 0 +- 1.96 * 0.8, clipped
    independent = _pairs([(f"d{i}", "2017-01", "Syria", f) for i, (_, _, _, f) in enumerate(rows[:8])])
    t2 = aggregate(independent, ["month"]).iloc[0]
    assert t2["net_stance_ci95_high"] - t2["net_stance_ci95_low"] < high - low  # eight articles: narrower
    assert math.isnan(table.loc["2017-02", "net_stance_ci95_low"])


def test_the_time_axis_is_real_with_gaps_for_periods_without_sentences():
    from analysis.aggregate import aggregate
    from analysis.report import chart_over_time, series_per_actor

    rows = [("a", "2017-01", "Syria", 0.9), ("b", "2017-04", "Syria", 0.2), ("c", "2017-02", "Turkey", 0.4)]
    table = aggregate(_pairs(rows), ["month"])
    series = series_per_actor(table, "month", "M")
    syria = series["Syria"]
    assert [d.strftime("%Y-%m") for d in syria.index] == ["2017-01", "2017-02", "2017-03", "2017-04"]
    assert syria["net_stance"].isna().tolist() == [False, True, True, False]  # gaps, not bridged
    assert syria["sentences"].tolist()[0] == 1
    assert chart_over_time(table, "month", "M")[:8] == b"\x89PNG\r\n\x1a\n"
