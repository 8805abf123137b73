"""Sentence segmentation with exact character offsets: ``text[s.start:s.end] == s.text`` for every sentence.

Paragraphs (line breaks) are split first, since news text puts one paragraph per line and headlines carry no full
stop; each paragraph is then split by pysbd, a maintained rule-based segmenter that knows abbreviations
("U.S.", "Gen.", "Mr."), quotations and lists. Offsets are recomputed against the original text rather than taken
from the segmenter, so they hold for any input. One-line boilerplate ("- Advertisement -", "Subscribe to our
newsletter") is marked, not dropped, so callers decide whether to score it.
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
# Very long paragraphs are cut into pieces of about this many characters (at whitespace) before pysbd sees them,
# which keeps segmentation time linear on text without line breaks.
MAX_PARAGRAPH = 5000


@dataclass(frozen=True)
class Sentence:
    """A sentence of a document: its text and character offsets in the document; ``boilerplate`` for page chrome."""

    index: int
    start: int
    end: int
    text: str
    boilerplate: bool = False


@lru_cache(maxsize=1)
def _segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


def _paragraphs(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each non-blank line, whitespace-trimmed, long lines cut at whitespace."""
    for match in re.finditer(r"[^\n]+", text):
        start, end = match.start(), match.end()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        while end - start > MAX_PARAGRAPH:
            cut = text.rfind(" ", start + MAX_PARAGRAPH // 2, start + MAX_PARAGRAPH)
            cut = cut if cut > start else start + MAX_PARAGRAPH
            yield start, cut
            start = cut
            while start < end and text[start].isspace():
                start += 1
        if end > start:
            yield start, end


def split_sentences(text: str) -> list[Sentence]:
    """Sentences of ``text`` in order, with offsets into ``text``.

    >>> [s.text for s in split_sentences("Gen. Smith met U.S. envoys. They agreed.")]
    ['Gen. Smith met U.S. envoys.', 'They agreed.']
    """
    sentences: list[Sentence] = []
    for p_start, p_end in _paragraphs(text):
        paragraph = text[p_start:p_end]
        cursor = 0
        pieces = _segmenter().segment(paragraph) if len(paragraph) > 1 else [paragraph]
        for piece in pieces:
            piece = piece.strip()
            if not piece:
                continue
            found = paragraph.find(piece, cursor)
            if found < 0:  # the segmenter changed the text; fall back to the rest of the paragraph
                found = cursor
                piece = paragraph[cursor:].strip()
                if not piece:
                    break
                found = paragraph.find(piece, cursor)
            start, end = p_start + found, p_start + found + len(piece)
            sentences.append(Sentence(len(sentences), start, end, text[start:end], bool(BOILERPLATE.match(piece))))
            cursor = found + len(piece)
        rest = paragraph[cursor:].strip()
        if rest:
            found = paragraph.find(rest, cursor)
            start, end = p_start + found, p_start + found + len(rest)
            sentences.append(Sentence(len(sentences), start, end, text[start:end], bool(BOILERPLATE.match(rest))))
    return sentences
