"""`stance summarize`: aggregate analyze output by actor and by carried columns (outlet, month, ...), with charts.

Reads JSONL (one document a line) or the flattened CSV/Parquet written by `stance analyze`. Writes CSV tables,
PNG charts and one self-contained HTML page (charts embedded; no network needed to view it).
"""

from __future__ import annotations

import base64
import html
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

DATE_FORMATS = ("%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%m/%d/%y", "%m/%d/%Y", "%d.%m.%Y", "%Y/%m/%d")


class SummaryError(ValueError):
    """Analyze output that cannot be summarized (wrong shape, unknown column)."""


def load_pairs(path: str | os.PathLike) -> pd.DataFrame:
    """One row per scored (document, sentence, actor) with stance label and probabilities, plus carried columns."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        rows: list[dict[str, Any]] = []
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    doc = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise SummaryError(f"{path}:{number}: invalid JSON ({exc.msg})") from exc
                if "sentences" not in doc:
                    raise SummaryError(f"{path}:{number}: not `stance analyze` output (no 'sentences')")
                carried = {k: v for k, v in doc.items() if k not in ("sentences", "actors")}
                for s in doc["sentences"]:
                    for a in s.get("actors", []):
                        if not a.get("stance"):
                            continue
                        probs = {f"stance_p_{k}": v for k, v in a["stance"]["probabilities"].items()}
                        rows.append(
                            {**carried, "sentence_index": s["index"], "actor": a["actor"],
                             "mentioned": a["mentioned"], "stance": a["stance"]["label"], **probs}
                        )  # fmt: skip
        return pd.DataFrame(rows)
    if suffix in (".csv", ".parquet"):
        frame = pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
        if "actor" not in frame.columns or "stance" not in frame.columns:
            raise SummaryError(f"{path}: not flattened `stance analyze` output (needs 'actor' and 'stance' columns)")
        return frame[frame["actor"].notna() & frame["stance"].notna()].reset_index(drop=True)
    raise SummaryError(f"{path}: unsupported input {suffix!r}; use the .jsonl, .csv or .parquet from stance analyze")


def parse_dates(values: pd.Series) -> pd.Series:
    """Dates in the common formats news corpora use (ISO, M/D/YY, ...); unparseable values become NaT."""
    text = values.astype("string")
    best = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    for fmt in DATE_FORMATS:
        parsed = pd.to_datetime(text, format=fmt, errors="coerce")
        best = best.fillna(parsed)
    return best


def aggregate(frame: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Per group and actor: documents, sentences, counts and shares per stance label, mean probabilities, net stance."""
    labels = [c[len("stance_p_") :] for c in frame.columns if c.startswith("stance_p_")]
    keys = [*by, "actor"]
    grouped = frame.groupby(keys, dropna=False)
    table = grouped.agg(
        sentences=("actor", "size"), documents=("id", "nunique") if "id" in frame else ("actor", "size")
    )
    for label in labels:
        table[f"n_{label}"] = grouped["stance"].apply(lambda s, lab=label: int((s == lab).sum()))
    for label in labels:
        table[f"share_{label}"] = table[f"n_{label}"] / table["sentences"]
    for label in labels:
        table[f"mean_p_{label}"] = grouped[f"stance_p_{label}"].mean()
    if "favor" in labels and "against" in labels:
        table["net_stance"] = grouped.apply(
            lambda g: float((g["stance_p_favor"] - g["stance_p_against"]).mean()), include_groups=False
        )
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
    date_column: str | None = "date",
    period: str = "month",
    min_sentences: int = 1,
) -> dict[str, Path]:
    """Write summary tables, charts and summary.html into ``output_dir``; returns what was written."""
    frame = load_pairs(input_path)
    if frame.empty:
        raise SummaryError(f"{input_path}: no scored (sentence, actor) pairs to summarize")
    missing = [c for c in by if c not in frame.columns]
    if missing:
        carried = [c for c in frame.columns if c not in ("actor", "stance", "mentioned", "sentence_index")]
        raise SummaryError(f"--by {missing}: no such column; available: {carried}")
    labels = [c[len("stance_p_") :] for c in frame.columns if c.startswith("stance_p_")]
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    sections: list[str] = []

    overall = aggregate(frame, [])
    written["by_actor"] = out / "summary_by_actor.csv"
    overall.to_csv(written["by_actor"], index=False)
    sections.append(_html_table("By actor", overall))

    for column in by:
        table = aggregate(frame, [column])
        table = table[table["sentences"] >= min_sentences]
        written[f"by_{column}"] = out / f"summary_by_{column}.csv"
        table.to_csv(written[f"by_{column}"], index=False)
        png = chart_distribution(table, column, labels)
        written[f"chart_{column}"] = out / f"stance_by_{column}.png"
        written[f"chart_{column}"].write_bytes(png)
        sections.append(_html_image(f"Stance distribution by {column}", png) + _html_table(f"By {column}", table))

    if date_column and date_column in frame.columns and "net_stance" in overall:
        dates = parse_dates(frame[date_column])
        if dates.notna().any():
            freq = {"month": "M", "year": "Y", "week": "W", "day": "D", "quarter": "Q"}[period]
            frame = frame.assign(**{period: dates.dt.to_period(freq).astype("string")})
            frame = frame[frame[period].notna()]
            table = aggregate(frame, [period])
            written["over_time"] = out / f"summary_by_{period}.csv"
            table.to_csv(written["over_time"], index=False)
            png = chart_over_time(table, period)
            written["chart_over_time"] = out / "net_stance_over_time.png"
            written["chart_over_time"].write_bytes(png)
            sections.append(_html_image(f"Net stance per {period}", png) + _html_table(f"By {period}", table))

    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>Stance summary</title><style>"
        "body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
        "table{border-collapse:collapse;font-size:12px;margin-bottom:2em}td,th{border:1px solid #ccc;padding:2px 6px}"
        "img{max-width:100%}</style></head><body>"
        f"<h1>Stance summary</h1><p>Source: <code>{html.escape(str(input_path))}</code>. Net stance is the mean of "
        "P(favor) &minus; P(against) over the sentences scored for an actor, in [&minus;1, 1].</p>"
        + "".join(sections)
        + "</body></html>"
    )
    written["html"] = out / "summary.html"
    written["html"].write_text(page, encoding="utf-8")
    return written


def _html_table(title: str, table: pd.DataFrame) -> str:
    return f"<h2>{html.escape(title)}</h2>" + table.to_html(index=False, float_format=lambda v: f"{v:.3f}", border=0)


def _html_image(title: str, png: bytes) -> str:
    encoded = base64.b64encode(png).decode("ascii")
    return f"<h2>{html.escape(title)}</h2><img alt='{html.escape(title)}' src='data:image/png;base64,{encoded}'>"
