"""Streaming row readers for JSONL, CSV and Parquet that keep each row's line number, for exact error reports.

Used for labelled training data and for corpora alike: ``read_records(path)`` yields ``(line, record, error)``,
where ``line`` is the 1-based line where the row starts (the row number for Parquet) and ``error`` says why a row
could not be read (invalid UTF-8, invalid JSON, ...), with ``record`` then None. Nothing is loaded whole.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv", ".parquet": "parquet"}
Record = tuple[int, dict[str, Any] | None, str | None]

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


def record_format(path: str | os.PathLike) -> str | None:
    """'jsonl', 'csv' or 'parquet' by file suffix; None for anything else."""
    return SUFFIXES.get(Path(path).suffix.lower())


def unit_of(path: str | os.PathLike) -> str:
    """What a location number counts in this file: lines, or rows for Parquet."""
    return "row" if record_format(path) == "parquet" else "line"


def read_records(path: str | os.PathLike) -> Iterator[Record]:
    path = Path(path)
    kind = record_format(path)
    if kind == "jsonl":
        return _read_jsonl(path)
    if kind == "csv":
        return _read_csv(path)
    if kind == "parquet":
        return _read_parquet(path)
    raise ValueError(f"{path}: unsupported file type {path.suffix!r}; use .jsonl, .csv or .parquet")


def _read_jsonl(path: Path) -> Iterator[Record]:
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield number, None, f"invalid UTF-8 (byte {exc.start + 1} of the line)"
                continue
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                yield number, None, f"invalid JSON ({exc.msg} at column {exc.colno})"
                continue
            if not isinstance(record, dict):
                yield number, None, f"expected a JSON object, got {type(record).__name__}"
                continue
            yield number, record, None


def _read_csv(path: Path) -> Iterator[Record]:
    bad: dict[int, str] = {}

    def lines() -> Iterator[str]:
        with open(path, "rb") as handle:
            for number, raw in enumerate(handle, start=1):
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    bad[number] = f"invalid UTF-8 (byte {exc.start + 1} of the line)"
                    text = raw.decode("utf-8", errors="replace")
                yield text.lstrip("\ufeff") if number == 1 else text

    reader = csv.reader(lines())
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        yield 1, None, f"invalid CSV header ({exc})"
        return
    start = reader.line_num + 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield start, None, f"invalid CSV ({exc})"
            return
        line, start = start, reader.line_num + 1
        errors = [bad[n] for n in range(line, start) if n in bad]
        if errors:
            yield line, None, errors[0]
        elif not values:
            continue
        elif len(values) > len(header):
            yield line, None, f"{len(values)} fields, more than the {len(header)} columns in the header"
        else:
            record = {k: (v if v != "" else None) for k, v in zip(header, values, strict=False)}
            yield line, record, None


def _read_parquet(path: Path) -> Iterator[Record]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for unreadable files
        yield 0, None, f"unreadable Parquet file ({exc})"
        return
    number = 0
    for batch in parquet.iter_batches(batch_size=1024):
        for record in batch.to_pylist():
            number += 1
            yield number, record, None


def count_rows(path: str | os.PathLike) -> int | None:
    """A quick row count for progress bars (lines for JSONL, rows for Parquet; None where unknown)."""
    kind = record_format(path)
    if kind == "parquet":
        import pyarrow.parquet as pq

        try:
            return pq.ParquetFile(path).metadata.num_rows
        except Exception:
            return None
    if kind == "jsonl":
        with open(path, "rb") as handle:
            return sum(1 for line in handle if line.strip())
    return None
