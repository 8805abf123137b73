"""`stance agreement`: inter-annotator agreement (Cohen's kappa per pair, Fleiss' kappa over the items every
annotator labelled, Krippendorff's alpha over all items with missing labels allowed), confusion tables between
annotators, and a merged file by majority vote with the items lacking a majority listed (a tie, or fewer than two
votes: one annotator's label is not a majority).

Every coefficient is None (reported as undefined, with the reason) where it is not defined: no items, or every
label the same (chance agreement is then 1 and the coefficient 0/0; percent agreement still says how often they
agreed)."""

from __future__ import annotations

import json
from collections import Counter
from itertools import combinations
from pathlib import Path
from typing import Any

from model.records import read_records, unit_of
from training.rows import DataValidationError, Problem

TASKS = ("stance", "sentiment")


def cohen_kappa(a: list[str], b: list[str]) -> float | None:
    """Cohen's kappa of two annotators over the same items; None when undefined (no items, or chance agreement 1:
    both gave one and the same label throughout)."""
    n = len(a)
    if n == 0:
        return None
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    ca, cb = Counter(a), Counter(b)
    expected = sum(ca[k] * cb[k] for k in set(ca) | set(cb)) / (n * n)
    return None if expected == 1 else (observed - expected) / (1 - expected)


def krippendorff_alpha(labels_by_annotator: list[list[str | None]]) -> float | None:
    """Krippendorff's alpha (nominal) over items in columns, one row per annotator, None where an annotator did not
    label the item; None when undefined (fewer than two labels on any item, or one label throughout)."""
    import krippendorff
    import numpy as np

    values = sorted({v for row in labels_by_annotator for v in row if v is not None})
    pairable = sum(1 for item in zip(*labels_by_annotator, strict=True) if sum(v is not None for v in item) >= 2)
    if len(values) < 2 or not pairable:
        return None
    code = {v: i for i, v in enumerate(values)}
    data = np.array([[np.nan if v is None else code[v] for v in row] for row in labels_by_annotator], dtype=float)
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))


def undefined_because(labels: list[str]) -> str | None:
    """Why a coefficient over these labels is undefined, or None."""
    if not labels:
        return "no items"
    if len(set(labels)) == 1:
        return f"every label is {labels[0]!r}: chance agreement is 1"
    return None


def fleiss_kappa(items: list[list[str]]) -> float | None:
    """Fleiss' kappa for items each labelled by the same number (>= 2) of annotators; None when undefined (no
    items, or one label throughout)."""
    if not items:
        return None
    raters = len(items[0])
    categories = sorted({label for item in items for label in item})
    n = len(items)
    p_j = {c: sum(item.count(c) for item in items) / (n * raters) for c in categories}
    p_i = [(sum(item.count(c) ** 2 for c in categories) - raters) / (raters * (raters - 1)) for item in items]
    p_bar = sum(p_i) / n
    p_e = sum(v * v for v in p_j.values())
    return None if p_e == 1 else (p_bar - p_e) / (1 - p_e)


LABEL_SETS: dict[str, tuple[str, ...]] = {  # the codebook's labels (docs/ANNOTATION.md), as on the labelling page
    "stance": ("against", "neutral", "favor", "na"),
    "sentiment": ("negative", "neutral", "positive"),
    "confidence": ("high", "low"),
}
META = ("annotator", "labelled_at")  # per-answer fields of the labelling page's files, not item data


def parse_label_sets(values: list[str] | None) -> dict[str, tuple[str, ...]]:
    """The codebook's label sets, with ``TASK=label,label,...`` overrides (``--labels``)."""
    sets = dict(LABEL_SETS)
    for value in values or []:
        task, _, labels = value.partition("=")
        task = task.strip()
        chosen = tuple(dict.fromkeys(x.strip() for x in labels.split(",") if x.strip()))
        if task not in sets or len(chosen) < 2:
            raise ValueError(
                f"--labels {value!r}: expected TASK=LABEL,LABEL,... with TASK one of {list(sets)} and two or more "
                "labels"
            )
        sets[task] = chosen
    return sets


def _key(record: dict[str, Any]) -> str:
    if record.get("id") not in (None, ""):
        return str(record["id"])
    return json.dumps([record.get("text"), record.get("target"), record.get("mention_start")])


