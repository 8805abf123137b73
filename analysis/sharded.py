"""`stance analyze --output-dir`: a corpus analyzed into a folder of parts (analysis/parts.py), this shard's share,
skipping the parts an earlier run finished."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice

from analysis.analyze import AnalyzeStats, ResultWriter, analyze_chunk, document_chunks
from analysis.corpus import BadRow, CorpusError, count_documents, iter_documents
from analysis.parts import PartFolder
from model.extraction import Document
from model.pipeline import DocumentAnalyzer


@dataclass
class ShardStats(AnalyzeStats):
    """`AnalyzeStats` of the parts this process wrote, and how the folder stands."""

    written: list[int] = field(default_factory=list)
    already: list[int] = field(default_factory=list)  # this shard's parts an earlier run finished
    parts_total: int = 0

    def line(self) -> str:
        return (
            f"{super().line()}; parts written {len(self.written)}, already finished {len(self.already)}, "
            f"of {self.parts_total} in the run"
        )


def analyze_to_parts(
    analyzer: DocumentAnalyzer,
    input_path: str | os.PathLike,
    folder: PartFolder,
    shard: tuple[int, int] = (1, 1),
    on_bad_row: str = "skip",
    score_all_actors: bool | list[str] = False,
    chunk_size: int = 256,
    progress: bool = True,
    text_field: str = "text",
    id_field: str = "id",
    report=None,
) -> ShardStats:
    """Analyze this shard's unfinished parts of the input into ``folder``.

    Part ``p`` holds input rows ``p * part_size`` up to the next part (bad rows count, so parts fall the same on
    every run); shard ``(k, n)`` does the parts with ``p % n == k - 1``. Each part is written whole or not at all,
    then recorded; a crash loses only the parts being written.
    """
    from tqdm import tqdm

    if on_bad_row not in ("skip", "fail"):
        raise ValueError(f"on_bad_row must be skip or fail, not {on_bad_row!r}")
    report = report or (lambda message: print(message, file=sys.stderr))
    k, n = shard
    stats = ShardStats()
    total = count_documents(input_path)
    bar = tqdm(total=total, unit="row", disable=not progress, file=sys.stderr, dynamic_ncols=True)
    rows = iter_documents(input_path, text_field=text_field, id_field=id_field)
    read = 0
    for number, part in enumerate(_parts(rows, folder.spec.part_size)):
        stats.parts_total = number + 1
        read += len(part)
        bar.update(len(part))
        if number % n != k - 1:
            continue
        if folder.finished(number):
            stats.already.append(number)
            continue
        _write_part(analyzer, folder, number, part, stats, on_bad_row, score_all_actors, chunk_size, report)
        stats.written.append(number)
    bar.close()
    folder.finish_shard(shard, stats.parts_total, read)
    return stats


def _parts(rows: Iterator[Document | BadRow], size: int) -> Iterator[list[Document | BadRow]]:
    while part := list(islice(rows, size)):
        yield part


def _write_part(analyzer, folder, number, part, stats, on_bad_row, score_all_actors, chunk_size, report) -> None:
    skipped = [row for row in part if isinstance(row, BadRow)]
    if skipped and on_bad_row == "fail":
        raise CorpusError(f"{skipped[0]} (run with --on-bad-row skip to skip such rows)")
    for row in skipped:
        report(f"skipped {row}")
    documents = [row for row in part if isinstance(row, Document)]
    before = AnalyzeStats(stats.documents, stats.sentences, stats.pairs)
    with ResultWriter(str(folder.part_path(number)), analyzer.labels, report) as writer:
        for chunk in document_chunks(documents, chunk_size):
            analyze_chunk(analyzer, chunk, writer, stats, score_all_actors)
    stats.skipped.extend(skipped)
    folder.write_record(
        number,
        {
            "rows": len(part),
            "documents": stats.documents - before.documents,
            "sentences": stats.sentences - before.sentences,
            "pairs": stats.pairs - before.pairs,
            "skipped": [{"location": row.location, "reason": row.reason} for row in skipped],
        },
    )
