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


def chart_over_time(table: pd.DataFrame, period: str):
    """One line per actor: net stance per ``period`` (a column of ``table``, e.g. month), in [-1, 1]."""
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
