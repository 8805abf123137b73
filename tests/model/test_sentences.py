from __future__ import annotations

from unittest.mock import patch

from hypothesis import given, settings
from hypothesis import strategies as st

from model import sentences
from model.sentences import split_sentences
from tests.conftest import REPO


def check_offsets(text: str) -> None:
    sentences = split_sentences(text)
    last_end = 0
    for i, s in enumerate(sentences):
        assert text[s.start : s.end] == s.text
        assert s.index == i and s.start >= last_end and s.end > s.start
        assert s.text == s.text.strip()
        last_end = s.end
    # Nothing but whitespace is left between or around sentences.
    covered = set()
    for s in sentences:
        covered.update(range(s.start, s.end))
    assert all(text[i].isspace() for i in range(len(text)) if i not in covered)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_offsets_hold_for_any_unicode(text):
    check_offsets(text)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["U.S.", "Gen.", "Mr.", "Al-Nusra", "said", "“Yes.”", "\n", " ", ".", "?", "e.g."])))
def test_offsets_hold_for_news_like_fragments(words):
    check_offsets(" ".join(words))


def test_empty_and_no_sentence_end():
    assert split_sentences("") == []
    assert split_sentences(" \n\t ") == []
    (only,) = split_sentences("  no full stop here")
    assert only.text == "no full stop here" and only.start == 2


def test_news_formatting():
    text = (
        "Gen. Smith met U.S. envoys in Washington. Mr. Erdogan said: “We will win. They lose.” Then\n"
        "Al-Nusra fighters left.\n\n- Advertisement -\nSubscribe to our newsletter\n"
    )
    got = [(s.text, s.boilerplate) for s in split_sentences(text)]
    assert got[0] == ("Gen. Smith met U.S. envoys in Washington.", False)
    assert got[1] == ("Mr. Erdogan said: “We will win. They lose.”", False)
    assert ("Al-Nusra fighters left.", False) in got
    assert ("- Advertisement -", True) in got and ("Subscribe to our newsletter", True) in got


def test_example_article_paragraphs_and_boilerplate():
    text = (REPO / "data/examples/lavrov_idlib.txt").read_text()
    sentences = split_sentences(text)
    assert sentences[0].text == "Syria has the right to DESTROY terrorists in Idlib – Lavrov"
    assert sum(s.boilerplate for s in sentences) == 3
    check_offsets(text)


def test_long_text_without_breaks_is_split_in_linear_time():
    text = ("word " * 200_000).strip()  # 1 MB, no sentence end
    sentences = split_sentences(text)
    assert sentences and "".join(s.text + " " for s in sentences).strip() == text


def test_windows_without_a_sentence_end_skip_the_segmenter(monkeypatch):
    # A 20 MB line without punctuation ran for minutes: pysbd was asked for each 5,000-character window in turn.
    calls: list[int] = []
    real = sentences._segment
    monkeypatch.setattr(sentences, "_segment", lambda text, s, e: calls.append(e - s) or real(text, s, e))
    text = "x" * 50_000 + " and then. It ended."
    got = split_sentences(text)
    assert len(calls) == 1 and [s.text for s in got[-2:]] == ["and then.", "It ended."]
    assert all(s.cut for s in got[:-1]) and not got[-1].cut
    check_offsets(text)


def test_long_paragraphs_are_split_only_where_the_segmenter_splits(monkeypatch):
    # FA-KES articles are one line each: a paragraph far over MAX_PARAGRAPH must give the same sentences as
    # segmenting it whole, with no piece cut mid-sentence (which used to score fragments such as 'Syria').
    monkeypatch.setattr(sentences, "MAX_PARAGRAPH", 300)
    monkeypatch.setattr(sentences, "LOOKAHEAD", 60)
    parts = [
        "Gen. Smith met U.S. envoys in Washington on Monday.",
        "Mr. Erdogan said: “We will win. They lose.”",
        "The Syrian government rejected the claims made by Turkey and the al-Nusra Front about the attack.",
        "Talks resume in Geneva.",
    ]
    text = " ".join(parts[i % len(parts)] + f" Report {i} ends here." for i in range(40))
    assert len(text) > 10 * sentences.MAX_PARAGRAPH
    whole = [text[s:e] for s, e in sentences._segment(text, 0, len(text))]
    got = split_sentences(text)
    assert [s.text for s in got] == whole
    assert not any(s.cut for s in got)
    check_offsets(text)


def test_only_a_sentence_longer_than_the_cap_is_cut_and_it_is_flagged(monkeypatch):
    monkeypatch.setattr(sentences, "MAX_PARAGRAPH", 200)
    monkeypatch.setattr(sentences, "LOOKAHEAD", 50)
    long = "Syria " + "and the war " * 60 + "went on."
    text = f"Turkey spoke first. {long} Damascus answered. Ankara replied at length."
    got = split_sentences(text)
    check_offsets(text)
    assert got[0].text == "Turkey spoke first." and not got[0].cut
    pieces = [s for s in got if s.cut]
    assert len(pieces) >= 4 and " ".join(p.text for p in pieces) == long
    assert all(len(p.text) <= sentences.MAX_PARAGRAPH for p in pieces)
    assert [s.text for s in got if not s.cut][1:] == ["Damascus answered.", "Ankara replied at length."]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["U.S.", "Gen.", "Syria", "said", "“Yes.”", "\n", " ", ".", "?", "x" * 30])))
def test_offsets_hold_with_a_small_cap(words):
    with patch.object(sentences, "MAX_PARAGRAPH", 40), patch.object(sentences, "LOOKAHEAD", 10):
        check_offsets(" ".join(words))
        assert all(len(s.text) <= 40 for s in split_sentences(" ".join(words)) if s.cut)
