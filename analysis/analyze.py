"""`stance analyze`: run the document pipeline over a corpus, in chunks, writing JSONL or flattened CSV/Parquet."""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from analysis.corpus import BadRow, CorpusError, count_documents, iter_documents
from model.pipeline import Document, DocumentAnalyzer, DocumentResult, document_to_dict

OUTPUT_FORMATS = (".jsonl", ".csv", ".parquet")


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


def flatten(
    result: DocumentResult, sentiment_labels: Sequence[str] = (), stance_labels: Sequence[str] = ()
) -> Iterator[dict[str, Any]]:
    """One row per (sentence, actor); a sentence with no actor gives one row with an empty actor.

    Every row has a probability column for every label, empty where there is nothing to score.
    """
    base = {"id": result.id, **{k: _scalar(v) for k, v in result.meta.items()}}
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
    return value if value is None or isinstance(value, (str, int, float, bool)) else json.dumps(value, default=str)


class ResultWriter:
    """Writes analyzed documents as JSONL (one document a line) or flattened CSV / Parquet, chunk by chunk."""

    def __init__(self, path: str | None, labels: dict[str, Sequence[str]] | None = None, report=None) -> None:
        self.path = Path(path) if path else None
        self.format = self.path.suffix.lower() if self.path else ".jsonl"
        if self.format not in OUTPUT_FORMATS:
            raise CorpusError(f"{path}: unsupported output type {self.format!r}; use {', '.join(OUTPUT_FORMATS)}")
        self.partial = self.path.with_name(self.path.name + ".partial") if self.path else None
        self._handle: IO[str] | None = None
        self._csv: csv.DictWriter[str] | None = None
        self._parquet: Any = None  # pyarrow.parquet.ParquetWriter; pyarrow is imported only for Parquet output
        self._columns: list[str] | None = None
        self._schema: Any = None
        self._dropped: set[str] = set()
        self.labels = labels or {}
        self.report = report or (lambda message: print(message, file=sys.stderr))

    def __enter__(self) -> ResultWriter:
        if self.partial is not None:
            self.partial.parent.mkdir(parents=True, exist_ok=True)
        if self.format in (".jsonl", ".csv"):
            self._handle = open(self.partial, "w", encoding="utf-8", newline="") if self.partial else sys.stdout
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
        if self._columns is None:
            # Columns are fixed by the first chunk; fields that only later documents carry are named once.
            self._columns = list(dict.fromkeys(k for row in rows for k in row))
        dropped = {k for row in rows for k in row} - set(self._columns) - self._dropped
        if dropped:
            self._dropped |= dropped
            self.report(f"warning: fields {sorted(dropped)} first appear after the first chunk; not in {self.path}")
        rows = [{c: row.get(c) for c in self._columns} for row in rows]
        if self.format == ".csv":
            if self._csv is None:
                assert self._handle is not None, "the output is opened in __enter__"
                self._csv = csv.DictWriter(self._handle, fieldnames=self._columns, extrasaction="ignore")
                self._csv.writeheader()
            self._csv.writerows(rows)
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            if self._parquet is None:
                table = pa.Table.from_pylist(rows)
                fields = []
                for f in table.schema:
                    if f.name.startswith(("stance_p_", "sentiment_p_")):
                        f = f.with_type(pa.float64())
                    elif pa.types.is_null(f.type):
                        f = f.with_type(pa.string())
                    fields.append(f)
                self._schema = pa.schema(fields)
                self._parquet = pq.ParquetWriter(self.partial, self._schema)
            schema = self._schema
            columns = {f.name: [_cast(row[f.name], f.type) for row in rows] for f in schema}
            self._parquet.write_table(pa.Table.from_pydict(columns, schema=schema))

    def __exit__(self, exc_type, exc, tb) -> None:
        if self._parquet is not None:
            self._parquet.close()
        if self._handle is not None and self._handle is not sys.stdout:
            self._handle.close()
        if self.partial is None or self.path is None:
            return
        if exc_type is None:
            if not self.partial.exists():
                self.partial.write_bytes(b"")
            os.replace(self.partial, self.path)
        else:
            self.partial.unlink(missing_ok=True)


def _cast(value: Any, arrow_type) -> Any:
    import pyarrow as pa

    if value is None:
        return None
    if pa.types.is_string(arrow_type) and not isinstance(value, str):
        return str(value)
    return value


def analyze_corpus(
    analyzer: DocumentAnalyzer,
    input_path: str | os.PathLike,
    output_path: str | None = None,
    on_bad_row: str = "skip",
    score_all_actors: bool | list[str] = False,
    chunk_size: int = 16,
    progress: bool = True,
    text_field: str = "text",
    id_field: str = "id",
    report=None,
) -> AnalyzeStats:
    """Analyze every document of a corpus; bad rows are skipped (and listed) or fail the run (``on_bad_row``)."""
    from tqdm import tqdm

    if on_bad_row not in ("skip", "fail"):
        raise ValueError(f"on_bad_row must be skip or fail, not {on_bad_row!r}")
    report = report or (lambda message: print(message, file=sys.stderr))
    stats = AnalyzeStats()
    total = count_documents(input_path)
    bar = tqdm(total=total, unit="doc", disable=not progress, file=sys.stderr, dynamic_ncols=True)
    labels = {t.name: t.labels for t in analyzer.predictor.tasks}
    with ResultWriter(output_path, labels, report) as writer:
        chunk: list[Document] = []
        for item in iter_documents(input_path, text_field=text_field, id_field=id_field):
            if isinstance(item, BadRow):
                if on_bad_row == "fail":
                    raise CorpusError(f"{item} (run with --on-bad-row skip to skip such rows)")
                stats.skipped.append(item)
                report(f"skipped {item}")
                bar.update(1)
                continue
            chunk.append(item)
            if len(chunk) >= chunk_size:
                _run_chunk(analyzer, chunk, writer, stats, score_all_actors)
                bar.update(len(chunk))
                chunk = []
        if chunk:
            _run_chunk(analyzer, chunk, writer, stats, score_all_actors)
            bar.update(len(chunk))
    bar.close()
    return stats


def _run_chunk(analyzer, chunk, writer, stats, score_all_actors) -> None:
    results = analyzer.analyze(chunk, score_all_actors=score_all_actors)
    stats.documents += len(results)
    stats.sentences += sum(len(r.sentences) for r in results)
    stats.pairs += sum(len(s.actors) for r in results for s in r.sentences)
    writer.write(results)
