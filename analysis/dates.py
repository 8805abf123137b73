"""Reading a column of dates as written in news metadata (ISO 8601, month names, numeric day/month/year), and the
notes a summary gives on the documents whose date is missing or did not parse.
"""

from __future__ import annotations

import email.utils
import re
from datetime import date, datetime
from typing import Any

import pandas as pd

from analysis.analyzed import DOC, WHERE, SummaryError, is_missing, short_repr

# --period names and the pandas period codes that group dates by them.
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
    if is_missing(value):
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


def document_dates(frame: pd.DataFrame, column: str, order: str) -> tuple[pd.Series, list[str]]:
    """`parse_dates` of one column of pairs, with notes naming the documents whose date is missing or unread."""
    dates, info = _parse_dates(frame[column], order)
    notes = []
    documents = frame[DOC]
    total = documents.nunique()
    missing = info["missing"].to_numpy()
    failed = dates.isna().to_numpy() & ~missing
    if failed.any():
        bad = frame.loc[failed, [DOC, WHERE, column]].drop_duplicates(DOC)
        examples = ", ".join(
            f"{short_repr(v, 40)} ({where})" for where, v in zip(bad[WHERE][:3], bad[column][:3], strict=True)
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
