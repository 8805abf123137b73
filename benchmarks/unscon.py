"""`make bench-probes`, second half: the UNSCon figures (training/unscon.py) of one or more models.

    python -m benchmarks.unscon --model models/default [--model OTHER ...] [--half 0|1] [--output FILE]

``--half``: only the speeches with ``int(sha1(file_id), 16) % 2`` equal to it. Half 0 may select a recipe (the rule
in experiments/EXPERIMENTS.md, "Teacher labels for unlabelled news"); half 1 only reports.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from training.unscon import pairs, score


def main() -> None:
    parser = argparse.ArgumentParser(description="Does the model hear a diplomat criticise a country? (UNSCon)")
    parser.add_argument("--model", action="append", required=True, help="model directory (repeatable)")
    parser.add_argument("--half", type=int, choices=(0, 1), help="only one half of the speeches (see above)")
    parser.add_argument("--output", help="JSON file for the results")
    args = parser.parse_args()
    items = pairs(half=args.half)
    results = [score(m, items) for m in args.model]
    print("| model | against, where annotated (recall) | against, where no negative evaluation (false alarms) |")
    print("|---|---|---|")
    for r in results:
        rec, fa = r["recall_against"], r["false_against"]
        per = ", ".join(f"{a} {v['rate']:.2f} (n={v['n']})" for a, v in rec.items() if a != "all")
        print(f"| {r['model']} `{r['weights_sha256']}` | **{rec['all']['rate']:.3f}** of {rec['all']['n']} ({per}) "
              f"| **{fa['all']['rate']:.3f}** of {fa['all']['n']} |")  # fmt: skip
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