def _describe(key: str) -> str:
    return f"id {key!r}" if not key.startswith("[") else "item (same text, target and mention_start)"


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def load_annotations(
    files: list[str], label_sets: dict[str, tuple[str, ...]] | None = None, superseded: list[int] | None = None
) -> tuple[list[str], dict[str, dict[str, Any]], dict[str, dict[str, dict[str, str]]]]:
    """(annotator names, item data by key, labels[key][annotator][task]).

    A file is one annotator, named by its stem. When its rows carry an ``annotator`` field, as the labelling page's
    files do, each annotator in it is one (named ``stem:annotator`` when there are several) and, as on the labelling
    page, a later answer of the same annotator to the same id replaces the earlier one (counted in ``superseded``).
    Without that field a repeated id in one file is an error. Labels are checked against ``label_sets`` (default:
    the codebook's); every problem is reported at once with its file and line."""
    sets = label_sets or LABEL_SETS
    names: list[str] = []
    items: dict[str, dict[str, Any]] = {}
    labels: dict[str, dict[str, dict[str, str]]] = {}
    problems: list[Problem] = []
    for index, file in enumerate(files):
        records = list(read_records(file))
        unit = unit_of(file)
        annotators = {
            str(r["annotator"]).strip() for _, r, _ in records if r is not None and not _blank(r.get("annotator"))
        }
        split = bool(annotators)
        stem = Path(file).stem
        if stem in {n.split(":", 1)[0] for n in names}:
            stem = f"{stem}-{index}"
        first_line: dict[tuple[str, str], int] = {}
        labelled, columns = 0, dict.fromkeys(k for _, r, _ in records if r is not None for k in r)
        for line, record, error in records:
            if error is not None or record is None:
                problems.append(Problem(file, line, str(error), unit))
                continue
            if _blank(record.get("id")) and _blank(record.get("text")):
                problems.append(Problem(file, line, "no 'id' or 'text': nothing says which item this row labels", unit))
                continue
            labelled += any(not _blank(record.get(task)) for task in TASKS)
            if split and _blank(record.get("annotator")):
                problems.append(Problem(file, line, "no 'annotator' (other rows of this file have one)", unit))
                continue
            name = f"{stem}:{str(record['annotator']).strip()}" if len(annotators) > 1 else stem
            if name not in names:
                names.append(name)
            key = _key(record)
            given: dict[str, str] = {}
            for task in (*TASKS, "confidence"):
                if _blank(record.get(task)):
                    continue
                value = str(record[task]).strip()
                if value not in sets[task]:
                    hint = next((f"; did you mean {x!r}?" for x in sets[task] if x.lower() == value.lower()), "")
                    expected = f"expected one of {list(sets[task])}"
                    problems.append(Problem(file, line, f"unknown {task} label {value!r} ({expected}){hint}", unit))
                    continue
                given[task] = value
            if (name, key) in first_line:
                if not split:
                    problems.append(
                        Problem(file, line, f"duplicate {_describe(key)} (also on {unit} {first_line[name, key]}); "
                                "one row per item and annotator", unit)
                    )  # fmt: skip
                    continue
                if superseded is not None:
                    superseded.append(1)
            first_line.setdefault((name, key), line)
            items.setdefault(key, {k: v for k, v in record.items() if k not in (*TASKS, "confidence", *META)})
            labels.setdefault(key, {})[name] = given
        if records and not labelled:
            found = ", ".join(map(repr, columns)) or "none"
            problems.append(
                Problem(file, records[0][0], f"no row has a {' or '.join(map(repr, TASKS))} label (fields: {found}); "
                        "is this an annotation file?", unit)
            )  # fmt: skip
    if problems:
        raise DataValidationError(problems)
    return names, items, labels


