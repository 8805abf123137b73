"""Label-preserving mention swaps for the in-domain training split (run once; output committed).

The default model reads a reported accusation against a country named by its bare name or capital as neutral
("Turkey accused [Syria] of shelling the border"), while it reads the same sentence with "the Syrian government"
as against (README, "A known weakness"). In the FA-KES training split the bare names are mostly places and labelled
neutral, while the government noun phrases ("the Syrian regime", "the Assad regime") are the acting state. This
writes, for every training pair whose mention is such a noun phrase, a copy of the pair with the noun phrase
replaced by the state's bare name or capital (alternating, by a hash of the pair), the span moved, and every label
kept: the sentence still says the same about the same actor, only its name changed. Pairs whose stance is `na` are
left out, as in training.

    python -m scripts.mention_swaps --output data/fakes_stance/mention_swaps.jsonl
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Government noun phrases (lower case, without a leading "the") -> the names that may replace them.
SWAPS: dict[str, dict[str, tuple[str, ...]]] = {
    "Syria": {
        phrase: ("Syria", "Damascus")
        for phrase in (
            "syrian regime",
            "assad regime",
            "syrian government",
            "damascus government",
            "damascus regime",
            "assad government",
        )
    },
    "Turkey": {phrase: ("Turkey", "Ankara") for phrase in ("turkish government", "erdogan government")},
    "United States": {
        phrase: ("the United States", "Washington")
        for phrase in (
            "us administration",
            "u.s. administration",
            "american administration",
            "us government",
            "u.s. government",
            "american government",
            "trump administration",
            "obama administration",
        )
    },
}


# A noun phrase used as a modifier ("Syrian regime forces", "a Syrian regime source", "Pro-Assad regime media") would
# not read as a name after the swap ("Syria forces"): such pairs are left out.
_HEAD_WORDS = (
    "forces army troops soldiers warplanes aircraft jets air airstrikes strikes raids bombardment barrel media source "
    "sources official officials leader leaders heartland militias loyalists fighters regime government artillery "
    "shelling helicopters units unit"
)
HEADS = frozenset(_HEAD_WORDS.split())


def _modifier(text: str, start: int, end: int) -> bool:
    following = text[end:].split(maxsplit=1)
    before = text[:start]
    return (
        (bool(following) and following[0].strip(".,;:\"'()").lower() in HEADS)
        or before.endswith("-")
        or before.lower().endswith(("a ", "an "))
    )


def swap(row: dict) -> dict | None:
    """The swapped copy of one labelled pair, or None when its mention is not a government noun phrase."""
    text, start, end = row["text"], row.get("mention_start"), row.get("mention_end")
    if start is None or end is None or row.get("stance") in (None, "", "na"):
        return None
    phrase = text[start:end].lower()
    if phrase.startswith("the "):
        phrase = phrase[4:]
    names = SWAPS.get(row.get("target", ""), {}).get(phrase)
    if names is None or _modifier(text, start, end):
        return None
    if text[max(0, start - 4) : start].lower() == "the ":  # "the [Syrian regime]": the article goes too
        start -= 4
    name = names[int(hashlib.sha256(row["id"].encode()).hexdigest(), 16) % len(names)]
    if name.startswith("the ") and (start == 0 or text[:start].rstrip().endswith((".", "!", "?", '"'))):
        name = "The" + name[3:]
    new_text = text[:start] + name + text[end:]
    return {
        **row,
        "id": f"{row['id']}-swap",
        "text": new_text,
        "mention": name,
        "mention_start": start,
        "mention_end": start + len(name),
        "source": f"{row.get('source', '')}+swap",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", default=str(REPO / "data/fakes_stance/train.jsonl"))
    parser.add_argument("--output", required=True)
    args = parser.parse_args(argv)
    rows = [json.loads(line) for line in Path(args.input).read_text(encoding="utf-8").splitlines() if line.strip()]
    swapped = [s for s in map(swap, rows) if s is not None]
    # Two source sentences that differ only in the noun phrase become one input: keep it only if their labels agree.
    by_input: dict[tuple, list[dict]] = {}
    for row in swapped:
        by_input.setdefault((row["text"], row["target"], row["mention_start"]), []).append(row)
    swapped = [
        group[0] for group in by_input.values() if len({(r.get("stance"), r.get("sentiment")) for r in group}) == 1
    ]
    with open(args.output, "w", encoding="utf-8") as out:
        for row in swapped:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    counts = Counter(f"{row['target']} / {row['stance']}" for row in swapped)
    print(f"{len(swapped)} swapped pairs from {len(rows)} rows written to {args.output}: {dict(counts)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
