"""`stance analyze`: run the document pipeline over a corpus, in chunks, writing JSONL or flattened CSV/Parquet."""

from __future__ import annotations

import csv
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from analysis.corpus import BadRow, CorpusError, count_documents, iter_documents
from analysis.formats import cast_cell, column_kind, document_to_dict, flatten, unify_kinds
from model.extraction import Document
from model.pipeline import DocumentAnalyzer
from model.regroup import DocumentResult

OUTPUT_FORMATS = (".jsonl", ".csv", ".parquet")
CHUNK_CHARS = 1_000_000  # characters of text per chunk of documents (about 370 FA-KES articles)


@dataclass
class AnalyzeStats:
    documents: int = 0
    sentences: int = 0
    pairs: int = 0
    skipped: list[BadRow] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"analyzed {self.documents} documents, {self.sentences} sentences, {self.pairs} (sentence, actor) pairs; "
            f"{len(self.skipped)} rows skipped"
        )


class ResultWriter:
    """Writes analyzed documents as JSONL (one document a line) or flattened CSV / Parquet, chunk by chunk.

    The file appears only when all is written (it is written as ``<name>.partial`` until then). Columns that first
    appear in a later chunk are added: CSV rewrites its header line at the end; Parquet starts a new part with the
    wider schema and merges the parts at the end. A Parquet column whose values mix kinds (numbers and text, say) is
    written as text. ``buffer`` holds stdout output back until the end, so a failed run prints nothing.
    """

    def __init__(
        self, path: str | None, labels: Mapping[str, Sequence[str]] | None = None, report=None, buffer: bool = False
    ) -> None:
        self.path = Path(path) if path else None
        self.format = self.path.suffix.lower() if self.path else ".jsonl"
        if self.format not in OUTPUT_FORMATS:
            raise CorpusError(f"{path}: unsupported output type {self.format!r}; use {', '.join(OUTPUT_FORMATS)}")
        self.partial = self.path.with_name(self.path.name + ".partial") if self.path else None
        self.buffer = buffer and self.path is None
        self._handle: IO[str] | None = None
        self._csv: csv.DictWriter[str] | None = None
        self._columns: list[str] | None = None
        self._header_columns = 0  # CSV: how many columns the header line written first names
        self._kinds: dict[str, str | None] = {}  # Parquet: the kind of every column so far
        self._parquet: Any = None  # the pyarrow ParquetWriter of the current part; pyarrow is imported for Parquet only
        self._parts: list[Path] = []
        self.labels = labels or {}
        self.report = report or (lambda message: print(message, file=sys.stderr))

    def __enter__(self) -> ResultWriter:
        if self.partial is not None:
            self.partial.parent.mkdir(parents=True, exist_ok=True)
            if self.partial.exists():  # only kill -9 or a power cut leave one: every other ending removes it
                self.report(f"replacing {self.partial}, left by a run that was cut off")
        if self.format in (".jsonl", ".csv"):
            if self.partial is not None:
                self._handle = open(self.partial, "w", encoding="utf-8", newline="")
            else:
                self._handle = tempfile.TemporaryFile("w+", encoding="utf-8") if self.buffer else sys.stdout
        return self

    def write(self, results: Iterable[DocumentResult]) -> None:
        if self.format == ".jsonl":
            assert self._handle is not None
            for result in results:
                self._handle.write(json.dumps(document_to_dict(result), ensure_ascii=False) + "\n")
            return
        sentiment, stance = self.labels.get("sentiment", ()), self.labels.get("stance", ())
        rows = [row for result in results for row in flatten(result, sentiment, stance)]
        if not rows:
            return
        known = self._columns or []
        seen = set(known)
        new = [k for k in dict.fromkeys(k for row in rows for k in row) if k not in seen]
        self._columns = known + new
        if self.format == ".csv":
            self._write_csv(rows)
        else:
            self._write_parquet(rows, grown=bool(new))

    def _write_csv(self, rows: list[dict[str, Any]]) -> None:
        assert self._handle is not None and self._columns is not None, "the output is opened in __enter__"
        if self._csv is None:
            self._csv = csv.DictWriter(self._handle, fieldnames=self._columns)
            self._csv.writeheader()
            self._header_columns = len(self._columns)
        self._csv.fieldnames = self._columns
        self._csv.writerows(rows)

    def _write_parquet(self, rows: list[dict[str, Any]], grown: bool) -> None:
        import pyarrow.parquet as pq

        assert self._columns is not None and self.partial is not None
        changed = grown
        for column in self._columns:
            old = self._kinds.get(column)
            new = column_kind(column, (row.get(column) for row in rows))
            kind = old if new is None else new if old is None else unify_kinds({old, new})
            changed = changed or kind != old
            self._kinds[column] = kind
        if changed or self._parquet is None:
            # The schema grew or a column changed kind: earlier parts keep theirs and are converted at the end.
            if self._parquet is not None:
                self._parquet.close()
            part = (
                self.partial if not self._parts else self.partial.with_name(f"{self.partial.name}.{len(self._parts)}")
            )
            self._parts.append(part)
            self._parquet = pq.ParquetWriter(part, self._schema())
        self._parquet.write_table(self._table(rows))

    def _schema(self):
        import pyarrow as pa

        types = {"bool": pa.bool_(), "int": pa.int64(), "float": pa.float64(), "str": pa.string(), None: pa.string()}
        assert self._columns is not None
        return pa.schema([(c, types[self._kinds.get(c)]) for c in self._columns])

    def _table(self, rows: list[dict[str, Any]]):
        import pyarrow as pa

        assert self._columns is not None
        columns = {c: [cast_cell(row.get(c), self._kinds.get(c)) for row in rows] for c in self._columns}
        return pa.Table.from_pydict(columns, schema=self._schema())

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None and self._columns is None and self.format != ".jsonl":
            self._write_empty()
        if self._parquet is not None:
            self._parquet.close()
        if self._handle is not None and self._handle is not sys.stdout:
            if self.buffer and exc_type is None:
                self._handle.seek(0)
                shutil.copyfileobj(self._handle, sys.stdout)
            self._handle.close()
        if self.partial is None or self.path is None:
            return
        if exc_type is None:
            if self.format == ".csv" and self._columns and len(self._columns) > self._header_columns:
                self._rewrite_csv_header()
            if len(self._parts) > 1:
                self._merge_parquet_parts()
            os.replace(self.partial, self.path)
        else:
            for part in [self.partial, *self._parts]:
                part.unlink(missing_ok=True)

    def _write_empty(self) -> None:
        """No rows at all: the columns every output has, so that CSV and Parquet readers still open the file."""
        sentiment, stance = self.labels.get("sentiment", ()), self.labels.get("stance", ())
        self._columns = [
            "id", "sentence_index", "sentence_start", "sentence_end", "sentence", "boilerplate", "truncated",
            "sentiment", *(f"sentiment_p_{k}" for k in sentiment), "actor", "mentioned", "mentions", "mention_texts",
            "stance", *(f"stance_p_{k}" for k in stance),
        ]  # fmt: skip
        if self.format == ".csv":
            self._write_csv([])
        else:
            self._write_parquet([], grown=True)

    def _rewrite_csv_header(self) -> None:
        """Columns came after the header was written: write the whole header and pad the earlier rows."""
        assert self.partial is not None and self._columns is not None
        wider = self.partial.with_name(self.partial.name + ".wide")
        with (
            open(self.partial, encoding="utf-8", newline="") as old,
            open(wider, "w", encoding="utf-8", newline="") as new,
        ):
            reader, writer = csv.reader(old), csv.writer(new)
            next(reader)
            writer.writerow(self._columns)
            for values in reader:
                writer.writerow(values + [""] * (len(self._columns) - len(values)))
        os.replace(wider, self.partial)

    def _merge_parquet_parts(self) -> None:
        """One file from the parts, every part converted to the final schema, batch by batch."""
        import pyarrow.parquet as pq

        assert self.partial is not None
        merged = self.partial.with_name(self.partial.name + ".merged")
        with pq.ParquetWriter(merged, self._schema()) as writer:
            for part in self._parts:
                for batch in pq.ParquetFile(part).iter_batches(batch_size=4096):
                    writer.write_table(self._table(batch.to_pylist()))
        for part in self._parts:
            part.unlink()
        os.replace(merged, self.partial)


