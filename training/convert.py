"""Convert the public data sets, as published, into the training-data format (`python -m training.convert`).

The converted files are bundled under ``data/`` so that a fresh clone builds the default model without them.

- NewsMTSC: ``sentence`` -> text, ``mention`` -> target and mention, ``from``/``to`` -> mention offsets,
  polarity -1/0/1 -> against/neutral/favor.
- TweetEval stance: ``none`` -> neutral.
- TweetEval sentiment: only the official validation and test parts are public here, so the test part is split
  by a hash of the id into a training part and a 2,000-tweet held-out test part; validation stays the dev part.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Iterable, Iterator
from pathlib import Path

POLARITY = {-1: "against", 0: "neutral", 1: "favor"}
TWEET_STANCE = {"against": "against", "favor": "favor", "none": "neutral"}


def newsmtsc_rows(records: Iterable[dict]) -> Iterator[dict]:
    for r in records:
        text, start, end = r["sentence"], int(r["from"]), int(r["to"])
        if text[start:end] != r["mention"]:
            raise ValueError(f"NewsMTSC row {r['id']}: offsets do not give the mention")
        yield {
            "id": f"newsmtsc-{r['id']}",
            "text": text,
            "target": r["mention"],
            "mention": r["mention"],
            "mention_start": start,
            "mention_end": end,
            "stance": POLARITY[int(r["polarity"])],
        }


def tweeteval_stance_rows(records: Iterable[dict]) -> Iterator[dict]:
    for r in records:
        yield {"id": r["id"], "text": r["text"], "target": r["target"], "stance": TWEET_STANCE[r["stance"]]}


def tweeteval_sentiment_rows(records: Iterable[dict]) -> Iterator[dict]:
    for r in records:
        yield {"id": r["id"], "text": r["text"], "sentiment": r["sentiment"]}


def in_heldout(row_id: str, share: float) -> bool:
    return int(hashlib.sha256(row_id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < share


def _read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _write(path: Path, rows: Iterable[dict]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count


def convert(source: Path, dest: Path) -> dict[str, int]:
    counts = {}
    for name in ("train", "dev_rw", "dev_mt", "test_rw", "test_mt"):
        counts[f"newsmtsc/{name}"] = _write(
            dest / "newsmtsc" / f"{name}.jsonl", newsmtsc_rows(_read(source / "newsmtsc" / f"{name}.jsonl"))
        )
    train_keys = set()
    for name in ("train", "dev", "test"):
        rows = list(tweeteval_stance_rows(_read(source / "tweeteval_stance" / f"{name}.jsonl")))
        if name == "train":
            train_keys = {(r["text"], r["target"]) for r in rows}
        elif name == "dev":
            # Two published dev tweets repeat training tweets; a dev split must be held out.
            rows = [r for r in rows if (r["text"], r["target"]) not in train_keys]
        counts[f"tweeteval_stance/{name}"] = _write(dest / "tweeteval_stance" / f"{name}.jsonl", rows)
    sentiment_test = list(tweeteval_sentiment_rows(_read(source / "tweeteval_sentiment" / "test.jsonl")))
    share = 2000 / len(sentiment_test)
    held = [r for r in sentiment_test if in_heldout(r["id"], share)]
    counts["tweeteval_sentiment/train"] = _write(
        dest / "tweeteval_sentiment" / "train.jsonl", (r for r in sentiment_test if not in_heldout(r["id"], share))
    )
    counts["tweeteval_sentiment/test"] = _write(dest / "tweeteval_sentiment" / "test.jsonl", held)
    counts["tweeteval_sentiment/dev"] = _write(
        dest / "tweeteval_sentiment" / "dev.jsonl",
        tweeteval_sentiment_rows(_read(source / "tweeteval_sentiment" / "dev.jsonl")),
    )
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", default="../shared/data", help="folder with the data sets as published")
    parser.add_argument("--dest", default="data", help="where the converted files go")
    args = parser.parse_args()
    for name, count in convert(Path(args.source), Path(args.dest)).items():
        print(f"{name}: {count} rows")


if __name__ == "__main__":
    main()
