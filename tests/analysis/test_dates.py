from __future__ import annotations

import pandas as pd
import pytest

from analysis.dates import parse_dates


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2017-04-07", "2017-04-07 00:00"),
        ("2017-04-07 10:00:00", "2017-04-07 10:00"),
        ("2017-04-07T10:00:00Z", "2017-04-07 10:00"),
        ("2017-04-07T23:30:00+02:00", "2017-04-07 23:30"),  # the date as written, not converted to UTC
        ("20170407", "2017-04-07 00:00"),
        ("2017-04", "2017-04-01 00:00"),
        ("2017/04/07", "2017-04-07 00:00"),
        ("April 7, 2017", "2017-04-07 00:00"),
        ("7 Apr 2017", "2017-04-07 00:00"),
        ("Fri, 07 Apr 2017 09:14:00 GMT", "2017-04-07 09:14"),
        ("7.4.2017", "2017-04-07 00:00"),
        ("25/04/2017", "2017-04-25 00:00"),
        ("4/7/17", "2017-04-07 00:00"),
        ("not a date", None),
    ],
)
def test_parse_dates_formats(value, expected):
    (parsed,) = parse_dates(pd.Series([value])).tolist()
    assert (None if pd.isna(parsed) else parsed.strftime("%Y-%m-%d %H:%M")) == expected


def test_ambiguous_numeric_dates_follow_the_column_or_date_order():
    def months(values, order="auto"):
        return [d.strftime("%Y-%m-%d") for d in parse_dates(pd.Series(values), order)]

    assert months(["03/04/2017", "4/16/2017"]) == ["2017-03-04", "2017-04-16"]  # month first: the default
    assert months(["03/04/2017", "25/04/2017"]) == ["2017-04-03", "2017-04-25"]  # only valid day first: day first
    assert months(["03/04/2017"], "dmy") == ["2017-04-03"]
