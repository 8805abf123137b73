"""`stance summarize`: aggregate analyze output by actor and by carried columns (outlet, month, ...), with charts.

Reads JSONL (one document a line) or the flattened CSV/Parquet written by `stance analyze`. Writes CSV tables,
PNG charts and one self-contained HTML page (charts embedded; no network needed to view it). Everything is read,
checked and computed before the first file is written, so bad input leaves the output folder as it was.

Only (sentence, actor) pairs where the sentence mentions the actor are counted unless ``include_unmentioned``: the
extra pairs of ``stance analyze --score-all-actors`` would otherwise give every actor a net stance in every sentence.
"""

from __future__ import annotations

import base64
import email.utils
import html
import json
import math
import os
import re
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

PERIODS = {"month": "M", "year": "Y", "week": "W", "day": "D", "quarter": "Q"}
DATE_ORDERS = ("auto", "mdy", "dmy")
# Dates with month names, tried after ISO 8601 and the numeric forms (see parse_dates).
NAMED_DATE_FORMATS = (
    "%B %d, %Y", "%b %d, %Y", "%B %d %Y", "%b %d %Y", "%b. %d, %Y", "%d %B %Y", "%d %b %Y", "%d %B, %Y",
    "%d-%b-%Y", "%A, %B %d, %Y", "%a, %b %d, %Y", "%a, %d %b %Y", "%A, %d %B %Y",
)  # fmt: skip
_NUMERIC_DATE = re.compile(
    r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(?:[ T,]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[AaPp]\.?[Mm]\.?)?)?"
)
_YEAR_FIRST_DATE = re.compile(r"(\d{4})[/.](\d{1,2})[/.](\d{1,2})")
_YEAR_MONTH = re.compile(r"(\d{4})-(\d{1,2})")
_MISSING = object()

# Columns every pair row has (from the sentence and actor, not the document) and internal bookkeeping columns.
PAIR_COLUMNS = ("sentence_index", "actor", "mentioned", "stance")
WHERE = "__where__"  # "file:line" of the document (JSONL) or "file row N" (CSV/Parquet), for messages
DOC = "__doc__"  # one value per document, for the documents count
INTERNAL = (WHERE, DOC)
# Names the aggregated tables use for their own columns: a --by column of that name would collide with them.
TABLE_COLUMNS = ("actor", "sentences", "documents", "net_stance")
TABLE_PREFIXES = ("n_", "share_", "mean_p_", "stance_p_")


class SummaryError(ValueError):
    """Analyze output that cannot be summarized (wrong shape, unknown column, bad option)."""


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def load_pairs(path: str | os.PathLike) -> pd.DataFrame:
    """One row per scored (document, sentence, actor) with stance label and probabilities, plus carried columns.

    Also ``mentioned`` (bool) and two internal columns: where each row comes from (for messages) and a document key.
    """
    frame, _ = _load(Path(path))
    return frame


def _load(path: Path) -> tuple[pd.DataFrame, list[str]]:
    suffix = path.suffix.lower()
    if suffix not in (".jsonl", ".csv", ".parquet"):
        raise SummaryError(
            f"{path}: unsupported input {suffix!r}; use the .jsonl, .csv or .parquet from stance analyze"
        )
    if not path.exists():
        raise SummaryError(f"--input {path}: no such file")
    if not path.is_file():
        raise SummaryError(f"--input {path}: not a file")
    return _load_jsonl(path) if suffix == ".jsonl" else _load_flat(path, suffix)


