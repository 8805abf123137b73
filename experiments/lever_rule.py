"""Issue 26's lever rule: which minority-recall lever, if any, joins the default recipe; decided on dev only.

Each ``--run NAME DIR`` is one recipe's seed-42 model (the first is the baseline, `default`). Every model is scored
on what may decide (experiments/EXPERIMENTS.md, "Every named actor", rule written before the runs finished):
- the actor-balanced stance macro-F1 on data/fakes_stance/dev_balanced.jsonl from the network's own argmax (no
  prior correction; a temperature changes no label), each actor's macro-F1 and the mean favor recall over actors;
- NewsMTSC dev (dev_rw + dev_mt pooled) stance macro-F1;
- the prior correction fitted on the in-domain dev files (`training.calibrate`), its two-fold cross-validated gain,
  and what it does to NewsMTSC dev.
A lever is adopted if its balanced dev score beats the baseline's by ``--min-gain`` (0.02) with NewsMTSC dev at most
``--max-newsmtsc-drop`` (0.01) lower and the favor recall not lower; the best such lever wins. No test set is read.

    python -m experiments.lever_rule --run default /tmp/exp/default-s42 --run oversample_actors \\
        /tmp/exp/oversample_actors-s42 ... --output experiments/results/lever_rule_issue26.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from model.predictor import StancePredictor
from training.breakdown import actor_breakdown
from training.calibrate import fit_calibration
from training.data import load_evaluation_data
from training.evaluate import default_actors
from training.metrics import macro_f1

REPO = Path(__file__).resolve().parents[1]

BALANCED_DEV = "data/fakes_stance/dev_balanced.jsonl"
CALIBRATION = ("data/fakes_stance/dev.jsonl", BALANCED_DEV)
NEWSMTSC_DEV = ("data/newsmtsc/dev_rw.jsonl", "data/newsmtsc/dev_mt.jsonl")


def stance_argmax(predictor: StancePredictor, rows, bias: tuple[float, ...] = ()) -> tuple[np.ndarray, np.ndarray]:
    labels = predictor.project.task("stance").labels
    logits = predictor.logits([r.pair for r in rows], "stance", batch_size=64).numpy()
    if bias:
        logits = logits + np.asarray(bias)
    gold = np.array([labels.index(r.labels["stance"]) for r in rows])
    return gold, logits.argmax(1)


def score(model_dir: str) -> dict:
    predictor = StancePredictor.from_dir(model_dir)
    tasks, labels = predictor.tasks, predictor.project.task("stance").labels
    balanced = [r for r in load_evaluation_data([str(REPO / BALANCED_DEV)], tasks).rows if "stance" in r.labels]
    news = [r for r in load_evaluation_data([str(REPO / f) for f in NEWSMTSC_DEV], tasks).rows if "stance" in r.labels]
    calibration_rows = load_evaluation_data([str(REPO / f) for f in CALIBRATION], tasks).rows
    fitted = fit_calibration(predictor, calibration_rows, bias="auto", files=CALIBRATION)["stance"]
    gold, pred = stance_argmax(predictor, balanced)
    block = actor_breakdown(gold, pred, [r.pair.target for r in balanced], labels, default_actors(), resamples=200)
    assert block is not None
    news_gold, news_pred = stance_argmax(predictor, news)
    prior = fitted.fitted.get("prior_correction", {})
    bias = tuple(prior.get("fitted", ()))
    _, news_pred_bias = stance_argmax(predictor, news, bias)
    gold_b, pred_b = stance_argmax(predictor, balanced, bias)
    with_bias = actor_breakdown(gold_b, pred_b, [r.pair.target for r in balanced], labels, default_actors(), 200)
    assert with_bias is not None
    return {
        "model": model_dir,
        "weights_sha256": predictor.project.weights_sha256[:12],
        "balanced_dev": round(block["balanced_macro_f1"], 4),
        "per_actor": {a: round(v["macro_f1"], 4) for a, v in block["per_actor"].items()},
        "recall": {k: round(v, 4) for k, v in block["balanced_recall"].items()},
        "newsmtsc_dev": round(macro_f1(news_gold, news_pred, len(labels)), 4),
        "prior_correction": {
            **prior,
            "balanced_dev_in_sample": round(with_bias["balanced_macro_f1"], 4),
            "recall_in_sample": {k: round(v, 4) for k, v in with_bias["balanced_recall"].items()},
            "newsmtsc_dev": round(macro_f1(news_gold, news_pred_bias, len(labels)), 4),
        },
        "temperature": fitted.temperature,
    }


def verdict(scores: dict[str, dict], min_gain: float, max_newsmtsc_drop: float) -> dict:
    names = list(scores)
    base = scores[names[0]]
    passing = {}
    for name in names[1:]:
        s = scores[name]
        conditions = {
            "balanced_dev_gain": s["balanced_dev"] - base["balanced_dev"] >= min_gain,
            "newsmtsc_dev_drop": base["newsmtsc_dev"] - s["newsmtsc_dev"] <= max_newsmtsc_drop,
            "favor_recall_not_lower": s["recall"].get("favor", 0) >= base["recall"].get("favor", 0),
        }
        s["conditions"] = conditions
        s["difference"] = {
            "balanced_dev": round(s["balanced_dev"] - base["balanced_dev"], 4),
            "newsmtsc_dev": round(s["newsmtsc_dev"] - base["newsmtsc_dev"], 4),
            "favor_recall": round(s["recall"].get("favor", 0) - base["recall"].get("favor", 0), 4),
        }
        if all(conditions.values()):
            passing[name] = s["balanced_dev"]
    winner = max(passing, key=passing.__getitem__) if passing else names[0]
    return {"adopt": winner, "passing": sorted(passing), "min_gain": min_gain, "max_newsmtsc_drop": max_newsmtsc_drop}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", nargs=2, action="append", metavar=("NAME", "DIR"), required=True)
    parser.add_argument("--min-gain", type=float, default=0.02)
    parser.add_argument("--max-newsmtsc-drop", type=float, default=0.01)
    parser.add_argument("--output")
    args = parser.parse_args()
    scores = {name: score(path) for name, path in args.run}
    result = {"runs": scores, "verdict": verdict(scores, args.min_gain, args.max_newsmtsc_drop)}
    text = json.dumps(result, indent=2)
    print(text)
    if args.output:
        Path(args.output).write_text(text + "\n")


if __name__ == "__main__":
    main()
