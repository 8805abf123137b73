"""`stance agreement`: inter-annotator agreement (Cohen's kappa per pair, Fleiss' kappa), confusion tables between
annotators, and a merged file by majority vote with the items lacking a majority listed."""

from __future__ import annotations

import json
from collections import Counter
from itertools import combinations
from pathlib import Path
from typing import Any

from model.records import read_records

TASKS = ("stance", "sentiment")


def cohen_kappa(a: list[str], b: list[str]) -> float | None:
    """Cohen's kappa of two annotators over the same items; None when undefined (no items)."""
    n = len(a)
    if n == 0:
        return None
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    ca, cb = Counter(a), Counter(b)
    expected = sum(ca[k] * cb[k] for k in set(ca) | set(cb)) / (n * n)
    return 1.0 if expected == 1 else (observed - expected) / (1 - expected)


def fleiss_kappa(items: list[list[str]]) -> float | None:
    """Fleiss' kappa for items each labelled by the same number (>= 2) of annotators."""
    if not items:
        return None
    raters = len(items[0])
    categories = sorted({label for item in items for label in item})
    n = len(items)
    p_j = {c: sum(item.count(c) for item in items) / (n * raters) for c in categories}
    p_i = [(sum(item.count(c) ** 2 for c in categories) - raters) / (raters * (raters - 1)) for item in items]
    p_bar = sum(p_i) / n
    p_e = sum(v * v for v in p_j.values())
    return 1.0 if p_e == 1 else (p_bar - p_e) / (1 - p_e)


def _key(record: dict[str, Any]) -> str:
    if record.get("id") not in (None, ""):
        return str(record["id"])
    return json.dumps([record.get("text"), record.get("target"), record.get("mention_start")])


def load_annotations(
    files: list[str],
) -> tuple[list[str], dict[str, dict[str, Any]], dict[str, dict[str, dict[str, str]]]]:
    """(annotator names, item data by key, labels[key][annotator][task])."""
    names: list[str] = []
    items: dict[str, dict[str, Any]] = {}
    labels: dict[str, dict[str, dict[str, str]]] = {}
    for index, file in enumerate(files):
        name = Path(file).stem
        if name in names:
            name = f"{name}-{index}"
        names.append(name)
        for line, record, error in read_records(file):
            if error is not None or record is None:
                raise ValueError(f"{file}:{line}: {error}")
            key = _key(record)
            items.setdefault(key, {k: v for k, v in record.items() if k not in (*TASKS, "confidence")})
            given = {t: str(record[t]).strip() for t in (*TASKS, "confidence") if record.get(t) not in (None, "")}
            labels.setdefault(key, {})[name] = given
    return names, items, labels


def agreement(files: list[str], output: str | None = None) -> dict[str, Any]:
    if len(files) < 2:
        raise ValueError("agreement needs two or more annotation files")
    names, items, labels = load_annotations(files)
    report: dict[str, Any] = {"annotators": names, "items": len(items), "tasks": {}}
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
                "percent_agreement": (sum(x == y for x, y in both) / len(both)) if both else None,
                "confusion": table,
            }
        complete = [[labels[k][n][task] for n in names] for k in labels
                    if all(task in labels[k].get(n, {}) for n in names)]  # fmt: skip
        if not complete and not any(p["n"] for p in pairs.values()):
            continue
        report["tasks"][task] = {
            "pairs": pairs,
            "fleiss_kappa": fleiss_kappa(complete),
            "n_all_annotators": len(complete),
        }
    for key, data in items.items():
        row = dict(data)
        lacking = []
        for task in (*TASKS, "confidence"):
            votes = Counter(labels[key][n][task] for n in names if task in labels[key].get(n, {}))
            if not votes:
                continue
            label, count = votes.most_common(1)[0]
            if count * 2 > sum(votes.values()):
                row[task] = label
            elif task in TASKS:
                lacking.append({"task": task, "votes": dict(votes)})
        if lacking:
            no_majority.append({**data, "no_majority": lacking})
        merged.append(row)
    report["no_majority"] = {
        t: sum(1 for x in no_majority if any(m["task"] == t for m in x["no_majority"])) for t in TASKS
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
        fk = t["fleiss_kappa"]
        lines += [f"## {task}", "", f"Fleiss' kappa {fk:.3f} over {t['n_all_annotators']} items" if fk is not None
                  else "Fleiss' kappa: no item labelled by every annotator", "",
                  "| annotators | n | Cohen's kappa | agreement |", "|---|---|---|---|"]  # fmt: skip
        for name, p in t["pairs"].items():
            kappa = "" if p["cohen_kappa"] is None else f"{p['cohen_kappa']:.3f}"
            agree = "" if p["percent_agreement"] is None else f"{p['percent_agreement']:.3f}"
            lines.append(f"| {name} | {p['n']} | {kappa} | {agree} |")
        lines.append(f"\nItems without a majority: {report['no_majority'].get(task, 0)}\n")
    return "\n".join(lines)
