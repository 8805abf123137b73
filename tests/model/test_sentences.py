from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

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
