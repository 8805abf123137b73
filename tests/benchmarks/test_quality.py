"""benchmarks/quality.py: the README's quality table."""

from __future__ import annotations

from benchmarks import quality
from tests.conftest import stance_rows, write_jsonl


def test_the_quality_table_leads_with_each_actor_and_the_balanced_mean(tiny_model, tmp_path, monkeypatch):
    test = write_jsonl(tmp_path / "balanced.jsonl", [dict(r, id=f"b{i}") for i, r in enumerate(stance_rows(24))])
    monkeypatch.setattr(quality, "REPO", tmp_path)
    monkeypatch.setattr(
        quality,
        "SUITES",
        [(name, test.name, "stance", metric, "-") for name, metric in (("B", "actor_balanced"), ("P", "macro_f1"))],
    )
    report = quality.run(str(tiny_model))
    assert [r["metric"] for r in report["results"]] == ["actor_balanced", "macro_f1"]
    balanced = report["results"][0]
    assert balanced["score"] == balanced["actors"]["balanced_macro_f1"] and "ece" in balanced
    for r in report["results"]:
        r["file"] = "data/fakes_stance/test_balanced.jsonl"
    text = quality.table(report, "make bench-quality")
    assert text.index("| Turkey |") < text.index("| **actor-balanced mean** |") < text.index("| test set |")
