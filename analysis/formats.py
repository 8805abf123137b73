"""The output formats of analyzed documents: one document as JSON (a line of `stance analyze` JSONL, a document of
`/v1/analyze`) and flattened rows, one per (sentence, actor), for CSV and Parquet (with each column's Parquet kind).
"""

from __future__ import annotations

import base64
import datetime
import decimal
import json
import math
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from model.regroup import DocumentResult, TaskPrediction

# The names analyze output uses itself: document keys (JSONL) and flattened columns (CSV/Parquet). A carried input
# field with one of these names, or with a probability-column prefix, is written as input_<name> (see carried_fields).
OUTPUT_FIELDS = frozenset(
    {"id", "sentences", "actors", "sentence_index", "sentence_start", "sentence_end", "sentence", "boilerplate",
     "truncated", "sentiment", "actor", "mentioned", "mentions", "mention_texts", "stance"}
)  # fmt: skip
OUTPUT_PREFIXES = ("sentiment_p_", "stance_p_")


def carried_fields(meta: dict[str, Any]) -> dict[str, Any]:
    """``meta`` with every key the output uses itself renamed to ``input_<key>`` (again until it is free), so that
    neither the document's own fields nor the carried ones are overwritten.

    >>> carried_fields({"id": "orig", "source": "sana"})
    {'input_id': 'orig', 'source': 'sana'}
    """
    taken = set(meta)
    out: dict[str, Any] = {}
    for key, value in meta.items():
        name = str(key)
        if name in OUTPUT_FIELDS or name.startswith(OUTPUT_PREFIXES):
            while name in OUTPUT_FIELDS or name.startswith(OUTPUT_PREFIXES) or name in taken or name in out:
                name = f"input_{name}"
        out[name] = value
    return out


def json_value(value: Any) -> Any:
    """``value`` as plain JSON: dates and times as ISO 8601 strings, NaN / NaT / infinities as None, Decimals and
    NumPy scalars as numbers, bytes as UTF-8 text (base64 when not UTF-8), containers converted item by item.

    >>> json_value({"date": datetime.date(2017, 4, 7), "score": float("nan")})
    {'date': '2017-04-07', 'score': None}
    """
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (datetime.date, datetime.time)):  # datetime is a date; pandas' Timestamp a datetime
        return None if value != value else value.isoformat()  # NaT is the one date unequal to itself
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            return None
        if value == value.to_integral_value():
            return int(value)
        as_float = float(value)
        return as_float if decimal.Decimal(repr(as_float)) == value else str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return base64.b64encode(raw).decode("ascii")
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_value(v) for v in value]
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if callable(getattr(value, "tolist", None)):  # NumPy scalars and arrays
        return json_value(value.tolist())
    try:
        missing = bool(value != value)  # missing markers are unequal to themselves
    except (TypeError, ValueError):  # pandas.NA is neither equal nor unequal to anything
        missing = True
    return None if missing else str(value)


def document_to_dict(result: DocumentResult) -> dict[str, Any]:
    """The JSON shape of one analyzed document (analyze output, one line per document): carried fields follow the
    id (renamed where they collide, see `carried_fields`) and are plain JSON values (see `json_value`)."""

    def prediction(p: TaskPrediction | None) -> dict[str, Any] | None:
        return None if p is None else {"label": p.label, "probabilities": p.probabilities}

    return {
        "id": result.id,
        **json_value(carried_fields(result.meta)),
        "sentences": [
            {
                "index": s.index,
                "start": s.start,
                "end": s.end,
                "text": s.text,
                "sentiment": prediction(s.sentiment),
                "truncated": s.truncated,
                "boilerplate": s.boilerplate,
                "actors": [
                    {
                        "actor": a.actor,
                        "mentioned": a.mentioned,
                        "mentions": [
                            {"start": m.start, "end": m.end, "text": s.text[m.start - s.start : m.end - s.start]}
                            for m in a.mentions
                        ],
                        "stance": prediction(a.stance),
                    }
                    for a in s.actors
                ],
            }
            for s in result.sentences
        ],
        "actors": {
            name: {
                "sentences": a.sentences,
                "counts": a.counts,
                "mean_probabilities": a.mean_probabilities,
                "net_stance": a.net_stance,
            }
            for name, a in result.actors.items()
        },
    }


