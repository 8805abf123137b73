"""The second labelling round of the FA-KES stance set: actor-balanced test and dev sets, the remaining pairs of the
three smaller actors, and a review of the earlier labels (run once; its outputs are committed).

    # 1. the balanced evaluation samples (documents then kept out of training):
    stance suggest --per-actor --input data/fakes/articles.jsonl --n 82 --per-document 3 --seed 26 \
        --exclude data/fakes_stance/test.jsonl data/fakes_stance/dev.jsonl \
        --output data/fakes_stance/round2/balanced_test_items.jsonl
    stance suggest --per-actor --input data/fakes/articles.jsonl --n 42 --per-document 3 --seed 27 \
        --exclude data/fakes_stance/test.jsonl data/fakes_stance/dev.jsonl \
                  data/fakes_stance/round2/balanced_test_items.jsonl \
        --output data/fakes_stance/round2/balanced_dev_items.jsonl
    # 2. what to label: the sampled pairs without labels, every other unlabelled pair of Turkey, the United States
    #    and al-Nusra Front outside evaluation articles, and a random share of the unlabelled Syria pairs:
    python -m scripts.fakes_round2 items --syria 150
    # 3. three independent passes label round2/to_label.jsonl (docs/ANNOTATION.md) into round2/passes/; then:
    python -m scripts.fakes_round2 build

`build` writes data/fakes_stance/{test_balanced,dev_balanced,train}.jsonl, re-writes test.jsonl and dev.jsonl
with the review's corrections, round2/agreement/, counts.json, and drops from data/distill/ the teacher pairs that
are now labelled by people or lie in evaluation articles (their teacher probabilities for the newly labelled pairs
go to data/distill/fakes_round2_soft.jsonl, a separate lever). Run `scripts/mention_swaps.py` afterwards.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections import Counter
from pathlib import Path

from training.agreement import agreement, render
from training.suggest import normalise

REPO = Path(__file__).resolve().parents[1]

DATA = REPO / "data/fakes_stance"
ROUND = DATA / "round2"
DISTILL = REPO / "data/distill"
KEEP = ("id", "doc_id", "source", "text", "target", "mention", "mention_start", "mention_end")
LABELS = ("stance", "sentiment", "confidence")
SEED = 26


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def write(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def first_round() -> dict[str, dict]:
    """The first round's majority labels by item id (its test, dev and train items), before the review."""
    return {r["id"]: r for r in read(DATA / "agreement" / "merged.jsonl") if r.get("stance") or r.get("sentiment")}


def evaluation_sets() -> tuple[list[dict], list[dict]]:
    return read(ROUND / "balanced_test_items.jsonl"), read(ROUND / "balanced_dev_items.jsonl")


def items(args: argparse.Namespace) -> None:
    from analysis.corpus import iter_documents
    from model.actors import ActorRegistry
    from model.extraction import Document
    from training.suggest import candidates

    labelled = first_round()
    test, dev = evaluation_sets()
    old_test, old_dev = read(DATA / "test.jsonl"), read(DATA / "dev.jsonl")
    held = test + dev + old_test + old_dev
    held_docs, held_texts = {r["doc_id"] for r in held}, {normalise(r["text"]) for r in held}
    documents = [d for d in iter_documents(str(REPO / "data/fakes/articles.jsonl")) if isinstance(d, Document)]
    seen: set[str] = set()
    small, syria = [], []
    for c in candidates(documents, ActorRegistry.default(), None):
        if c.item_id in seen or c.item_id in labelled or c.doc_id in held_docs or normalise(c.text) in held_texts:
            continue
        seen.add(c.item_id)
        (syria if c.actor == "Syria" else small).append(c.to_row(with_guess=False))
    syria.sort(key=lambda r: hashlib.sha256(f"{SEED}:{r['id']}".encode()).hexdigest())
    train_items = small + syria[: args.syria]
    evaluation = [r for r in test + dev if r["id"] not in labelled]
    write(ROUND / "to_label.jsonl", evaluation + train_items)
    print(
        f"{len(evaluation)} evaluation pairs without labels, {len(train_items)} training pairs "
        f"({dict(Counter(r['target'] for r in train_items))}; Syria: {args.syria} of {len(syria)} at random) "
        f"-> {ROUND / 'to_label.jsonl'}"
    )


def reviewed(first: dict[str, dict], review: dict[str, dict]) -> tuple[dict[str, dict], Counter]:
    """The first round's labels with the review's stance corrections, and the corrections counted by change."""
    out, changes = {}, Counter()
    for i, row in first.items():
        fix = review.get(i)
        if fix and fix["changed"] and row.get("stance") != fix["stance"]:
            changes[f"{row.get('stance')} -> {fix['stance']}"] += 1
            row = {**row, "stance": fix["stance"]}
        out[i] = row
    return out, changes


