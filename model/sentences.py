"""Sentence segmentation with exact character offsets: ``text[s.start:s.end] == s.text`` for every sentence.

Paragraphs (line breaks) are split first, since news text puts one paragraph per line and headlines carry no full
stop; each paragraph is then split by cleave-sbd (`csbd`), a typed reimplementation of the Pragmatic Segmenter rules
that pysbd follows, which knows abbreviations ("U.S.", "Gen.", "Mr."), quotations and lists. On the 674 bundled
FA-KES articles it gives 8,265 of pysbd's 8,267 sentences unchanged (673 articles identical) in a sixth of the time
(1.3 s against 7.4-8.7 s; experiments/EXPERIMENTS.md, "Sentence splitter"). Offsets are recomputed against the
original text rather than taken from the segmenter, so they hold for any input. One-line boilerplate
("- Advertisement -", "Subscribe to our newsletter") is marked, not dropped, so callers decide whether to score it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

BOILERPLATE = re.compile(
    r"""^\W*(?:advertisement|advertising|sponsored(?:\ content)?|read\ more|related(?:\ articles?)?
    |subscribe\ to\ our\ newsletter.*|sign\ up\ (?:here|for).*|share\ this(?:\ article)?|follow\ us\ on.*
    |click\ here.*|all\ rights\ reserved.*|copyright\ .*|©.*|photo:.*|image:.*)\W*$""",
    re.IGNORECASE | re.VERBOSE,
)
# Rule-based segmenters' time grows faster than linearly with the length of their input (pysbd on a 5,300-character
# window of short sentences: 0.1 s, holding the GIL long enough to stall the service's event loop; 2,800: about
# 0.03 s), so a paragraph longer than this many characters (FA-KES articles are one line each) is segmented in
# windows: each window starts at a sentence start and keeps the sentences that end before MAX_PARAGRAPH with
# LOOKAHEAD characters of context after them, so every cut is a boundary the segmenter itself found (on the 674
# FA-KES articles this gives the same sentences as windows of 5,000 but for one list number, "10.", split off). Only
# a single sentence longer than MAX_PARAGRAPH is cut (at whitespace) and marked.
MAX_PARAGRAPH = 2500
LOOKAHEAD = 300
_TERMINAL = re.compile(r"[.!?\u2026\u3002\uff01\uff1f]")
# cleave-sbd ends a sentence at a bullet anywhere in a line; pysbd did not, and in news text scraped from the web a
# mid-line "•" is mojibake inside a sentence (FA-KES: 44 of them, each before a "\ufffd"). The segmenter sees them as
# letters (same length, so offsets hold); a bulleted list still splits at its line breaks.
_BULLETS = str.maketrans({"\u2022": "a", "\u2043": "a"})


@dataclass(frozen=True)
class Sentence:
    """A sentence of a document: its text and character offsets in the document; ``boilerplate`` for page chrome;
    ``cut`` when the sentence was longer than MAX_PARAGRAPH characters and this is a piece of it."""

    index: int
    start: int
    end: int
    text: str
    boilerplate: bool = False
    cut: bool = False


@lru_cache(maxsize=1)
def _segmenter():
    from csbd import Segmenter

    return Segmenter(language="en", clean=False)


def _paragraphs(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each non-blank line, whitespace-trimmed."""
    for match in re.finditer(r"[^\n]+", text):
        start, end = match.start(), match.end()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            yield start, end


def _segment(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """(start, end) of the sentences the segmenter finds in ``text[start:end]``, whitespace-trimmed, covering all of
    it."""
    paragraph = text[start:end].translate(_BULLETS)
    spans: list[tuple[int, int]] = []
    cursor = 0
    pieces = _segmenter().segment(paragraph) if len(paragraph) > 1 else [paragraph]
    for piece in pieces:
        piece = piece.strip()
        if not piece:
            continue
        found = paragraph.find(piece, cursor)
        if found < 0:  # the segmenter changed the text; fall back to the rest of the paragraph
            piece = paragraph[cursor:].strip()
            if not piece:
                break
            found = paragraph.find(piece, cursor)
        piece_end = found + len(piece)
        gap = paragraph[cursor:found]
        if gap.strip():  # text the segmenter left out (it drops a lone leading "."): it joins a neighbour
            if spans:
                spans[-1] = (spans[-1][0], start + cursor + len(gap.rstrip()))
            else:
                found = cursor + len(gap) - len(gap.lstrip())
        spans.append((start + found, start + piece_end))
        cursor = piece_end
    rest = paragraph[cursor:].strip()
    if rest:
        found = paragraph.find(rest, cursor)
        spans.append((start + found, start + found + len(rest)))
    return spans


def _sentence_spans(text: str, start: int, end: int) -> Iterator[tuple[int, int, bool]]:
    """(start, end, cut) of the sentences of the paragraph ``text[start:end]``, long paragraphs in windows."""
    continued = False  # the next sentence is the rest of one that was cut
    while end - start > MAX_PARAGRAPH:
        window_end = min(end, start + MAX_PARAGRAPH + LOOKAHEAD)
        kept: list[tuple[int, int]] = []
        # No full stop, question or exclamation mark in the window: the segmenter would find no boundary, skip it.
        spans = _segment(text, start, window_end) if _TERMINAL.search(text, start, start + MAX_PARAGRAPH) else []
        for s, e in spans:
            if e - s > MAX_PARAGRAPH or (e > start + MAX_PARAGRAPH and window_end < end):
                break  # too long, or too near the window's end to be sure of the boundary
            kept.append((s, e))
        if kept:
            for i, (s, e) in enumerate(kept):
                yield s, e, continued and i == 0
            start, continued = kept[-1][1], False
        else:  # the first sentence alone is longer than MAX_PARAGRAPH: cut it at whitespace
            cut = text.rfind(" ", start + MAX_PARAGRAPH // 2, start + MAX_PARAGRAPH)
            cut = cut if cut > start else start + MAX_PARAGRAPH
            while text[cut - 1].isspace():
                cut -= 1
            yield start, cut, True
            start, continued = cut, True
        while start < end and text[start].isspace():
            start += 1
    for i, (s, e) in enumerate(_segment(text, start, end)):
        yield s, e, continued and i == 0


def split_sentences(text: str) -> list[Sentence]:
    """Sentences of ``text`` in order, with offsets into ``text``.

    >>> [s.text for s in split_sentences("Gen. Smith met U.S. envoys. They agreed.")]
    ['Gen. Smith met U.S. envoys.', 'They agreed.']
    """
    sentences: list[Sentence] = []
    for p_start, p_end in _paragraphs(text):
        for start, end, cut in _sentence_spans(text, p_start, p_end):
            piece = text[start:end]
            sentences.append(Sentence(len(sentences), start, end, piece, bool(BOILERPLATE.match(piece)), cut))
    return sentences
