"""Issue 29: which sentence splitter, measured against the boundaries the project used before (pysbd) on the bundled
FA-KES articles. Reports each candidate's time and how many of pysbd's sentences it keeps unchanged.

Each candidate splits the same lines (`model.sentences` cuts paragraphs at line breaks first) and its sentences are
trimmed of whitespace. pysbd is the reference, run through the project's own windows (`model/sentences.py` as it
was, with pysbd as its segmenter). Candidates that are not installed are skipped:

    .venv/bin/pip install pysbd blingfire segtok nupunkt
    python -m experiments.sentence_splitters --output experiments/results/sentence_splitters.json
"""

from __future__ import annotations

import argparse
import importlib
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import model.sentences as sentences
from analysis.corpus import iter_documents
from model.extraction import Document

REPO = Path(__file__).resolve().parents[1]
Spans = set[tuple[int, int]]


def _located(paragraph: str, pieces: list[str]) -> Iterator[tuple[int, int]]:
    cursor = 0
    for piece in pieces:
        piece = piece.strip()
        found = paragraph.find(piece, cursor) if piece else -1
        if found >= 0:
            yield found, found + len(piece)
            cursor = found + len(piece)


def candidates() -> dict[str, Callable[[str], list[str]]]:
    """name -> a function from a paragraph to its sentences, for each candidate that is installed."""
    found: dict[str, Callable[[str], list[str]]] = {}

    def add(name: str, module: str, make: Callable) -> None:
        try:
            found[name] = make(importlib.import_module(module))
        except ImportError:
            print(f"{name}: not installed, skipped")

    add("cleave-sbd (now)", "csbd", lambda m: sentences._segmenter().segment)
    add("pysbd (before)", "pysbd", lambda m: m.Segmenter(language="en", clean=False).segment)
    add("blingfire", "blingfire", lambda m: lambda p: m.text_to_sentences(p).split("\n"))
    add("segtok", "segtok.segmenter", lambda m: lambda p: list(m.split_single(p)))
    add("nupunkt", "nupunkt", lambda m: m.sent_tokenize)
    return found


def split_with(
    segment: Callable[[str], list[str]], texts: list[str], windows: bool, bullets: bool = True
) -> tuple[float, list[Spans]]:
    """Seconds and each text's sentence spans; ``windows``: through model/sentences.py's windows and repairs
    (``bullets``: with its bullets read as letters, as for cleave-sbd; pysbd before ran without)."""
    started = time.perf_counter()
    if windows:
        original, table = sentences._segmenter, sentences._BULLETS
        sentences._segmenter = lambda: type("Segmenter", (), {"segment": staticmethod(segment)})()  # type: ignore
        sentences._BULLETS = table if bullets else {}
        try:
            out = [{(s.start, s.end) for s in sentences.split_sentences(t)} for t in texts]
        finally:
            sentences._segmenter, sentences._BULLETS = original, table
    else:
        out = []
        for text in texts:
            spans: Spans = set()
            for start, end in sentences._paragraphs(text):
                paragraph = text[start:end]
                spans.update((start + a, start + b) for a, b in _located(paragraph, segment(paragraph)))
            out.append(spans)
    return time.perf_counter() - started, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", default=str(REPO / "data/fakes/articles.jsonl"))
    parser.add_argument("--output")
    args = parser.parse_args()
    texts = [d.text for d in iter_documents(args.corpus) if isinstance(d, Document)]
    found = candidates()
    if "pysbd (before)" not in found:
        raise SystemExit("pysbd is the reference: pip install pysbd")
    _, reference = split_with(found["pysbd (before)"], texts, windows=True, bullets=False)
    total = sum(len(r) for r in reference)
    rows = []
    for name, segment in found.items():
        windows = name in ("cleave-sbd (now)", "pysbd (before)")  # the project's own path; others split whole lines
        bullets = name != "pysbd (before)"
        seconds, spans = min((split_with(segment, texts, windows, bullets) for _ in range(2)), key=lambda r: r[0])
        kept = sum(len(a & b) for a, b in zip(reference, spans, strict=True))
        rows.append(
            {
                "splitter": name,
                "seconds": round(seconds, 2),
                "sentences": sum(len(s) for s in spans),
                "pysbd_sentences_kept": kept,
                "kept_share": round(kept / total, 4),
                "articles_identical": sum(a == b for a, b in zip(reference, spans, strict=True)),
            }
        )
        print(json.dumps(rows[-1]))
    if args.output:
        Path(args.output).write_text(json.dumps({"articles": len(texts), "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
