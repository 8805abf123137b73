"""Unlabelled (sentence, target) pairs from the bundled news, for a teacher to label (run once; output committed).

Two sources, neither seen with these targets by any labelled split:
- NewsMTSC training sentences: names the data set did not label (capitalised word sequences outside every labelled
  mention of the sentence), the target being the mention itself, as in NewsMTSC.
- FA-KES articles outside the stance set's dev and test articles: sentences that mention a default actor (found by
  the actor registry, as at inference), the target being the actor's canonical name, minus the pairs already
  labelled in data/fakes_stance.

Sentences of NewsMTSC dev/test are left out wherever they occur. Sampling is by a hash of the pair, so the output is
the same on every machine.

    python -m scripts.unlabelled_pairs --output data/distill/unlabelled_pairs.jsonl [--per-source 1500]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# A name: capitalised words (hyphenated parts allowed), joined by spaces; "of"/"al-" inside a name are kept.
NAME = re.compile(r"\b[A-Z][a-z]+(?:-[A-Za-z]+)*(?:\s+(?:of\s+|al-)?[A-Z][a-z]+(?:-[A-Za-z]+)*)*")
_NOT_NAME_WORDS = """A An And As At But By For From He Her His How I If In It Its Mr Mrs Ms Dr No Not Of On Or Our
She So That The Their Then There These They This Those To We What When Where Which While Who Why With You Yet
After Before Also Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May June
July August September October November December Still However Now One Two Some Many Most More Even Just Only Here
Both All Any Each Every Since Though Although Because Instead Meanwhile During Under Over Among Into Than Until"""
NOT_NAMES = frozenset(_NOT_NAME_WORDS.split())


def _read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _rank(*parts: str) -> str:
    return hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()


def newsmtsc_pairs(held_out: set[str]) -> list[dict]:
    labelled: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for row in _read(REPO / "data/newsmtsc/train.jsonl"):
        labelled[row["text"]].append((row["mention_start"], row["mention_end"]))
    out = []
    for text, spans in labelled.items():
        if text in held_out:
            continue
        for m in NAME.finditer(text):
            words = m.group().split()
            if words[0] in NOT_NAMES:  # "The Senate" -> "Senate"; "He" -> nothing
                words = words[1:]
                if not words:
                    continue
            start = m.end() - len(" ".join(words))
            end = m.end()
            if len(text[start:end]) < 3 or any(s < end and start < e for s, e in spans):
                continue
            out.append({"text": text, "target": text[start:end], "mention_start": start, "mention_end": end})
    return out


def fakes_pairs() -> list[dict]:
    from model.actors import ActorRegistry
    from model.sentences import split_sentences

    held_docs, labelled = set(), set()
    for split in ("train", "dev", "test"):
        for row in _read(REPO / f"data/fakes_stance/{split}.jsonl"):
            labelled.add((row["text"], row["target"]))
            if split != "train":
                held_docs.add(row["doc_id"])
    registry = ActorRegistry.default()
    out = []
    for article in _read(REPO / "data/fakes/articles.jsonl"):
        if article["id"] in held_docs:
            continue
        for sentence in split_sentences(article["text"]):
            if not 20 <= len(sentence.text) <= 600:
                continue
            for actor, spans in registry.find_mentions(sentence.text).items():
                if spans and (sentence.text, actor) not in labelled:
                    s = spans[0]
                    out.append(
                        {
                            "text": sentence.text,
                            "target": actor,
                            "mention_start": s.start,
                            "mention_end": s.end,
                            "doc_id": article["id"],
                        }
                    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", default="data/distill/unlabelled_pairs.jsonl")
    parser.add_argument("--per-source", type=int, default=1500)
    args = parser.parse_args()
    held_out = {
        row["text"]
        for name in ("dev_rw", "dev_mt", "test_rw", "test_mt")
        for row in _read(REPO / f"data/newsmtsc/{name}.jsonl")
    }
    rows = []
    for source, pairs in (("newsmtsc-train", newsmtsc_pairs(held_out)), ("fakes", fakes_pairs())):
        unique = {(p["text"], p["target"], p["mention_start"]): p for p in pairs}
        chosen = sorted(unique.values(), key=lambda p: _rank(p["text"], p["target"], str(p["mention_start"])))
        print(f"{source}: {len(unique)} candidate pairs, {min(len(unique), args.per_source)} kept", file=sys.stderr)
        for p in chosen[: args.per_source]:
            p["mention"] = p["text"][p["mention_start"] : p["mention_end"]]
            p["id"] = f"{source}-{_rank(p['text'], p['target'], str(p['mention_start']))[:12]}"
            p["source"] = source
            rows.append(p)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    with open(args.output, "w", encoding="utf-8") as handle:
        for p in rows:
            handle.write(json.dumps(p, ensure_ascii=False) + "\n")
    print(f"{len(rows)} pairs -> {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
