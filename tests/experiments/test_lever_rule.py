"""experiments/lever_rule.py: issue 26's rule adopts the best lever that passes every condition."""

from __future__ import annotations

from experiments import lever_rule


def test_the_lever_rule_adopts_the_best_lever_that_passes_every_condition():
    def run(balanced, news, favor):
        return {"balanced_dev": balanced, "newsmtsc_dev": news, "recall": {"favor": favor}}

    scores = {
        "default": run(0.60, 0.78, 0.30),
        "small_gain": run(0.61, 0.78, 0.40),  # under the 0.02 bar
        "costly": run(0.70, 0.76, 0.50),  # NewsMTSC dev drops by 0.02
        "fewer_favor": run(0.66, 0.78, 0.20),
        "good": run(0.64, 0.775, 0.35),
        "better": run(0.65, 0.78, 0.31),
    }
    verdict = lever_rule.verdict(scores, min_gain=0.02, max_newsmtsc_drop=0.01)
    assert verdict["passing"] == ["better", "good"] and verdict["adopt"] == "better"
    assert scores["costly"]["conditions"]["newsmtsc_dev_drop"] is False
    nothing = lever_rule.verdict({k: scores[k] for k in ("default", "small_gain")}, 0.02, 0.01)
    assert nothing["adopt"] == "default" and nothing["passing"] == []
