"""Streaming row readers for JSONL, CSV, Parquet and saved Hugging Face datasets (a folder written by
``datasets.Dataset.save_to_disk``: Arrow files, read here with pyarrow) that keep each row's line number (row number
for Parquet and datasets), for exact error reports.

Used for labelled training data and for corpora alike: ``read_records(path)`` yields ``(line, record, error)``,
where ``line`` is the 1-based line where the row starts (the row number for Parquet) and ``error`` says why a row
could not be read (invalid UTF-8, invalid JSON, malformed CSV, ...), with ``record`` then None; reading goes on with
the next row. A file that cannot be read as rows at all (unreadable Parquet, a CSV header that does not parse, a JSON
array where JSON Lines are expected) raises `RecordFileError` naming the file. Nothing is loaded whole.
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
BOM = "\ufeff"

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


class RecordFileError(ValueError):
    """A file that cannot be read as rows at all; the message starts with the file (and line, where known)."""


def record_format(path: str | os.PathLike) -> str | None:
    """'jsonl', 'csv' or 'parquet' by file suffix, 'dataset' for a saved Hugging Face dataset folder; None for
    anything else. A saved DatasetDict (several splits) is refused, naming its splits."""
    path = Path(path)
    if path.is_dir():
        if (path / "dataset_dict.json").is_file():
            splits = sorted(p.name for p in path.iterdir() if (p / "state.json").is_file())
            raise RecordFileError(
                f"{path}: a saved DatasetDict with the splits {splits}; give one split's folder, e.g. "
                f"{path / (splits[0] if splits else 'train')}"
            )
        return "dataset" if (path / "state.json").is_file() and (path / "dataset_info.json").is_file() else None
    return SUFFIXES.get(path.suffix.lower())


def unit_of(path: str | os.PathLike) -> str:
    """What a location number counts in this file: lines, or rows for Parquet and saved datasets."""
    return "row" if record_format(path) in ("parquet", "dataset") else "line"


def read_records(path: str | os.PathLike) -> Iterator[Record]:
    path = Path(path)
    kind = record_format(path)
    if kind == "jsonl":
        return _read_jsonl(path)
    if kind == "csv":
        return _read_csv(path)
    if kind == "parquet":
        return _read_parquet(path)
    if kind == "dataset":
        return _read_dataset(path)
    raise ValueError(
        f"{path}: unsupported file type {path.suffix!r}; use .jsonl, .csv, .parquet or a saved dataset folder"
    )


def _read_jsonl(path: Path) -> Iterator[Record]:
    with open(path, "rb") as handle:
        first = True
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield number, None, f"invalid UTF-8 (byte {exc.start + 1} of the line)"
                continue
            if number == 1:
                line = line.removeprefix(BOM)
            if not line.strip():
                continue
            if first and path.suffix.lower() == ".json" and line.lstrip().startswith("["):
                raise RecordFileError(
                    f"{path}:{number}: a JSON array; give JSON Lines instead, one object per line "
                    f"(for example: jq -c '.[]' {path.name} > {path.stem}.jsonl)"
                )
            first = False
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                # Some messages end in "at" ("Unterminated string starting at"): the column completes them.
                yield number, None, f"invalid JSON ({exc.msg.removesuffix(' at')} at column {exc.colno})"
                continue
            if not isinstance(record, dict):
                yield number, None, f"expected a JSON object, got {type(record).__name__}"
                continue
            yield number, record, None


def _csv_problem(message: str) -> str:
    """What a csv.Error means, in the words of someone fixing the file."""
    if "new-line character seen in unquoted field" in message:
        return "a carriage return (\\r) inside an unquoted field; quote the field or remove the \\r"
    if "expected after" in message:
        return 'text after the closing quote of a quoted field (a quote inside a quoted field is written "")'
    if "unexpected end of data" in message:
        return "a quote opened in this row is never closed"
    return message


def _stray_quote(row: str) -> int | None:
    """The 1-based column of a quote inside an unquoted field of a row the strict reader accepted, else None
    (Python's reader keeps such a quote as text; RFC 4180 does not allow it)."""
    i, n, field_start = 0, len(row), True
    while i < n:
        char = row[i]
        if field_start and char == '"':  # a quoted field: to its closing quote ("" is a quote inside it)
            i += 1
            while (i < n and row[i] != '"') or row.startswith('""', i):
                i += 2 if row.startswith('""', i) else 1
            field_start = False
        elif char == '"':
            return i + 1
        else:
            field_start = char in ",\r\n"
        i += 1
    return None


def _read_csv(path: Path) -> Iterator[Record]:
    """Rows of a CSV file (RFC 4180, strict quoting). A malformed row is reported at the line where it starts and
    reading resumes on the next line, so one stray quote costs one row, not the rest of the file."""
    bad: dict[int, str] = {}
    line_end: dict[int, int] = {}  # byte offset after each line of the row being read, to resume after its first line
    row_text: dict[int, str] = {}  # the text of each line of the row being read

    def lines(first: int, offset: int) -> Iterator[str]:
        with open(path, "rb") as handle:
            handle.seek(offset)
            for number, raw in enumerate(handle, start=first):
                offset += len(raw)
                line_end[number] = offset
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    bad[number] = f"invalid UTF-8 (byte {exc.start + 1} of the line)"
                    text = raw.decode("utf-8", errors="replace")
                text = text.removeprefix(BOM) if number == 1 else text
                row_text[number] = text
                yield text

    reader = csv.reader(lines(1, 0), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        problem = _csv_problem(str(exc))
        if "carriage return" in problem:
            problem += "; if the file's lines end in a lone \\r (classic Mac OS), save it with \\n or \\r\\n line ends"
        raise RecordFileError(f"{path}:1: invalid CSV header: {problem}") from exc
    base = 0  # file line of the reader's line 0 (the reader restarts after a row that runs over several lines)
    start = reader.line_num + 1
    line_end.clear()
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            last = base + reader.line_num
            problem = f"invalid CSV: {_csv_problem(str(exc))}"
            if last > start:
                # A row that runs over several lines and then breaks most likely has a stray quote on its first
                # line: skip that line alone and read the lines after it as rows again.
                if "unexpected end of data" in str(exc):
                    problem = (
                        f"invalid CSV: a quote opened on this line is never closed (it runs to line {last}, the end)"
                    )
                else:
                    problem = (
                        f"invalid CSV: a quote opened on this line runs on to line {last}: {_csv_problem(str(exc))}"
                    )
                problem += "; only this line is skipped, reading resumes on the next"
                reader = csv.reader(lines(start + 1, line_end[start]), strict=True)
                base, last = start, start
            yield start, None, problem
            start = last + 1
            line_end.clear()
            row_text.clear()
            continue
        line, start = start, base + reader.line_num + 1
        text = "".join(row_text.get(n, "") for n in range(line, start)) if any('"' in v for v in values) else ""
        line_end.clear()
        row_text.clear()
        errors = [bad[n] for n in range(line, start) if n in bad]
        column = _stray_quote(text) if text else None
        if errors:
            yield line, None, errors[0]
        elif column is not None:
            yield (
                line,
                None,
                (
                    f"invalid CSV: a quote inside an unquoted field (column {column}); quote the whole field and write "
                    'the quote inside it as ""'
                ),
            )
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
        raise RecordFileError(f"{path}: unreadable Parquet file ({exc})") from exc
    number = 0
    batches = parquet.iter_batches(batch_size=1024)
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except Exception as exc:
            raise RecordFileError(f"{path}: unreadable Parquet data after row {number} ({exc})") from exc
        for record in batch.to_pylist():
            number += 1
            yield number, record, None


def _read_dataset(path: Path) -> Iterator[Record]:
    """The rows of a folder written by ``datasets.Dataset.save_to_disk``: its Arrow stream files, in order."""
    import pyarrow as pa

    try:
        files = [entry["filename"] for entry in json.loads((path / "state.json").read_text())["_data_files"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RecordFileError(f"{path}: not a readable saved dataset (state.json: {exc})") from exc
    number = 0
    for name in files:
        try:
            with pa.memory_map(str(path / name)) as source:
                batches = list(pa.ipc.open_stream(source))
        except Exception as exc:  # pyarrow raises several types for unreadable files
            raise RecordFileError(f"{path / name}: unreadable Arrow file of a saved dataset ({exc})") from exc
        for batch in batches:
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
