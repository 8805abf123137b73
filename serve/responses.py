"""JSON response bodies written in a worker thread, piece by piece, so that a large answer does not stall the loop."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from fastapi.responses import Response


class JSONBytes(Response):
    """A JSON body serialised in a worker thread (the route's ``response_model`` still documents its shape)."""

    media_type = "application/json"


def json_bytes(payload: Any) -> bytes:
    """``payload`` as compact JSON. The outer levels (response, documents, document, sentences) are written item by
    item: one C-level dump of a response with thousands of sentences holds the GIL for a third of a second, long
    enough to stall /healthz even from a worker thread."""
    return "".join(_json_pieces(payload, 0)).encode("utf-8")


def _json_pieces(value: Any, depth: int) -> Iterator[str]:
    # Containers are opened whatever their length: the usual response is a list of ONE document, which dumped
    # whole was the 0.1-0.2 s GIL hold that stalled /healthz on large documents.
    if depth >= 4 or not isinstance(value, dict | list) or not value:
        yield json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    elif isinstance(value, dict):
        for i, (key, item) in enumerate(value.items()):
            yield ("{" if i == 0 else ",") + json.dumps(str(key), ensure_ascii=False) + ":"
            yield from _json_pieces(item, depth + 1)
        yield "}"
    else:
        for i, item in enumerate(value):
            yield "[" if i == 0 else ","
            yield from _json_pieces(item, depth + 1)
        yield "]"