def build(args: argparse.Namespace) -> None:
    to_label = {r["id"]: r for r in read(ROUND / "to_label.jsonl")}
    pass_files = []
    for name in ("a", "b", "c"):
        labels = {r["id"]: r for r in read(ROUND / "passes" / f"pass_{name}.labels.jsonl")}
        missing = set(to_label) - set(labels)
        if missing:
            raise SystemExit(f"pass {name}: {len(missing)} items unlabelled, e.g. {sorted(missing)[:3]}")
        out = ROUND / "annotations" / f"pass_{name}.jsonl"
        write(
            out, [{**{k: item[k] for k in KEEP}, **{k: labels[i][k] for k in LABELS}} for i, item in to_label.items()]
        )
        pass_files.append(str(out))
    report = agreement(pass_files, str(ROUND / "agreement"))
    print(render(report))
    merged = {r["id"]: r for r in read(ROUND / "agreement" / "merged.jsonl")}

    first = first_round()
    labelled, changes = reviewed(first, {r["id"]: r for r in read(ROUND / "review.jsonl")})
    first_splits = {split: [r["id"] for r in read(DATA / f"{split}.jsonl")] for split in ("test", "dev")}
    for split, ids in first_splits.items():
        write(DATA / f"{split}.jsonl", [labelled[i] for i in ids])
    print(f"review: {sum(changes.values())} stance labels of the first round changed: {dict(changes)}")

    def labelled_row(item: dict) -> dict | None:
        row = labelled.get(item["id"]) or merged.get(item["id"])
        return row if row and (row.get("stance") or row.get("sentiment")) else None

    test, dev = evaluation_sets()
    splits = {
        "test_balanced": [r for r in (labelled_row(i) for i in test) if r],
        "dev_balanced": [r for r in (labelled_row(i) for i in dev) if r],
    }
    held = [*test, *dev, *read(DATA / "test.jsonl"), *read(DATA / "dev.jsonl")]
    held_docs, held_texts = {r["doc_id"] for r in held}, {normalise(r["text"]) for r in held}
    evaluated_first = set(first_splits["test"]) | set(first_splits["dev"])
    old_train = [row for i, row in labelled.items() if i not in evaluated_first]
    kept_old = [r for r in old_train if r["doc_id"] not in held_docs and normalise(r["text"]) not in held_texts]
    evaluation_ids = {i["id"] for i in test + dev}
    new = [merged[i] for i in to_label if i not in evaluation_ids and i in merged]
    # FA-KES repeats some sentences across articles: an input labelled in the first round keeps that label.
    known = {(r["text"], r["target"]) for r in kept_old}
    deduplicated = []
    for r in new:
        if (r.get("stance") or r.get("sentiment")) and (r["text"], r["target"]) not in known:
            known.add((r["text"], r["target"]))
            deduplicated.append(r)
    new = deduplicated
    splits["train"] = kept_old + new
    for name, rows in splits.items():
        write(DATA / f"{name}.jsonl", rows)
    print(
        f"train: {len(kept_old)} of {len(old_train)} first-round pairs kept (the rest lie in evaluation articles), "
        f"{len(new)} new"
    )

    # Teacher pairs: none in evaluation articles, none that people have now labelled.
    human = {(r["text"], r["target"]) for r in splits["train"]}
    pairs = read(DISTILL / "teacher_pairs.jsonl")
    kept, moved = [], []
    for r in pairs:
        if r.get("doc_id") in held_docs or normalise(r["text"]) in held_texts:
            continue
        (moved if (r["text"], r["target"]) in human else kept).append(r)
    # (a re-run finds the moved pairs' probabilities in fakes_round2_soft.jsonl, written the first time)
    earlier = DISTILL / "fakes_round2_soft.jsonl"
    soft = read(DISTILL / "teacher_pairs_soft.jsonl") + (read(earlier) if earlier.is_file() else [])
    keep_keys = {(r["text"], r["target"]) for r in kept}
    write(DISTILL / "teacher_pairs.jsonl", kept)
    write(DISTILL / "teacher_pairs_soft.jsonl", [s for s in soft if (s["text"], s["target"]) in keep_keys])
    moved_soft = [s for s in soft if (s["text"], s["target"]) in human]
    write(earlier, moved_soft)
    print(
        f"teacher pairs: {len(kept)} of {len(pairs)} kept; {len(moved)} now labelled by people; teacher "
        f"probabilities for {len(moved_soft)} human-labelled training pairs in {earlier.name}"
    )

    counts = json.loads((DATA / "counts.json").read_text()) if (DATA / "counts.json").is_file() else {}
    for name in ("test", "dev", "train", "test_balanced", "dev_balanced"):
        rows = read(DATA / f"{name}.jsonl")
        counts[name] = {
            "rows": len(rows),
            "documents": len({r["doc_id"] for r in rows}),
            "stance": dict(Counter(r.get("stance", "(no majority)") for r in rows)),
            "sentiment": dict(Counter(r.get("sentiment", "(no majority)") for r in rows)),
            "per_actor": {
                actor: dict(Counter(r.get("stance", "(no majority)") for r in rows if r["target"] == actor))
                for actor in ("Syria", "Turkey", "United States", "al-Nusra Front")
            },
        }
    counts["review_changes"] = dict(changes)
    (DATA / "counts.json").write_text(json.dumps(counts, indent=2) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="step", required=True)
    pick = sub.add_parser("items", help="write round2/to_label.jsonl")
    pick.add_argument("--syria", type=int, default=150, help="how many unlabelled Syria pairs, at random")
    pick.set_defaults(run=items)
    sub.add_parser("build", help="assemble the splits from the passes and the review").set_defaults(run=build)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
