from __future__ import annotations

import pytest
from transformers import AutoTokenizer

from model.formatting import InputEncoder, InputFormat, add_marker_tokens, mark_mentions, merge_spans
from model.types import Pair, Span


def test_marks_every_mention_and_merges_overlaps():
    text = "Damascus said Syria will win."
    fmt = InputFormat()
    assert mark_mentions(text, [Span(14, 19), Span(0, 8)], fmt) == "[E] Damascus [/E] said [E] Syria [/E] will win."
    assert merge_spans([Span(0, 5), Span(3, 8), Span(20, 30)], 25) == [Span(0, 8), Span(20, 25)]
    assert mark_mentions(text, [], fmt) == text
    assert mark_mentions(text, [Span(0, 8)], InputFormat(mention_markers=False)) == text


@pytest.fixture(scope="module")
def encoder(tiny_base):
    tokenizer = AutoTokenizer.from_pretrained(tiny_base)
    fmt = InputFormat(max_length=24)
    add_marker_tokens(tokenizer, fmt)
    return InputEncoder(tokenizer, fmt)


def test_pair_has_marker_and_target_segment(encoder):
    (enc,) = encoder.encode([Pair("Damascus has every right.", "Syria", (Span(0, 8),))], "pair")
    tokens = encoder.tokenizer.convert_ids_to_tokens(enc.input_ids)
    assert tokens[:3] == ["[CLS]", "[E]", "damascus"]
    assert tokens[-3:] == ["[SEP]", "syria", "[SEP]"]
    assert enc.token_type_ids[-2] == 1 and not enc.truncated


def test_sentence_input_has_no_marker_or_target(encoder):
    (enc,) = encoder.encode([Pair("Damascus has every right.", "Syria", (Span(0, 8),))], "sentence")
    tokens = encoder.tokenizer.convert_ids_to_tokens(enc.input_ids)
    assert "[E]" not in tokens and "syria" not in tokens


def test_long_sentence_is_windowed_around_the_mention_and_flagged(encoder):
    text = "the people said that " * 20 + "Ankara spoke" + " and then the people said that" * 20
    start = text.index("Ankara")
    (enc,) = encoder.encode([Pair(text, "Turkey", (Span(start, start + 6),))], "pair")
    assert enc.truncated and len(enc.input_ids) <= 24
    assert encoder.start_marker_id in enc.input_ids


def test_tokenizer_without_markers_is_refused(tiny_base):
    tokenizer = AutoTokenizer.from_pretrained(tiny_base)
    with pytest.raises(ValueError, match="lacks the mention markers"):
        InputEncoder(tokenizer, InputFormat())