def agreement(
    files: list[str], output: str | None = None, label_sets: dict[str, tuple[str, ...]] | None = None
) -> dict[str, Any]:
    superseded: list[int] = []
    names, items, labels = load_annotations(files, label_sets, superseded)
    if len(names) < 2:
        raise ValueError(
            f"agreement needs two or more annotators (one file each, or several in a file's 'annotator' column); "
            f"found {len(names)}: {', '.join(names) or 'none'}"
        )
    report: dict[str, Any] = {"annotators": names, "items": len(items), "tasks": {}}
    if superseded:
        report["superseded_answers"] = len(superseded)
    merged, no_majority = [], []
    for task in TASKS:
        pairs = {}
        for a, b in combinations(names, 2):
            both = [(labels[k][a][task], labels[k][b][task]) for k in labels
                    if task in labels[k].get(a, {}) and task in labels[k].get(b, {})]  # fmt: skip
            cats = sorted({x for pair in both for x in pair})
            table = {x: {y: sum(1 for p in both if p == (x, y)) for y in cats} for x in cats}
            pairs[f"{a} vs {b}"] = {
                "n": len(both),
                "cohen_kappa": cohen_kappa([x for x, _ in both], [y for _, y in both]),
                "undefined": undefined_because([x for pair in both for x in pair]),
                "percent_agreement": (sum(x == y for x, y in both) / len(both)) if both else None,
                "confusion": table,
            }
        complete = [[labels[k][n][task] for n in names] for k in labels
                    if all(task in labels[k].get(n, {}) for n in names)]  # fmt: skip
        if not complete and not any(p["n"] for p in pairs.values()):
            continue
        by_annotator = [[labels[k].get(n, {}).get(task) for k in labels] for n in names]
        given = [v for row in by_annotator for v in row if v is not None]
        report["tasks"][task] = {
            "pairs": pairs,
            "fleiss_kappa": fleiss_kappa(complete),
            "fleiss_undefined": undefined_because([v for item in complete for v in item]),
            "n_all_annotators": len(complete),
            "krippendorff_alpha": krippendorff_alpha(by_annotator),
            "krippendorff_undefined": undefined_because(given),
            "n_labelled": sum(1 for item in zip(*by_annotator, strict=True) if any(v is not None for v in item)),
        }
    for key, data in items.items():
        row = dict(data)
        lacking = []
        for task in (*TASKS, "confidence"):
            votes = Counter(labels[key][n][task] for n in names if task in labels[key].get(n, {}))
            if not votes:
                continue
            label, count = votes.most_common(1)[0]
            if sum(votes.values()) < 2:  # one annotator's label is not a majority
                if task in TASKS:
                    lacking.append({"task": task, "votes": dict(votes), "reason": "fewer than 2 votes"})
            elif count * 2 > sum(votes.values()):
                row[task] = label
            elif task in TASKS:
                lacking.append({"task": task, "votes": dict(votes), "reason": "no majority"})
        if lacking:
            no_majority.append({**data, "no_majority": lacking})
        merged.append(row)
    for field, reason in (("no_majority", "no majority"), ("too_few_votes", "fewer than 2 votes")):
        report[field] = {
            t: sum(1 for x in no_majority if any(m["task"] == t and m["reason"] == reason for m in x["no_majority"]))
            for t in TASKS
        }
    if output:
        out = Path(output)
        out.mkdir(parents=True, exist_ok=True)
        (out / "agreement.json").write_text(json.dumps(report, indent=2) + "\n")
        (out / "merged.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in merged))
        (out / "no_majority.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in no_majority))
        (out / "agreement.md").write_text(render(report))
    return report


def render(report: dict[str, Any]) -> str:
    lines = [f"# Agreement: {', '.join(report['annotators'])} on {report['items']} items", ""]
    for task, t in report["tasks"].items():
        fk, alpha = t["fleiss_kappa"], t["krippendorff_alpha"]
        lines += [f"## {task}", "",
                  f"- Krippendorff's alpha (nominal, missing labels allowed) {alpha:.3f} over {t['n_labelled']} items"
                  if alpha is not None else f"- Krippendorff's alpha: undefined ({t['krippendorff_undefined']})",
                  f"- Fleiss' kappa {fk:.3f} over the {t['n_all_annotators']} items every annotator labelled"
                  if fk is not None else
                  f"- Fleiss' kappa: undefined ({t['fleiss_undefined'] or 'no item labelled by every annotator'})",
                  "", "| annotators | n | Cohen's kappa | agreement |", "|---|---|---|---|"]  # fmt: skip
        for name, p in t["pairs"].items():
            kappa = f"undefined ({p['undefined']})" if p["cohen_kappa"] is None else f"{p['cohen_kappa']:.3f}"
            agree = "" if p["percent_agreement"] is None else f"{p['percent_agreement']:.3f}"
            lines.append(f"| {name} | {p['n']} | {kappa} | {agree} |")
        lines.append(
            f"\nItems without a majority: {report['no_majority'].get(task, 0)}; with fewer than 2 votes (not "
            f"merged): {report.get('too_few_votes', {}).get(task, 0)}\n"
        )
    if report.get("superseded_answers"):
        lines.append(f"Answers replaced by a later answer of the same annotator: {report['superseded_answers']}\n")
    return "\n".join(lines)
