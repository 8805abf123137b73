"""`stance summarize`: aggregate analyze output by actor and by carried columns (outlet, month, ...), with charts.

Reads JSONL (one document a line) or the flattened CSV/Parquet written by `stance analyze`. Writes CSV tables,
PNG charts and one self-contained HTML page (charts embedded; no network needed to view it). Everything is read,
checked and computed before the first file is written, so bad input leaves the output folder as it was.

Only (sentence, actor) pairs where the sentence mentions the actor are counted unless ``include_unmentioned``: the
extra pairs of ``stance analyze --score-all-actors`` would otherwise give every actor a net stance in every sentence.

The stages, in order: analysis/analyzed.py reads and checks the input, analysis/dates.py reads the date column,
analysis/aggregate.py builds the tables, analysis/report.py draws the charts and writes the files.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from analysis.aggregate import TABLE_COLUMNS, TABLE_PREFIXES, aggregate, check_group_column, mentioned_only
from analysis.analyzed import INTERNAL, PAIR_COLUMNS, SummaryError, load_pairs_with_notes
from analysis.dates import DATE_ORDERS, PERIODS, document_dates
from analysis.report import (
    OutputFile,
    chart_distribution,
    chart_over_time,
    html_image,
    html_page,
    html_table,
    write_outputs,
)


def summarize(
    input_path: str | os.PathLike,
    output_dir: str | os.PathLike,
    by: Sequence[str] = (),
    date_column: str | None = None,
    period: str = "month",
    min_sentences: int = 1,
    date_order: str = "auto",
    include_unmentioned: bool = False,
    report: Callable[[str], None] | None = None,
) -> dict[str, Path]:
    """Write summary tables, charts and summary.html into ``output_dir``; returns what was written.

    ``date_column`` None means ``date`` when the input has one. Notes (pairs left out, dates that did not parse,
    charts skipped) go to ``report`` (default: stderr) and into summary.html.
    """
    report = report or (lambda message: print(f"stance summarize: {message}", file=sys.stderr))
    out = Path(output_dir)
    _check_options(out, by, period, min_sentences, date_order)
    frame, notes = load_pairs_with_notes(Path(input_path))
    if frame.empty:
        raise SummaryError(f"{input_path}: no scored (sentence, actor) pairs to summarize")
    frame, mention_note = mentioned_only(frame, input_path, include_unmentioned)
    notes += mention_note
    carried = [c for c in frame.columns if c not in (*PAIR_COLUMNS, *INTERNAL) and not str(c).startswith("stance_p_")]
    for column in by:
        check_group_column(frame, column, carried)
    if date_column is not None and date_column not in carried:
        raise SummaryError(f"--date-column {date_column!r}: no such column; available: {carried}")
    labels = [c[len("stance_p_") :] for c in frame.columns if c.startswith("stance_p_")]

    # Everything is computed in memory first: nothing is written unless all of it succeeded.
    files: list[OutputFile] = []
    sections: list[str] = []
    overall = aggregate(frame, [])
    files.append(OutputFile("by_actor", "summary_by_actor.csv", overall))
    sections.append(html_table("By actor", overall))

    for column in by:
        table = aggregate(frame, [column])
        largest = int(table["sentences"].max())
        table = table[table["sentences"] >= min_sentences]
        files.append(OutputFile(f"by_{column}", f"summary_by_{column}.csv", table))
        if table.empty:
            notes.append(
                f"--by {column}: no ({column}, actor) group has {min_sentences} or more sentences (the largest has "
                f"{largest}); summary_by_{column}.csv is empty and there is no chart (lower --min-sentences)"
            )
            sections.append(html_table(f"By {column}", table))
            continue
        png = chart_distribution(table, column, labels)
        files.append(OutputFile(f"chart_{column}", f"stance_by_{column}.png", png))
        sections.append(html_image(f"Stance distribution by {column}", png) + html_table(f"By {column}", table))

    column = date_column or "date"
    if column not in frame.columns:
        notes.append("no 'date' column, so no net stance over time (--date-column names another column)")
    elif "net_stance" not in overall:
        notes.append(f"the stance labels {labels} have no favor and against, so no net stance over time")
    else:
        dates, date_notes = document_dates(frame, column, date_order)
        notes += date_notes
        if dates.notna().any():
            timed = frame.assign(**{period: dates.dt.to_period(PERIODS[period]).astype("string")})
            table = aggregate(timed[dates.notna()], [period])
            files.append(OutputFile("over_time", f"summary_by_{period}.csv", table))
            png = chart_over_time(table, period, PERIODS[period])
            files.append(OutputFile("chart_over_time", "net_stance_over_time.png", png))
            sections.append(html_image(f"Net stance per {period}", png) + html_table(f"By {period}", table))

    for note in notes:
        report(note)
    files.append(OutputFile("html", "summary.html", html_page(input_path, notes, sections).encode("utf-8")))
    return write_outputs(out, files)


def _check_options(out: Path, by: Sequence[str], period: str, min_sentences: int, date_order: str) -> None:
    if out.exists() and not out.is_dir():
        raise SummaryError(f"--output {out}: is a file; give a folder for the tables, charts and summary.html")
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                raise SummaryError(f"--output {out}: {parent} is a file, not a folder")
            if not os.access(parent if not out.exists() else out, os.W_OK):
                raise SummaryError(f"--output {out}: cannot write there (permission denied)")
            break
    if period not in PERIODS:
        raise SummaryError(f"--period {period!r}: use one of {', '.join(PERIODS)}")
    if date_order not in DATE_ORDERS:
        raise SummaryError(f"--date-order {date_order!r}: use one of {', '.join(DATE_ORDERS)}")
    if min_sentences < 1:
        raise SummaryError(f"--min-sentences {min_sentences}: must be at least 1")
    for column in by:
        if column in TABLE_COLUMNS or column.startswith(TABLE_PREFIXES):
            raise SummaryError(
                f"--by {column}: {column!r} is the name of a column the summary tables already have (every table "
                f"is per actor, with sentences, documents, n_*, share_*, mean_p_* and net_stance); to group by a "
                f"carried field of that name, rename it in the input (e.g. to '{column}_field') and pass that"
            )
    if len(set(by)) != len(by):
        raise SummaryError(f"--by {list(by)}: a column is named twice")