def flatten(
    result: DocumentResult, sentiment_labels: Sequence[str] = (), stance_labels: Sequence[str] = ()
) -> Iterator[dict[str, Any]]:
    """One row per (sentence, actor); a sentence with no actor gives one row with an empty actor.

    Every row has a probability column for every label, empty where there is nothing to score. Carried fields come
    after the id, renamed where they collide with a column of the output (`carried_fields`), as plain cells (`_scalar`).
    """
    base = {"id": result.id, **{k: _scalar(v) for k, v in carried_fields(result.meta).items()}}
    no_stance = {f"stance_p_{k}": None for k in stance_labels}
    for s in result.sentences:
        row = {
            **base,
            "sentence_index": s.index,
            "sentence_start": s.start,
            "sentence_end": s.end,
            "sentence": s.text,
            "boilerplate": s.boilerplate,
            "truncated": s.truncated,
            "sentiment": s.sentiment.label if s.sentiment else None,
            **{f"sentiment_p_{k}": (s.sentiment.probabilities[k] if s.sentiment else None) for k in sentiment_labels},
        }
        if not s.actors:
            yield {
                **row, "actor": None, "mentioned": None, "mentions": None, "mention_texts": None, "stance": None,
                **no_stance,
            }  # fmt: skip
        for a in s.actors:
            yield {
                **row,
                "actor": a.actor,
                "mentioned": a.mentioned,
                "mentions": ";".join(f"{m.start}-{m.end}" for m in a.mentions),
                "mention_texts": ";".join(s.text[m.start - s.start : m.end - s.start] for m in a.mentions),
                "stance": a.stance.label if a.stance else None,
                **no_stance,
                **{f"stance_p_{k}": v for k, v in (a.stance.probabilities if a.stance else {}).items()},
            }


def _scalar(value: Any) -> Any:
    """A carried value as one cell: dates as ISO 8601 text, NaN as empty, lists and mappings as JSON text."""
    value = json_value(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return json.dumps(value, ensure_ascii=False)


# Parquet types of the columns `flatten` writes itself; carried columns get theirs from their values (`column_kind`).
FIXED_KINDS = {
    "id": "str", "sentence_index": "int", "sentence_start": "int", "sentence_end": "int", "sentence": "str",
    "boilerplate": "bool", "truncated": "bool", "sentiment": "str", "actor": "str", "mentioned": "bool",
    "mentions": "str", "mention_texts": "str", "stance": "str",
}  # fmt: skip


def column_kind(column: str, values: Iterable[Any]) -> str | None:
    """The Parquet kind of a column's values ('bool', 'int', 'float', 'str'), None while they are all empty.
    Values of different kinds make a text column, except whole and decimal numbers, which make a float column."""
    if column in FIXED_KINDS:
        return FIXED_KINDS[column]
    if column.startswith(("stance_p_", "sentiment_p_")):
        return "float"
    kinds = set()
    for value in values:
        if value is None:
            continue
        if isinstance(value, bool):
            kinds.add("bool")
        elif isinstance(value, int):
            kinds.add("int" if -(2**63) <= value < 2**63 else "str")
        elif isinstance(value, float):
            kinds.add("float")
        else:
            kinds.add("str")
    return unify_kinds(kinds)


def unify_kinds(kinds: set[str]) -> str | None:
    if not kinds:
        return None
    if len(kinds) == 1:
        return next(iter(kinds))
    return "float" if kinds == {"int", "float"} else "str"


def cast_cell(value: Any, kind: str | None) -> Any:
    if value is None:
        return None
    if kind == "float" and not isinstance(value, float):
        return float(value)
    if kind in ("str", None) and not isinstance(value, str):
        return str(value)
    return value
