"""The summary's outputs: PNG charts (stance distribution per group, net stance over time), the self-contained HTML
page that embeds them, and writing the tables, charts and page into the output folder.
"""

from __future__ import annotations

import base64
import html
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.analyzed import SummaryError


@dataclass(frozen=True)
class OutputFile:
    """One file of the summary, computed before anything is written: a table (CSV) or bytes (a chart, the page)."""

    key: str  # the name `summarize` returns it under, e.g. "by_actor", "chart_over_time"
    name: str  # the file name in the output folder
    content: pd.DataFrame | bytes


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


def chart_over_time(table: pd.DataFrame, period: str, freq: str):
    """Net stance per ``period`` (a column of ``table`` holding period strings of pandas frequency ``freq``) on a real
    time axis: one line per actor with its 95 % interval as a band, broken where a period has no sentences (a gap
    is shown as a gap, not bridged), markers sized by the sentences behind each point; below, the sentences per
    period."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, counts) = plt.subplots(2, 1, figsize=(10, 5.5), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    largest = max(1, int(table["sentences"].max()))
    for actor, sub in series_per_actor(table, period, freq).items():
        when = sub.index
        line = ax.plot(when, sub["net_stance"], linewidth=1.2, label=actor)[0]
        if "net_stance_ci95_low" in sub:
            ax.fill_between(when, sub["net_stance_ci95_low"], sub["net_stance_ci95_high"], color=line.get_color(),
                            alpha=0.15, linewidth=0)  # fmt: skip
        sizes = 12 + 100 * (sub["sentences"].fillna(0) / largest) ** 0.5
        ax.scatter(when, sub["net_stance"], s=sizes, color=line.get_color(), zorder=3)
        counts.plot(when, sub["sentences"].fillna(0), drawstyle="steps-mid", color=line.get_color(), linewidth=1)
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_ylim(-1, 1)
    ax.set_ylabel("net stance\nmean P(favor) - P(against)")
    ax.set_title(f"Net stance per {period}: 95 % interval (clustered by document), marker area ~ sentences")
    ax.legend(fontsize=8)
    counts.set_ylabel("sentences")
    counts.set_ylim(bottom=0)
    fig.autofmt_xdate()
    fig.tight_layout()
    data = _png(fig)
    plt.close(fig)
    return data


def series_per_actor(table: pd.DataFrame, period: str, freq: str) -> dict[str, pd.DataFrame]:
    """Each actor's rows of ``table`` indexed by the start of their period, with a row of NaN for every period
    between the first and the last that has no sentences about the actor (plotted as a gap)."""
    periods = pd.PeriodIndex(table[period].astype(str), freq=freq)
    every = pd.period_range(periods.min(), periods.max(), freq=freq)
    out = {}
    for actor, sub in table.assign(__period=periods).groupby("actor"):
        sub = sub.set_index("__period").reindex(every)  # missing periods become gaps (NaN)
        out[str(actor)] = sub.set_axis(every.to_timestamp(how="start"))
    return out


def html_page(source: str | os.PathLike, notes: Sequence[str], sections: Sequence[str]) -> str:
    """summary.html: the notes, then each section (a chart and its table); charts embedded, so it needs no network."""
    notes_html = "<h2>Notes</h2><ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in notes) + "</ul>" if notes else ""
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Stance summary</title><style>"
        "body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
        "table{border-collapse:collapse;font-size:12px;margin-bottom:2em}td,th{border:1px solid #ccc;padding:2px 6px}"
        "img{max-width:100%}</style></head><body>"
        f"<h1>Stance summary</h1><p>Source: <code>{html.escape(str(source))}</code>. Net stance is the mean of "
        "P(favor) &minus; P(against) over the sentences scored for an actor, in [&minus;1, 1].</p>"
        + notes_html
        + "".join(sections)
        + "</body></html>"
    )


def html_table(title: str, table: pd.DataFrame) -> str:
    """A section of the page: ``title`` and ``table`` with probabilities to three decimals."""
    return f"<h2>{html.escape(title)}</h2>" + table.to_html(index=False, float_format=lambda v: f"{v:.3f}", border=0)


def html_image(title: str, png: bytes) -> str:
    """A section of the page: ``title`` and the chart embedded as a data URL."""
    encoded = base64.b64encode(png).decode("ascii")
    return f"<h2>{html.escape(title)}</h2><img alt='{html.escape(title)}' src='data:image/png;base64,{encoded}'>"


def write_outputs(out: Path, files: Sequence[OutputFile]) -> dict[str, Path]:
    """Write ``files`` into the folder ``out`` (created if needed); returns each file's path by its key."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SummaryError(f"--output {out}: cannot create the folder ({exc.strerror or exc})") from exc
    written: dict[str, Path] = {}
    for file in files:
        path = out / file.name
        if isinstance(file.content, pd.DataFrame):
            file.content.to_csv(path, index=False)
        else:
            path.write_bytes(file.content)
        written[file.key] = path
    return written
