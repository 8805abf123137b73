"""JSON bodies written piece by piece (serve/responses.py)."""

from __future__ import annotations

import json


def test_responses_written_piece_by_piece_are_the_same_json():
    from serve.responses import json_bytes

    payload = {"model": "m", "documents": [{"id": 1, "sentences": [{"i": i, "t": "é\u2028"} for i in range(50)]}] * 3}
    for value in (payload, {}, [], [1], {"a": [[[[1, 2]]], None]}, "x", 2.5):
        assert json_bytes(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