def analyze_corpus(
    analyzer: DocumentAnalyzer,
    input_path: str | os.PathLike,
    output_path: str | None = None,
    on_bad_row: str = "skip",
    score_all_actors: bool | list[str] = False,
    chunk_size: int = 256,
    progress: bool = True,
    text_field: str = "text",
    id_field: str = "id",
    report=None,
) -> AnalyzeStats:
    """Analyze every document of a corpus; bad rows are skipped (and listed) or fail the run (``on_bad_row``).

    Documents are analyzed in chunks of up to ``chunk_size`` documents and CHUNK_CHARS characters, one batched model
    call each: the more inputs a call sorts by length, the less padding (FA-KES, 674 articles: chunks of 16 took
    56-57 s, of 128-256 45-47 s on this 2-core CPU); the character cap bounds memory for long documents.
    """
    from tqdm import tqdm

    if on_bad_row not in ("skip", "fail"):
        raise ValueError(f"on_bad_row must be skip or fail, not {on_bad_row!r}")
    if output_path is not None and Path(output_path).resolve() == Path(input_path).resolve():
        raise CorpusError(f"{output_path}: the output would replace the input; write it to another file")
    report = report or (lambda message: print(message, file=sys.stderr))
    stats = AnalyzeStats()
    total = count_documents(input_path)
    bar = tqdm(total=total, unit="doc", disable=not progress, file=sys.stderr, dynamic_ncols=True)
    labels = analyzer.labels
    # With on_bad_row="fail" a bad row must leave no output, on stdout too, so stdout output is held until the end.

    def documents() -> Iterator[Document]:  # bad rows reported (or the run stopped), documents passed on
        for item in iter_documents(input_path, text_field=text_field, id_field=id_field):
            if isinstance(item, BadRow):
                if on_bad_row == "fail":
                    raise CorpusError(f"{item} (run with --on-bad-row skip to skip such rows)")
                stats.skipped.append(item)
                report(f"skipped {item}")
                bar.update(1)
            else:
                yield item

    with ResultWriter(output_path, labels, report, buffer=on_bad_row == "fail") as writer:
        for chunk in document_chunks(documents(), chunk_size):
            analyze_chunk(analyzer, chunk, writer, stats, score_all_actors)
            bar.update(len(chunk))
    bar.close()
    if not stats.documents:
        why = "every row was skipped" if stats.skipped else "the input has no rows"
        report(f"warning: {input_path}: no documents analyzed ({why})")
    return stats


def document_chunks(documents: Iterable[Document], size: int) -> Iterator[list[Document]]:
    """Consecutive chunks of up to ``size`` documents and CHUNK_CHARS characters (the last may be smaller)."""
    chunk: list[Document] = []
    chars = 0
    for document in documents:
        chunk.append(document)
        chars += len(document.text)
        if len(chunk) >= size or chars >= CHUNK_CHARS:
            yield chunk
            chunk, chars = [], 0
    if chunk:
        yield chunk


def analyze_chunk(analyzer, chunk, writer, stats, score_all_actors) -> None:
    """One batched analysis of a chunk of documents, written and counted."""
    results = analyzer.analyze(chunk, score_all_actors=score_all_actors)
    stats.documents += len(results)
    stats.sentences += sum(len(r.sentences) for r in results)
    stats.pairs += sum(len(s.actors) for r in results for s in r.sentences)
    writer.write(results)
