"""Aggregating scored pairs per actor and group (outlet, month, ...): counts, shares, mean probabilities, net stance;
with the checks on which pairs and which group columns can be aggregated.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from analysis.analyzed import DOC, WHERE, SummaryError, is_missing, json_kind, short_repr

# Names the aggregated tables use for their own columns: a --by column of that name would collide with them.
TABLE_COLUMNS = ("actor", "sentences", "documents", "net_stance", "net_stance_ci95_low", "net_stance_ci95_high")
Z95 = 1.959964
TABLE_PREFIXES = ("n_", "share_", "mean_p_", "stance_p_")


def aggregate(frame: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Per group and actor: documents, sentences, counts and shares per stance label, mean probabilities, net stance
    with its 95 % interval (`net_stance_interval`)."""
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
        low, high = net_stance_interval(frame, keys, document, table["net_stance"])
        table["net_stance_ci95_low"], table["net_stance_ci95_high"] = low, high
    return table.reset_index()


def net_stance_interval(
    frame: pd.DataFrame, keys: list[str], document: str | None, mean: pd.Series
) -> tuple[pd.Series, pd.Series]:
    """95 % interval of each group's mean net stance, with the standard error clustered by document: sentences of
    one article are not independent, so the article, not the sentence, is the unit that varies (the cluster-robust
    variance of a mean, D/(D-1) x sum over documents of their summed residuals squared / n^2). A group of fewer than
    two documents has no interval (NaN)."""
    residual = frame["__net"] - frame.join(mean.rename("__mean"), on=keys)["__mean"]
    cluster = frame[document] if document else pd.Series(range(len(frame)), index=frame.index)
    sums = residual.groupby([*(frame[k] for k in keys), cluster], dropna=False).sum()
    by_group = sums.groupby(level=list(range(len(keys))), dropna=False)
    clusters, squares = by_group.size(), (sums**2).groupby(level=list(range(len(keys))), dropna=False).sum()
    n = frame.groupby(keys, dropna=False).size()
    variance = clusters / (clusters - 1) * squares / n**2
    half = Z95 * variance.where(clusters >= 2) ** 0.5
    half.index = mean.index
    return (mean - half).clip(lower=-1), (mean + half).clip(upper=1)


def mentioned_only(frame: pd.DataFrame, source: Any, include: bool) -> tuple[pd.DataFrame, list[str]]:
    """The pairs whose sentence mentions the actor (all of them if ``include``), and a note on those left out."""
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


def check_group_column(frame: pd.DataFrame, column: str, carried: Sequence[str]) -> None:
    """Raise unless ``column`` is a carried column with one kind of hashable value (text, numbers) per document."""
    if column not in carried:
        raise SummaryError(f"--by {column}: no such column; available: {list(carried)}")
    values = frame[column]
    if not pd.api.types.is_object_dtype(values):
        return
    kinds: dict[str, tuple[str, Any]] = {}
    for value, where in zip(values, frame[WHERE], strict=True):
        if is_missing(value):
            continue
        try:
            hash(value)
        except TypeError:
            raise SummaryError(
                f"{where}: field {column!r} is {json_kind(value)} ({short_repr(value)}); --by {column} needs one "
                "value per document (text or a number)"
            ) from None
        kind = json_kind(value) if isinstance(value, (bool, int, float, str)) else type(value).__name__
        kinds.setdefault(kind, (where, value))
    if len(kinds) > 1:
        found = "; ".join(f"{kind} {short_repr(value)} at {where}" for kind, (where, value) in kinds.items())
        raise SummaryError(
            f"--by {column}: field {column!r} mixes kinds of values ({found}); make it one kind (e.g. all text) "
            "to group by it"
        )
