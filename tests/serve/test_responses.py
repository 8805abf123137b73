"""JSON bodies written piece by piece (serve/responses.py)."""

from __future__ import annotations

import json


def test_responses_written_piece_by_piece_are_the_same_json():
    from serve.responses import json_bytes

    payload = {"model": "m", "documents": [{"id": 1, "sentences": [{"i": i, "t": "é\u2028"} for i in range(50)]}] * 3}
    for value in (payload, {}, [], [1], {"a": [[[[1, 2]]], None]}, "x", 2.5):
        assert json_bytes(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def test_a_single_large_document_is_written_a_sentence_at_a_time():
    """One document of thousands of sentences is the usual large response; dumped in one C call it held the GIL
    for 0.1-0.2 s and stalled /healthz."""
    from serve.responses import _json_pieces

    sentence = {"index": 0, "text": "Syria.", "actors": [{"actor": "Syria", "stance": {"label": "against"}}]}
    payload = {"model": "m", "documents": [{"id": "d", "sentences": [sentence] * 5000, "actors": {"Syria": {}}}]}
    largest = max(len(piece) for piece in _json_pieces(payload, 0))
    assert largest <= len(json.dumps(sentence, separators=(",", ":"))) + 2
