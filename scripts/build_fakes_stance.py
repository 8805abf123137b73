"""Assemble the in-domain FA-KES stance set from the three annotation passes (run once; its output is committed).

Inputs: the items chosen by `stance suggest` (test and dev: `--random`, by article; train: active selection with the
model of the time) and the three independent passes' labels. Writes, under data/fakes_stance/:
annotations/pass_{a,b,c}.jsonl (each pass's labels with the item data), agreement/ (`stance agreement` report and
merged file), and train.jsonl / dev.jsonl / test.jsonl (majority labels; no majority -> that label is dropped).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from training.agreement import agreement, render

SPLITS = ("test", "dev", "train")
KEEP = ("id", "doc_id", "source", "text", "target", "mention", "mention_start", "mention_end")


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", default="/tmp/lab", help="folder with {test,dev,train}_items.jsonl")
    parser.add_argument("--passes", default="/tmp/lab/out", help="folder with pass{A,B,C}_part{1,2}.jsonl")
    parser.add_argument("--dest", default="data/fakes_stance")
    args = parser.parse_args()
    items, split_of = {}, {}
    for split in SPLITS:
        for row in read(Path(args.items) / f"{split}_items.jsonl"):
            items[row["id"]] = {k: row[k] for k in KEEP if k in row}
            split_of[row["id"]] = split
    dest = Path(args.dest)
    (dest / "annotations").mkdir(parents=True, exist_ok=True)
    pass_files = []
    for name in ("A", "B", "C"):
        labels: dict[str, dict] = {}
        # A part may have been shared by two annotators of the same pass, one working from each end
        # (part1 and part1b): where both labelled an item, the first file's label is kept.
        for part in ("1", "1b", "2", "2b"):
            path = Path(args.passes) / f"pass{name}_part{part}.jsonl"
            if not path.exists():
                continue
            seen_here: set[str] = set()
            for row in read(path):
                if row["id"] in seen_here:
                    raise SystemExit(f"{path}: id {row['id']} labelled twice")
                seen_here.add(row["id"])
                labels.setdefault(row["id"], row)
        missing = set(items) - set(labels)
        if missing:
            raise SystemExit(f"pass {name}: {len(missing)} items unlabelled, e.g. {sorted(missing)[:3]}")
        out = dest / "annotations" / f"pass_{name.lower()}.jsonl"
        out.write_text(
            "".join(
                json.dumps({**items[i], **{k: labels[i][k] for k in ("stance", "sentiment", "confidence")}},
                           ensure_ascii=False) + "\n"
                for i in items
            ),
            encoding="utf-8",
        )  # fmt: skip
        pass_files.append(str(out))
    report = agreement(pass_files, str(dest / "agreement"))
    print(render(report))
    merged = read(dest / "agreement" / "merged.jsonl")
    counts = {}
    for split in SPLITS:
        rows = [r for r in merged if split_of[r["id"]] == split and (r.get("stance") or r.get("sentiment"))]
        (dest / f"{split}.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
        counts[split] = {
            "rows": len(rows),
            "documents": len({r["doc_id"] for r in rows}),
            "stance": dict(Counter(r.get("stance", "(no majority)") for r in rows)),
            "sentiment": dict(Counter(r.get("sentiment", "(no majority)") for r in rows)),
            "per_actor": {
                actor: dict(Counter(r.get("stance", "(no majority)") for r in rows if r["target"] == actor))
                for actor in sorted({r["target"] for r in rows})
            },
            "per_source": dict(Counter(r["source"] for r in rows)),
        }
    (dest / "counts.json").write_text(json.dumps(counts, indent=2) + "\n")
    print(json.dumps(counts, indent=2))


if __name__ == "__main__":
    main()
