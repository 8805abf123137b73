"""Reading corpora as a stream of documents: a text file, a folder of .txt files, or JSONL/CSV/Parquet rows.

Rows that cannot be used (no text, invalid encoding, invalid JSON) come out as `BadRow`s with their location,
never silently dropped; the caller decides whether to skip them or fail the run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from model.extraction import Document
from model.records import BOM, RecordFileError, count_rows, read_records, record_format, unit_of


@dataclass(frozen=True)
class BadRow:
    """An input row that could not be analyzed: where it is and why."""

    location: str
    reason: str

    def __str__(self) -> str:
        return f"{self.location}: {self.reason}"


class CorpusError(ValueError):
    """An input that cannot be read at all (missing, unknown type, no text column)."""


def _text_files(folder: Path) -> list[Path]:
    """The .txt files under ``folder`` (any case of the suffix, as for a single file), sorted."""
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() == ".txt" and p.is_file())


def _text_document(path: Path, doc_id: str) -> Document | BadRow:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return BadRow(f"{path}:{line}", f"invalid UTF-8 (byte {exc.start + 1} of the file)")
    text = text.removeprefix(BOM)  # offsets count from the first character after a byte-order mark
    if not text.strip():
        return BadRow(str(path), "empty text")
    return Document(doc_id, text, {"file": str(path)})


def iter_documents(
    path: str | os.PathLike, text_field: str = "text", id_field: str = "id"
) -> Iterator[Document | BadRow]:
    """Documents (or bad rows) of a corpus, in file order, streamed."""
    path = Path(path)
    try:
        saved_dataset = record_format(path) == "dataset"
    except RecordFileError as exc:  # a saved DatasetDict: the message names its splits
        raise CorpusError(str(exc)) from exc
    if path.is_dir() and not saved_dataset:
        files = _text_files(path)
        if not files:
            raise CorpusError(f"{path}: folder has no .txt files")
        for file in files:
            yield _text_document(file, str(file.relative_to(path).with_suffix("")))
        return
    if not path.exists():
        raise CorpusError(f"{path}: no such file or folder")
    if path.suffix.lower() == ".txt":
        yield _text_document(path, path.stem)
        return
    if record_format(path) is None:
        raise CorpusError(
            f"{path}: unsupported input {path.suffix!r}; use .txt, a folder of .txt, .jsonl, .csv, .parquet or a "
            "saved dataset folder"
        )
    try:
        yield from _record_documents(path, text_field, id_field)
    except RecordFileError as exc:
        raise CorpusError(str(exc)) from exc


def _record_documents(path: Path, text_field: str, id_field: str) -> Iterator[Document | BadRow]:
    unit = unit_of(path)
    seen_text_field = False
    # JSONL rows have no common header: rows without the text field are held back until one row has it, so that a
    # wrong --text-field is one error, not a skipped-row report for every row.
    held: list[BadRow] = []
    first_fields: list[str] | None = None
    for line, record, error in read_records(path):
        where = f"{path}:{line}" if unit == "line" else f"{path} (row {line})"
        if error is not None:
            if seen_text_field:
                yield BadRow(where, error)
            else:
                held.append(BadRow(where, error))
            continue
        assert record is not None
        if first_fields is None:
            first_fields = [str(k) for k in record]
        if text_field not in record:
            if not seen_text_field and record_format(path) != "jsonl":
                raise CorpusError(f"{path}: no {text_field!r} column (columns: {', '.join(first_fields)})")
            missing = BadRow(where, f"no {text_field!r} field")
            if seen_text_field:
                yield missing
            else:
                held.append(missing)
            continue
        if not seen_text_field:
            seen_text_field = True
            yield from held
            held = []
        yield document_from_record(record, text_field, id_field, where, f"{path.stem}:{line}")
    if not seen_text_field and first_fields is not None:
        raise CorpusError(
            f"{path}: no row has a {text_field!r} field (the first row has: {', '.join(first_fields) or 'nothing'})"
        )
    yield from held


def document_from_record(
    record: dict, text_field: str, id_field: str, where: str, fallback_id: str
) -> Document | BadRow:
    """A row as a `Document` (its id, its text, every other field carried), or a `BadRow` at ``where`` saying why not;
    ``fallback_id`` where the row has no id."""
    text = record.get(text_field)
    if not isinstance(text, str) or not text.strip():
        kind = f"empty {text_field!r}" if text is None or isinstance(text, str) else f"{text_field!r} is not a string"
        return BadRow(where, kind)
    raw_id = record.get(id_field)
    doc_id = str(raw_id) if raw_id not in (None, "") else fallback_id
    meta = {k: v for k, v in record.items() if k not in (text_field, id_field)}
    return Document(doc_id, text, meta)


def count_documents(path: str | os.PathLike) -> int | None:
    """Number of documents for a progress bar, where cheap to know."""
    path = Path(path)
    try:
        kind = record_format(path)
    except RecordFileError:
        return None
    if path.is_dir() and kind is None:
        return len(_text_files(path))
    if path.suffix.lower() == ".txt":
        return 1
    return count_rows(path) if kind and path.exists() else None
