"""`stance suggest`: pick the (sentence, actor) pairs most worth labelling next, or a random sample for evaluation.

Active selection combines the model's uncertainty (entropy of the stance probabilities) with diversity: equal quotas
per actor and per source (outlet), at most ``per_document`` pairs from one document, and no two suggestions with the
same normalised sentence. ``random`` mode samples whole documents in a seeded random order until at least ``n``
pairs are reached (the last article is taken whole, so usually a few more), so an evaluation split never shares an
article with another split; it needs no model. ``per_actor`` mode builds an actor-balanced evaluation sample: for
each actor, the documents that mention it in one seeded random order, at most ``per_document`` of its pairs from
each (chosen at random), until the actor has ``n`` pairs; it needs no model either. The documents it draws from
must then be kept out of training (pass the sample to ``--exclude`` and drop them from training files).
Pairs already labelled (same text and target) in ``exclude`` files, and documents listed there, are skipped.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analysis.corpus import iter_documents
from model.actors import ActorRegistry
from model.extraction import Document, PairExtractor
from model.pipeline import DocumentAnalyzer
from model.records import read_records

log = logging.getLogger("stance.suggest")


@dataclass
class Candidate:
    doc_id: str
    source: str
    sentence_index: int
    text: str
    actor: str
    mention_start: int
    mention_end: int
    mention: str
    probabilities: dict[str, float] = field(default_factory=dict)
    sentiment: dict[str, float] = field(default_factory=dict)

    @property
    def uncertainty(self) -> float:
        return -sum(p * math.log(p) for p in self.probabilities.values() if p > 0)

    @property
    def item_id(self) -> str:
        return f"{self.doc_id}-s{self.sentence_index}-{re.sub(r'[^A-Za-z0-9]+', '_', self.actor)}"

    def to_row(self, with_guess: bool) -> dict[str, Any]:
        row: dict[str, Any] = {
            "id": self.item_id,
            "doc_id": self.doc_id,
            "source": self.source,
            "text": self.text,
            "target": self.actor,
            "mention": self.mention,
            "mention_start": self.mention_start,
            "mention_end": self.mention_end,
            "stance": "",
            "sentiment": "",
            "confidence": "",
        }
        if with_guess and self.probabilities:
            guess = max(self.probabilities, key=self.probabilities.__getitem__)
            row["model_stance"] = guess
            row["model_stance_p"] = round(self.probabilities[guess], 3)
            if self.sentiment:
                row["model_sentiment"] = max(self.sentiment, key=self.sentiment.__getitem__)
        return row


ROW_COLUMNS = (
    "id", "doc_id", "source", "text", "target", "mention", "mention_start", "mention_end", "stance", "sentiment",
    "confidence",
)  # fmt: skip


def normalise(text: str) -> str:
    return re.sub(r"[\W\d_]+", " ", text.lower()).strip()


def labelled_keys(files: Sequence[str]) -> tuple[set[tuple[str, str]], set[str]]:
    """(text, target) pairs and document ids already present in labelled files. Lines that cannot be read, or have
    no text, are reported (a warning with file and line each): their pairs cannot be excluded."""
    pairs, docs = set(), set()
    for file in files:
        bad = 0
        for line, record, error in read_records(file):
            if error is None and record is not None and not isinstance(record.get("text"), str):
                error = "no 'text'"
            elif error is None and record is not None and not record["text"].strip():
                error = "empty 'text'"
            if error is not None or record is None:
                bad += 1
                if bad <= 20:
                    log.warning("--exclude %s:%d: %s; this line excludes nothing", file, line, error)
                continue
            pairs.add((record["text"], str(record.get("target") or "")))
            if record.get("doc_id"):
                docs.add(str(record["doc_id"]))
        if bad:
            log.warning(
                "--exclude %s: %d line(s) could not be used (see above); fix them or check the split", file, bad
            )
    return pairs, docs


def candidates(
    documents: Iterable[Document], registry: ActorRegistry, analyzer: DocumentAnalyzer | None, chunk: int = 32
) -> Iterable[Candidate]:
    """Every (sentence, actor) mention pair of the documents, scored by the model when one is given."""
    batch: list[Document] = []

    def flush() -> Iterable[Candidate]:
        if analyzer is not None:
            for result in analyzer.analyze(batch, registry=registry):
                source = str(result.meta.get("source", ""))
                for s in result.sentences:
                    for a in s.actors:
                        first = a.mentions[0]
                        yield Candidate(
                            result.id, source, s.index, s.text, a.actor, first.start - s.start, first.end - s.start,
                            s.text[first.start - s.start : first.end - s.start],
                            a.stance.probabilities if a.stance else {},
                            s.sentiment.probabilities if s.sentiment else {},
                        )  # fmt: skip
        else:
            for doc, sentence, pair in PairExtractor(registry).extract(batch).owned_pairs():
                first = pair.spans[0]
                yield Candidate(
                    doc.id, str(doc.meta.get("source", "")), sentence.index, pair.text, pair.target or "", first.start,
                    first.end, pair.text[first.start : first.end],
                )  # fmt: skip

    for doc in documents:
        batch.append(doc)
        if len(batch) >= chunk:
            yield from flush()
            batch = []
    if batch:
        yield from flush()


def select_random(pool: list[Candidate], n: int, seed: int) -> list[Candidate]:
    """Whole documents in seeded random order until at least ``n`` pairs (the last document is taken whole, so the
    sample usually holds a few more than ``n``; fewer only when the corpus runs out)."""
    by_doc: dict[str, list[Candidate]] = defaultdict(list)
    for c in pool:
        by_doc[c.doc_id].append(c)
    order = sorted(by_doc, key=lambda d: hashlib.sha256(f"{seed}:{d}".encode()).hexdigest())
    chosen: list[Candidate] = []
    for doc in order:
        if len(chosen) >= n:
            break
        chosen.extend(by_doc[doc])
    return chosen


def select_per_actor(pool: list[Candidate], n: int, per_document: int, seed: int) -> list[Candidate]:
    """``n`` pairs per actor (fewer when an actor has fewer), drawn at random within the actor: documents in one
    seeded random order shared by all actors (so one drawn document often serves several actors and fewer articles
    leave training), at most ``per_document`` pairs of the actor from each, picked at random."""

    def key(name: str) -> str:
        return hashlib.sha256(f"{seed}:{name}".encode()).hexdigest()

    by_actor_doc: dict[str, dict[str, list[Candidate]]] = defaultdict(lambda: defaultdict(list))
    for c in pool:
        by_actor_doc[c.actor][c.doc_id].append(c)
    chosen: list[Candidate] = []
    for actor in sorted(by_actor_doc):
        docs = by_actor_doc[actor]
        taken = 0
        for doc in sorted(docs, key=key):
            if taken >= n:
                break
            picks = sorted(docs[doc], key=lambda c: key(c.item_id))[: min(per_document, n - taken)]
            chosen.extend(picks)
            taken += len(picks)
    return chosen


def select_active(pool: list[Candidate], n: int, per_document: int, seed: int) -> list[Candidate]:
    """Most uncertain first, under per-actor and per-source quotas, per-document caps and sentence de-duplication."""
    rng = random.Random(seed)
    actors = sorted({c.actor for c in pool})
    sources = sorted({c.source for c in pool})
    actor_quota = math.ceil(n / max(1, len(actors)))
    source_quota = math.ceil(n / max(1, len(sources))) if len(sources) > 1 else n
    ranked = sorted(pool, key=lambda c: (-c.uncertainty, rng.random()))
    chosen: list[Candidate] = []
    per_actor: Counter = Counter()
    per_source: Counter = Counter()
    per_doc: Counter = Counter()
    seen: set[str] = set()
    for relax in (False, True):  # a second pass fills what strict quotas left open (e.g. a rare actor)
        for c in ranked:
            if len(chosen) >= n:
                break
            key = normalise(c.text) + "|" + c.actor
            if key in seen or per_doc[c.doc_id] >= per_document:
                continue
            if not relax and (per_actor[c.actor] >= actor_quota or per_source[c.source] >= source_quota):
                continue
            chosen.append(c)
            seen.add(key)
            per_actor[c.actor] += 1
            per_source[c.source] += 1
            per_doc[c.doc_id] += 1
    return chosen


def suggest(
    corpus: str,
    n: int,
    output: str,
    analyzer: DocumentAnalyzer | None,
    registry: ActorRegistry,
    exclude: Sequence[str] = (),
    random_mode: bool = False,
    per_document: int = 3,
    per_actor: bool = False,
    seed: int = 13,
    output_format: str | None = None,
) -> dict[str, Any]:
    """Write suggestions to ``output`` (CSV/JSONL for labelling, or Label Studio tasks); returns counts.

    Active mode writes ``n`` pairs (fewer when the corpus has fewer); random mode whole documents until at least
    ``n``; per-actor mode ``n`` pairs per actor. Raises ValueError, before writing anything, for ``n`` < 1, for
    both random modes at once, or when no pair is found."""
    if n < 1:
        raise ValueError(f"--n must be at least 1, got {n}")
    if random_mode and per_actor:
        raise ValueError("--random and --per-actor are two sampling modes; choose one")
    if per_document < 1:
        raise ValueError(f"--per-document must be at least 1, got {per_document}")
    path = Path(output)
    kind = output_format or ("labelstudio" if path.suffix == ".json" else path.suffix.lstrip("."))
    if kind not in ("labelstudio", "jsonl", "csv"):
        raise ValueError(f"{output}: unknown output format {kind!r}; use .jsonl, .csv or .json (Label Studio)")
    done_pairs, done_docs = labelled_keys(exclude)
    documents = (d for d in iter_documents(corpus) if isinstance(d, Document) and d.id not in done_docs)
    pool: list[Candidate] = []
    seen: set[str] = set()
    unscored = random_mode or per_actor
    for c in candidates(documents, registry, None if unscored else analyzer):
        # Corpora repeat articles (FA-KES has three duplicated ids): one item per (document, sentence, actor).
        if (c.text, c.actor) not in done_pairs and c.item_id not in seen:
            seen.add(c.item_id)
            pool.append(c)
    if not pool:
        raise ValueError(
            f"{corpus}: no (sentence, actor) pairs to suggest: no registry actor is mentioned"
            + (", or every pair and document is already in the --exclude files" if exclude else "")
            + f"; nothing written to {output}"
        )
    if per_actor:
        chosen = select_per_actor(pool, n, per_document, seed)
    elif random_mode:
        chosen = select_random(pool, n, seed)
    else:
        chosen = select_active(pool, n, per_document, seed)
    rows = [c.to_row(with_guess=not unscored) for c in chosen]
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "labelstudio":
        from training.labelstudio import write_labelstudio

        write_labelstudio(rows, path)
    elif kind == "jsonl":
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    elif kind == "csv":
        import csv

        # The JSONL rows' columns, in the same order (the model's guesses only where a model scored the pairs).
        columns = list(dict.fromkeys([*ROW_COLUMNS, *(k for r in rows for k in r)]))
        with open(path, "w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
    return {
        "pool": len(pool),
        "requested": n,
        "chosen": len(rows),
        "documents": len({c.doc_id for c in chosen}),
        "per_actor": dict(Counter(c.actor for c in chosen)),
        "per_source": dict(Counter(c.source for c in chosen)),
    }
