"""Does the model hear a diplomat criticise a country? Real speeches from UNSCon (data/unscon/), not written probes.

UNSCon annotates negative evaluations in UN Security Council speeches on Ukraine (2014, 2016) and the country each
one targets. It has no positive class, so it cannot give a stance macro-F1. It can answer two questions about the
weakness benchmarks/probes/ was written for, that criticism of a country named by its bare name reads as neutral:
- recall: of the sentences annotated as negatively evaluating Russia, Ukraine or the United States that name it, the
  share the model reads as `against` that country;
- false alarms: of the sentences with no negative evaluation at all that name one of them, the share read as
  `against` (a sentence without one may still praise, so "not against" is the right reading, whichever of neutral
  or favor).

Mentions are found by the project's actor registry: the default registry's United States, plus Russia and Ukraine
defined below. Sentences whose negative evaluation targets another country or no country are left out for the
countries they do not target.

`make bench-probes` prints these figures (benchmarks/unscon.py); `training.dev_score` reads half 0 when it scores
a recipe for an experiment.

``half``: only the speeches with ``int(sha1(file_id), 16) % 2`` equal to it. Half 0 may select a recipe (the rule
in experiments/EXPERIMENTS.md, "Teacher labels for unlabelled news"); half 1 only reports.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

DATA = REPO / "data" / "unscon" / "sentences.csv"
TARGETS = {"russian_federation": "Russia", "ukraine": "Ukraine", "united_states_of_america": "United States"}
RUSSIA = """Russian Federation | the Russian Federation | Moscow | the Kremlin | Kremlin | the Russian Government |
Russian Government | the Russian authorities | Russian forces | Russian troops | Russian military"""
UKRAINE = """Kyiv | Kiev | the Ukrainian Government | Ukrainian Government | the Ukrainian authorities |
Ukrainian authorities | Ukrainian forces | Ukrainian armed forces | Ukrainian army"""
EXTRA_ACTORS = [
    {"name": "Russia", "aliases": [a.strip() for a in RUSSIA.split("|")]},
    {"name": "Ukraine", "aliases": [a.strip() for a in UKRAINE.split("|")]},
]
NEGATIVE = {"Direct_NegEval", "Indirect_NegEval"}


def registry():
    from model.actors import ActorRegistry

    default = ActorRegistry.default()
    us = default.get("United States")
    assert us is not None
    records = [{"name": us.name, "aliases": list(us.aliases), "case_sensitive": list(us.case_sensitive),
                "exclude": list(us.exclude)}, *EXTRA_ACTORS]  # fmt: skip
    return ActorRegistry.from_records(records, source="training/unscon.py")


def half_of(file_id: str) -> int:
    """Which half of UNSCon a speech belongs to (0 or 1), by a hash of its file id."""
    return int(hashlib.sha1(file_id.encode("utf-8")).hexdigest(), 16) % 2


def pairs(path: Path = DATA, half: int | None = None) -> list[dict]:
    """One item per (sentence, country it names): ``negative`` True (annotated against it) or False (no
    negative evaluation in the sentence); the mention spans; the CSV line. ``half``: one half of the speeches."""
    from model.types import Pair

    reg = registry()
    items = []
    with open(path, encoding="utf-8", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            if half is not None and half_of(row["file_id"]) != half:
                continue
            text = " ".join(row["sentence_text"].split())
            target = TARGETS.get(row["A4"])
            for actor, spans in reg.find_mentions(text).items():
                if row["A0"] in NEGATIVE and target == actor:
                    negative = True
                elif row["A0"] == "_":
                    negative = False
                else:
                    continue
                mention = text[spans[0].start : spans[0].end]
                items.append({"pair": Pair(text, actor, tuple(spans)), "negative": negative, "line": line,
                              "mention": mention, "speaker": row["country"]})  # fmt: skip
    return items


def score(model_dir: str, items: list[dict], predictor=None) -> dict:
    """Against-rates per group and actor; ``predictor`` when the caller has already loaded ``model_dir``."""
    from model.predictor import StancePredictor

    predictor = predictor or StancePredictor.from_dir(model_dir)
    predictions = predictor.predict([i["pair"] for i in items], batch_size=64)
    counts: dict = defaultdict(lambda: [0, 0])  # (group, actor) -> [read against, all]
    for item, p in zip(items, predictions, strict=True):
        against = p.tasks["stance"].label == "against"
        group = "negative" if item["negative"] else "none"
        for key in ((group, "all"), (group, item["pair"].target)):
            counts[key][0] += int(against)
            counts[key][1] += 1
    project = json.loads((Path(model_dir) / "stance_model.json").read_text())
    out: dict = {"model": model_dir, "weights_sha256": project.get("weights_sha256", "")[:12]}
    for (group, actor), (hit, n) in sorted(counts.items()):
        name = "recall_against" if group == "negative" else "false_against"
        out.setdefault(name, {})[actor] = {"rate": round(hit / n, 3), "n": n}
    return out
