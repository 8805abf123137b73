"""Decide between two training recipes on dev, seed by seed, before any test set is read.

Each ``--pair SEED BASELINE_DIR CANDIDATE_DIR`` is one seed of the baseline recipe and the same seed of the candidate,
trained on the same machine. Every model is scored on what may select, and nothing else (the scores are kept
beside the model directory in ``<dir>.seed_rule.json`` and reused while its weights are unchanged):
- pooled dev stance macro-F1: the checkpoint-selection score `stance train` wrote into stance_model.json;
- NewsMTSC dev (dev_rw + dev_mt, pooled) and FA-KES stance dev;
- UNSCon half 0 (training/unscon.py): criticism of a named country read as against, and false alarms.

The rule is the one experiments/EXPERIMENTS.md wrote down before the runs ("Teacher labels for unlabelled news", the
rule for the next session); its thresholds are the defaults below. With fewer seeds than ``--seeds-needed`` the verdict
is printed as provisional. ``--recorded FILE`` takes the pairs of an earlier ``--output`` for the seeds not given
with ``--pair`` (whose weights are gone), so a rule can run over several sessions; a BASELINE or CANDIDATE given as
a ``<dir>.seed_rule.json`` file is that run's recorded scores. The test sets are scored
afterwards with benchmarks/quality.py, and decide nothing.

    python -m experiments.seed_rule --pair 5 /tmp/exp/default-s5 /tmp/exp/teacher_pairs-s5 [--pair ...] \\
        [--output experiments/results/seed_rule_teacher_pairs.json]
    python -m experiments.seed_rule --recorded experiments/results/seed_rule_mention_swaps.json \\
        --pair 6 /tmp/exp/default-s6 /tmp/exp/mention_swaps-s6 --output experiments/results/seed_rule_mention_swaps.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from statistics import mean

DEV_SETS = ("dev_newsmtsc", "dev_fakes")  # of training.dev_score.SCORED; never a test set


def dev_scores(model_dir: str) -> dict:
    """The selection scores of one model directory (see the module's docstring), kept beside it in
    ``<model_dir>.seed_rule.json`` and reused while its weights are the same."""
    if model_dir.endswith(".seed_rule.json"):  # a run whose weights are gone: its recorded scores
        return json.loads(Path(model_dir).read_text())
    from training.dev_score import score

    project = json.loads((Path(model_dir) / "stance_model.json").read_text())
    cache = Path(f"{model_dir.rstrip('/')}.seed_rule.json")
    if cache.is_file():
        kept = json.loads(cache.read_text())
        if kept["weights_sha256"] == project.get("weights_sha256", "")[:12]:
            return {**kept, "model": model_dir}
    scores = score(Path(model_dir), names=DEV_SETS)
    result = {
        "model": model_dir,
        "weights_sha256": project.get("weights_sha256", "")[:12],
        "pooled_dev": round(project["metrics"]["dev"]["stance"]["macro_f1"], 4),
        "newsmtsc_dev": scores["dev_newsmtsc"]["macro_f1"],
        "fakes_dev": scores["dev_fakes"]["macro_f1"],
        "unscon_recall": scores["unscon_half0"]["recall_against"],
        "unscon_false": scores["unscon_half0"]["false_against"],
    }
    cache.write_text(json.dumps(result, indent=1) + "\n")
    return result


def verdict(pairs: list[dict], args) -> dict:
    """Mean differences (candidate - baseline) over the seeds, and whether each condition of the rule holds."""
    diff = {
        key: round(mean(p["candidate"][key] - p["baseline"][key] for p in pairs), 4)
        for key in ("pooled_dev", "newsmtsc_dev", "fakes_dev", "unscon_recall", "unscon_false")
    }
    checks = {
        f"pooled dev at most {args.max_dev_drop} below": diff["pooled_dev"] >= -args.max_dev_drop,
        f"NewsMTSC dev at most {args.max_dev_drop} below": diff["newsmtsc_dev"] >= -args.max_dev_drop,
        f"UNSCon half-0 recall up by at least {args.min_recall_gain}": diff["unscon_recall"] >= args.min_recall_gain,
        f"UNSCon half-0 false alarms up by at most {args.max_false_rise}": diff["unscon_false"] <= args.max_false_rise,
    }
    if args.min_fakes_gain is not None:
        checks[f"FA-KES dev up by at least {args.min_fakes_gain}"] = diff["fakes_dev"] >= args.min_fakes_gain
    complete = len(pairs) >= args.seeds_needed
    return {
        "seeds": [p["seed"] for p in pairs],
        "complete": complete,
        "mean_difference": diff,
        "conditions": checks,
        "adopt": complete and all(checks.values()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pair", nargs=3, action="append", default=[], metavar=("SEED", "BASELINE", "CANDIDATE"))
    parser.add_argument("--recorded", help="an earlier --output file: its pairs for the seeds not given with --pair")
    parser.add_argument("--max-dev-drop", type=float, default=0.002)
    parser.add_argument("--min-recall-gain", type=float, default=0.10)
    parser.add_argument("--max-false-rise", type=float, default=0.06)
    parser.add_argument("--min-fakes-gain", type=float, help="also ask FA-KES stance dev to rise by this much")
    parser.add_argument("--seeds-needed", type=int, default=3)
    parser.add_argument("--output", help="JSON file for the scores and the verdict")
    args = parser.parse_args()

    pairs = [
        {"seed": int(seed), "baseline": dev_scores(base), "candidate": dev_scores(cand)}
        for seed, base, cand in args.pair
    ]
    if args.recorded:
        given = {p["seed"] for p in pairs}
        kept = [p for p in json.loads(Path(args.recorded).read_text())["pairs"] if p["seed"] not in given]
        pairs = sorted(kept + pairs, key=lambda p: p["seed"])
    if not pairs:
        parser.error("give at least one --pair, or --recorded with recorded pairs")
    result = {"pairs": pairs, "verdict": verdict(pairs, args)}

    print("| seed | recipe | pooled dev | NewsMTSC dev | FA-KES dev | UNSCon-0 recall | UNSCon-0 false alarms |")
    print("|---|---|---|---|---|---|---|")
    for p in pairs:
        for side in ("baseline", "candidate"):
            s = p[side]
            print(f"| {p['seed']} | {side} `{s['weights_sha256']}` | {s['pooled_dev']:.4f} | {s['newsmtsc_dev']:.4f} "
                  f"| {s['fakes_dev']:.4f} | {s['unscon_recall']:.3f} | {s['unscon_false']:.3f} |")  # fmt: skip
    v = result["verdict"]
    d = v["mean_difference"]
    print(f"\nmean difference, candidate - baseline, over seeds {v['seeds']}: pooled dev {d['pooled_dev']:+.4f}, "
          f"NewsMTSC dev {d['newsmtsc_dev']:+.4f}, FA-KES dev {d['fakes_dev']:+.4f}, "
          f"UNSCon-0 recall {d['unscon_recall']:+.3f}, false alarms {d['unscon_false']:+.3f}")  # fmt: skip
    for name, ok in v["conditions"].items():
        print(f"  {'holds' if ok else 'FAILS'}: {name}")
    if not v["complete"]:
        print(f"provisional: {len(pairs)} of the {args.seeds_needed} seeds the rule needs")
    print("verdict: " + ("adopt the candidate" if v["adopt"] else "keep the baseline" if v["complete"] else "none yet"))
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