def _load_jsonl(path: Path) -> tuple[pd.DataFrame, list[str]]:
    rows: list[dict[str, Any]] = []
    shadowed: set[str] = set()
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            where = f"{path}:{number}"
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise SummaryError(f"{where}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
            if number == 1:
                line = line.removeprefix("\ufeff")
            if not line.strip():
                continue
            try:
                doc = json.loads(line)
            except json.JSONDecodeError as exc:
                raise SummaryError(f"{where}: invalid JSON ({exc.msg}, column {exc.colno})") from exc
            if not isinstance(doc, dict):
                raise SummaryError(f"{where}: expected an analyzed document (a JSON object), got {_json_kind(doc)}")
            if "sentences" not in doc:
                raise SummaryError(f"{where}: not `stance analyze` output (no 'sentences')")
            sentences = doc["sentences"]
            if not isinstance(sentences, list):
                raise SummaryError(
                    f"{where}: field 'sentences' must be a list of sentences, got {_json_kind(sentences)}"
                )
            carried = {k: v for k, v in doc.items() if k not in ("sentences", "actors")}
            shadowed |= {k for k in carried if k in PAIR_COLUMNS or k.startswith("stance_p_") or k in INTERNAL}
            for i, s in enumerate(sentences):
                rows.extend(_sentence_rows(s, f"sentences[{i}]", i, where, number, carried))
    notes = []
    if shadowed:
        notes.append(
            f"document field(s) {sorted(shadowed)} have the names of per-pair columns and are ignored; "
            "rename them in the input to use them"
        )
    return pd.DataFrame(rows), notes


def _sentence_rows(
    s: Any, field: str, position: int, where: str, number: int, carried: dict[str, Any]
) -> list[dict[str, Any]]:
    if not isinstance(s, dict):
        raise SummaryError(f"{where}: {field}: expected a sentence (a JSON object), got {_json_kind(s)}")
    actors = s.get("actors") or []
    if not isinstance(actors, list):
        raise SummaryError(f"{where}: {field}.actors: expected a list, got {_json_kind(actors)}")
    index = s.get("index", position)
    rows = []
    for j, a in enumerate(actors):
        afield = f"{field}.actors[{j}]"
        if not isinstance(a, dict):
            raise SummaryError(f"{where}: {afield}: expected an actor (a JSON object), got {_json_kind(a)}")
        stance = a.get("stance")
        if not stance:
            continue  # an actor that was found but not scored
        if not isinstance(stance, dict):
            raise SummaryError(f"{where}: {afield}.stance: expected an object, got {_json_kind(stance)}")
        actor = a.get("actor")
        if not isinstance(actor, str) or not actor:
            raise SummaryError(f"{where}: {afield}.actor: expected the actor's name, got {_short(actor)}")
        label = stance.get("label")
        if not isinstance(label, str):
            raise SummaryError(f"{where}: {afield}.stance.label: expected a label, got {_short(label)}")
        probabilities = stance.get("probabilities")
        if not isinstance(probabilities, dict) or not probabilities:
            got = "missing" if probabilities is None else f"got {_short(probabilities)}"
            raise SummaryError(
                f"{where}: {afield}.stance.probabilities: {got}; expected an object of label -> probability "
                "as stance analyze writes"
            )
        for key, value in probabilities.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise SummaryError(
                    f"{where}: {afield}.stance.probabilities.{key}: expected a number, got {_short(value)}"
                )
        mentioned = a.get("mentioned", True)
        if not isinstance(mentioned, bool):
            raise SummaryError(f"{where}: {afield}.mentioned: expected true or false, got {_short(mentioned)}")
        rows.append(
            {**carried, "sentence_index": index, "actor": actor, "mentioned": mentioned, "stance": label,
             **{f"stance_p_{k}": float(v) for k, v in probabilities.items()}, WHERE: where, DOC: number}
        )  # fmt: skip
    return rows


def _load_flat(path: Path, suffix: str) -> tuple[pd.DataFrame, list[str]]:
    kind = "CSV" if suffix == ".csv" else "Parquet"
    try:
        frame = pd.read_csv(path, low_memory=False) if suffix == ".csv" else pd.read_parquet(path)
    except pd.errors.EmptyDataError as exc:
        raise SummaryError(
            f"{path}: empty file (not even a header row); expected the CSV stance analyze writes"
        ) from exc
    except Exception as exc:  # pandas and pyarrow raise many kinds for unreadable files
        raise SummaryError(f"{path}: cannot read {kind} ({type(exc).__name__}: {exc})") from exc
    if "actor" not in frame.columns or "stance" not in frame.columns:
        raise SummaryError(
            f"{path}: not flattened `stance analyze` output (needs 'actor' and 'stance' columns; has "
            f"{list(frame.columns)[:12]})"
        )
    frame = frame.assign(**{WHERE: [f"{path} row {i + 1}" for i in range(len(frame))]})
    frame = frame[frame["actor"].notna() & frame["stance"].notna()].reset_index(drop=True)
    probability_columns = [c for c in frame.columns if str(c).startswith("stance_p_")]
    if not probability_columns:
        raise SummaryError(f"{path}: no stance probability columns (stance_p_*); expected stance analyze output")
    for column in probability_columns:
        numbers = pd.to_numeric(frame[column], errors="coerce")
        bad = numbers.isna() & frame[column].notna()
        if bad.any():
            first = bad.idxmax()
            raise SummaryError(
                f"{frame.at[first, WHERE]}: column {column}: expected a number, got {_short(frame.at[first, column])}"
            )
        frame[column] = numbers.astype("float64")
    unscored = frame[probability_columns].isna().all(axis=1)
    if unscored.any():
        first = unscored.idxmax()
        raise SummaryError(f"{frame.at[first, WHERE]}: stance {frame.at[first, 'stance']!r} has no stance_p_* values")
    if "mentioned" in frame.columns:
        frame["mentioned"] = [_flag(v, where) for v, where in zip(frame["mentioned"], frame[WHERE], strict=True)]
    else:
        frame["mentioned"] = True
    documents = frame["id"] if "id" in frame.columns else frame[WHERE]
    frame[DOC] = documents.astype("string").fillna(frame[WHERE])
    return frame, []


def _flag(value: Any, where: str) -> bool:
    if _is_missing(value):
        return True
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("true", "1", "yes"):
            return True
        if text in ("false", "0", "no"):
            return False
    elif (isinstance(value, (bool, int, float)) or hasattr(value, "dtype")) and value in (0, 1):
        return bool(value)
    raise SummaryError(f"{where}: column mentioned: expected True or False, got {_short(value)}")


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(isinstance(value, float) and math.isnan(value)) or (
            not isinstance(value, (str, bytes, list, dict, tuple)) and bool(pd.isna(value))
        )
    except (TypeError, ValueError):
        return False


def parse_dates(values: pd.Series, order: str = "auto") -> pd.Series:
    """Dates as naive timestamps (local time as written); values that are not dates become NaT.

    Reads ISO 8601 (``2017-04-07``, ``2017-04-07 10:00:00``, ``2017-04-07T10:00:00Z``, ``...+02:00``,
    ``20170407``), ``2017-04`` (first of the month), ``2017/04/07``, month names (``April 7, 2017``,
    ``7 Apr 2017``, ``Fri, 07 Apr 2017 09:14:00 GMT``), timestamps, and numeric day/month/year:
    ``7.4.2017`` (dots) is always day first; with slashes or dashes ``order`` decides: ``mdy`` (``4/7/17`` is
    7 April), ``dmy`` (``7/4/17`` is 7 April), or ``auto``: day first when some value of the column is only valid
    day first (``25/04/2017``) and none only month first, otherwise month first. A time zone is dropped, not
    converted: the date counts as it was written.
    """
    parsed, _ = _parse_dates(values, order)
    return parsed


def _numeric_date_order(values: pd.Series) -> tuple[str, dict[str, Any]]:
    """The order ``auto`` picks for a column, and evidence for it: values only valid one way, and ambiguous ones."""
    evidence: dict[str, Any] = {"dmy": None, "mdy": None, "ambiguous": 0, "ambiguous_example": None}
    texts = {v for v in values if isinstance(v, str)}
    for value in sorted(texts):
        match = _NUMERIC_DATE.fullmatch(value.strip().strip("\"'").strip())
        if not match or match.group(2) == ".":
            continue
        first, second = int(match.group(1)), int(match.group(3))
        if first > 12 >= second:
            evidence["dmy"] = evidence["dmy"] or value
        elif second > 12 >= first:
            evidence["mdy"] = evidence["mdy"] or value
        elif first != second and first <= 12 and second <= 12:
            evidence["ambiguous"] += 1
            evidence["ambiguous_example"] = evidence["ambiguous_example"] or value
    return ("dmy" if evidence["dmy"] and not evidence["mdy"] else "mdy"), evidence


def _parse_dates(values: pd.Series, order: str) -> tuple[pd.Series, dict[str, Any]]:
    if order not in DATE_ORDERS:
        raise SummaryError(f"--date-order {order!r}: use one of {', '.join(DATE_ORDERS)}")
    if pd.api.types.is_datetime64_any_dtype(values):
        stamps = values.dt.tz_localize(None) if getattr(values.dt, "tz", None) is not None else values
        return stamps.astype("datetime64[us]"), {"order": order, "missing": stamps.isna()}
    used, evidence = _numeric_date_order(values) if order == "auto" else (order, {})
    cache: dict[Any, Any] = {}
    parsed: list[Any] = []
    missing: list[bool] = []
    for value in values:
        try:
            key = (type(value), value)
            result = cache[key] if key in cache else cache.setdefault(key, _parse_date(value, used))
        except TypeError:  # unhashable (a list, an object): not a date
            result = None
        missing.append(result is _MISSING)
        parsed.append(None if result is _MISSING else result)
    series = pd.Series(parsed, index=values.index, dtype="datetime64[us]")
    return series, {"order": used, "missing": pd.Series(missing, index=values.index), **evidence}


def _parse_date(value: Any, order: str) -> Any:
    """A naive datetime, None (not a date) or _MISSING (no value)."""
    if _is_missing(value):
        return _MISSING
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    if isinstance(value, float):
        if not value.is_integer():
            return None
        value = int(value)
    text = str(value).strip().strip("\"'").strip()
    if not text:
        return _MISSING
    if match := _NUMERIC_DATE.fullmatch(text):
        first, separator, second, year = match.groups()
        day, month = (first, second) if separator == "." or order == "dmy" else (second, first)
        return _date(_year(year), int(month), int(day))
    if match := _YEAR_FIRST_DATE.fullmatch(text):
        return _date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    if match := _YEAR_MONTH.fullmatch(text):
        return _date(int(match.group(1)), int(match.group(2)), 1)
    if re.fullmatch(r"\d{4}-\d\d-\d\d.*|\d{8}", text):
        try:
            return datetime.fromisoformat(text).replace(tzinfo=None)
        except ValueError:
            return None
    for fmt in NAMED_DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            pass
    if re.search(r"[A-Za-z]{3}", text) and re.search(r"\d{4}", text):
        try:
            return email.utils.parsedate_to_datetime(text).replace(tzinfo=None)
        except (TypeError, ValueError, IndexError):
            return None
    return None


def _year(text: str) -> int:
    year = int(text)
    return year if len(text) == 4 else year + (2000 if year < 69 else 1900)


def _date(year: int, month: int, day: int) -> datetime | None:
    try:
        return datetime(year, month, day)
    except ValueError:
        return None


def aggregate(frame: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Per group and actor: documents, sentences, counts and shares per stance label, mean probabilities, net stance."""
    labels = [c[len("stance_p_") :] for c in frame.columns if c.startswith("stance_p_")]
    keys = [*by, "actor"]
    document = DOC if DOC in frame else "id" if "id" in frame else None
    frame = frame.assign(**{f"__is_{label}": frame["stance"] == label for label in labels})
    if "favor" in labels and "against" in labels:
        frame = frame.assign(__net=frame["stance_p_favor"] - frame["stance_p_against"])
    grouped = frame.groupby(keys, dropna=False, sort=True)
    table = grouped.agg(sentences=("actor", "size"))
    table["documents"] = grouped[document].nunique() if document else table["sentences"]
    for label in labels:
        table[f"n_{label}"] = grouped[f"__is_{label}"].sum().astype("int64")
    for label in labels:
        table[f"share_{label}"] = table[f"n_{label}"] / table["sentences"]
    for label in labels:
        table[f"mean_p_{label}"] = grouped[f"stance_p_{label}"].mean()
    if "__net" in frame:
        table["net_stance"] = grouped["__net"].mean()
    return table.reset_index()


def _png(fig) -> bytes:
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return buffer.getvalue()


def chart_distribution(table: pd.DataFrame, column: str, labels: Sequence[str]):
    """One panel per actor: stacked shares of each stance label per value of ``column`` (e.g. outlet)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    actors = list(dict.fromkeys(table["actor"]))
    colors = {"against": "#c0392b", "neutral": "#bdc3c7", "favor": "#27ae60"}
    fig, axes = plt.subplots(len(actors), 1, figsize=(10, 2.6 * len(actors) + 0.6), squeeze=False)
    for ax, actor in zip(axes[:, 0], actors, strict=True):
        sub = table[table["actor"] == actor].sort_values(column)
        left = [0.0] * len(sub)
        names = [str(v) for v in sub[column]]
        for label in labels:
            share = sub[f"share_{label}"].tolist()
            ax.barh(names, share, left=left, color=colors.get(label), label=label)
            left = [a + b for a, b in zip(left, share, strict=True)]
        for y, n in enumerate(sub["sentences"]):
            ax.text(1.01, y, f"n={n}", va="center", fontsize=8)
        ax.set_xlim(0, 1)
        ax.set_title(f"Stance toward {actor} by {column}", fontsize=10, loc="left")
        ax.invert_yaxis()
    axes[0, 0].legend(ncol=len(labels), loc="lower right", bbox_to_anchor=(1, 1.12), fontsize=8)
    fig.tight_layout()
    data = _png(fig)
    plt.close(fig)
    return data


def chart_over_time(table: pd.DataFrame, period: str):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 4))
    for actor, sub in table.groupby("actor"):
        sub = sub.sort_values(period)
        ax.plot(sub[period].astype(str), sub["net_stance"], marker="o", label=str(actor))
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_ylim(-1, 1)
    ax.set_ylabel("net stance (mean P(favor) - P(against))")
    ax.set_title(f"Net stance per {period}")
    ax.legend(fontsize=8)
    ticks = ax.get_xticks()
    if len(ticks) > 24:
        ax.set_xticks(ticks[:: len(ticks) // 24 + 1])
    plt.setp(ax.get_xticklabels(), rotation=45, ha="right", fontsize=8)
    fig.tight_layout()
    data = _png(fig)
    plt.close(fig)
    return data


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
    frame, notes = _load(Path(input_path))
    if frame.empty:
        raise SummaryError(f"{input_path}: no scored (sentence, actor) pairs to summarize")
    frame, mention_note = _mentioned_only(frame, input_path, include_unmentioned)
    notes += mention_note
    carried = [c for c in frame.columns if c not in (*PAIR_COLUMNS, *INTERNAL) and not str(c).startswith("stance_p_")]
    for column in by:
        _check_group_column(frame, column, carried)
    if date_column is not None and date_column not in carried:
        raise SummaryError(f"--date-column {date_column!r}: no such column; available: {carried}")
    labels = [c[len("stance_p_") :] for c in frame.columns if c.startswith("stance_p_")]

    # Everything is computed in memory first: nothing is written unless all of it succeeded.
    files: list[tuple[str, str, pd.DataFrame | bytes]] = []
    sections: list[str] = []
    overall = aggregate(frame, [])
    files.append(("by_actor", "summary_by_actor.csv", overall))
    sections.append(_html_table("By actor", overall))

    for column in by:
        table = aggregate(frame, [column])
        largest = int(table["sentences"].max())
        table = table[table["sentences"] >= min_sentences]
        files.append((f"by_{column}", f"summary_by_{column}.csv", table))
        if table.empty:
            notes.append(
                f"--by {column}: no ({column}, actor) group has {min_sentences} or more sentences (the largest has "
                f"{largest}); summary_by_{column}.csv is empty and there is no chart (lower --min-sentences)"
            )
            sections.append(_html_table(f"By {column}", table))
            continue
        png = chart_distribution(table, column, labels)
        files.append((f"chart_{column}", f"stance_by_{column}.png", png))
        sections.append(_html_image(f"Stance distribution by {column}", png) + _html_table(f"By {column}", table))

    column = date_column or "date"
    if column not in frame.columns:
        notes.append("no 'date' column, so no net stance over time (--date-column names another column)")
    elif "net_stance" not in overall:
        notes.append(f"the stance labels {labels} have no favor and against, so no net stance over time")
    else:
        dates, date_notes = _dates(frame, column, date_order)
        notes += date_notes
        if dates.notna().any():
            timed = frame.assign(**{period: dates.dt.to_period(PERIODS[period]).astype("string")})
            table = aggregate(timed[dates.notna()], [period])
            files.append(("over_time", f"summary_by_{period}.csv", table))
            png = chart_over_time(table, period)
            files.append(("chart_over_time", "net_stance_over_time.png", png))
            sections.append(_html_image(f"Net stance per {period}", png) + _html_table(f"By {period}", table))

    for note in notes:
        report(note)
    notes_html = "<h2>Notes</h2><ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in notes) + "</ul>" if notes else ""
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>Stance summary</title><style>"
        "body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
        "table{border-collapse:collapse;font-size:12px;margin-bottom:2em}td,th{border:1px solid #ccc;padding:2px 6px}"
        "img{max-width:100%}</style></head><body>"
        f"<h1>Stance summary</h1><p>Source: <code>{html.escape(str(input_path))}</code>. Net stance is the mean of "
        "P(favor) &minus; P(against) over the sentences scored for an actor, in [&minus;1, 1].</p>"
        + notes_html
        + "".join(sections)
        + "</body></html>"
    )
    files.append(("html", "summary.html", page.encode("utf-8")))
    return _write(out, files)


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


def _mentioned_only(frame: pd.DataFrame, source: Any, include: bool) -> tuple[pd.DataFrame, list[str]]:
    unmentioned = ~frame["mentioned"].astype(bool)
    count = int(unmentioned.sum())
    if not count:
        return frame, []
    if include:
        return frame, [
            f"{count} (sentence, actor) pairs for actors the sentence does not mention (--score-all-actors) are "
            "included (--include-unmentioned)"
        ]
    kept = frame[~unmentioned].reset_index(drop=True)
    if kept.empty:
        raise SummaryError(
            f"{source}: all {count} scored pairs are for actors the sentence does not mention (from stance analyze "
            "--score-all-actors); pass --include-unmentioned to summarize them"
        )
    return kept, [
        f"{count} (sentence, actor) pairs for actors the sentence does not mention (--score-all-actors) are left "
        f"out; {len(kept)} pairs counted (--include-unmentioned counts them too)"
    ]


def _check_group_column(frame: pd.DataFrame, column: str, carried: Sequence[str]) -> None:
    if column not in carried:
        raise SummaryError(f"--by {column}: no such column; available: {list(carried)}")
    values = frame[column]
    if not pd.api.types.is_object_dtype(values):
        return
    kinds: dict[str, tuple[str, Any]] = {}
    for value, where in zip(values, frame[WHERE], strict=True):
        if _is_missing(value):
            continue
        try:
            hash(value)
        except TypeError:
            raise SummaryError(
                f"{where}: field {column!r} is {_json_kind(value)} ({_short(value)}); --by {column} needs one "
                "value per document (text or a number)"
            ) from None
        kind = _json_kind(value) if isinstance(value, (bool, int, float, str)) else type(value).__name__
        kinds.setdefault(kind, (where, value))
    if len(kinds) > 1:
        found = "; ".join(f"{kind} {_short(value)} at {where}" for kind, (where, value) in kinds.items())
        raise SummaryError(
            f"--by {column}: field {column!r} mixes kinds of values ({found}); make it one kind (e.g. all text) "
            "to group by it"
        )


def _dates(frame: pd.DataFrame, column: str, order: str) -> tuple[pd.Series, list[str]]:
    dates, info = _parse_dates(frame[column], order)
    notes = []
    documents = frame[DOC]
    total = documents.nunique()
    missing = info["missing"].to_numpy()
    failed = dates.isna().to_numpy() & ~missing
    if failed.any():
        bad = frame.loc[failed, [DOC, WHERE, column]].drop_duplicates(DOC)
        examples = ", ".join(
            f"{_short(v, 40)} ({where})" for where, v in zip(bad[WHERE][:3], bad[column][:3], strict=True)
        )
        notes.append(
            f"{len(bad)} of {total} documents have a {column!r} that did not parse as a date, e.g. {examples}; "
            "they are left out of the table over time (dates read: ISO 8601, month names, numeric d/m/y)"
        )
    if missing.any():
        notes.append(f"{documents[missing].nunique()} of {total} documents have no {column!r}")
    if info.get("ambiguous") and order == "auto" and not info.get("dmy") and not info.get("mdy"):
        notes.append(
            f"{info['ambiguous']} distinct value(s) of {column!r} such as {info['ambiguous_example']!r} could be day "
            "or month first, and none is valid only one way: read as month/day/year (the default; --date-order dmy "
            "reads them day first)"
        )
    if info.get("dmy") and info.get("mdy") and order == "auto":
        notes.append(
            f"{column!r} mixes month-first ({info['mdy']!r}) and day-first ({info['dmy']!r}) dates; read month "
            "first, so the day-first ones did not parse; --date-order decides"
        )
    if not dates.notna().any():
        notes.append(f"no value of {column!r} is a date, so there is no net stance over time")
    return dates, notes


def _write(out: Path, files: list[tuple[str, str, pd.DataFrame | bytes]]) -> dict[str, Path]:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SummaryError(f"--output {out}: cannot create the folder ({exc.strerror or exc})") from exc
    written: dict[str, Path] = {}
    for key, name, content in files:
        path = out / name
        if isinstance(content, pd.DataFrame):
            content.to_csv(path, index=False)
        else:
            path.write_bytes(content)
        written[key] = path
    return written


def _html_table(title: str, table: pd.DataFrame) -> str:
    return f"<h2>{html.escape(title)}</h2>" + table.to_html(index=False, float_format=lambda v: f"{v:.3f}", border=0)


def _html_image(title: str, png: bytes) -> str:
    encoded = base64.b64encode(png).decode("ascii")
    return f"<h2>{html.escape(title)}</h2><img alt='{html.escape(title)}' src='data:image/png;base64,{encoded}'>"
