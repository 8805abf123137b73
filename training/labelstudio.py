"""Label Studio: tasks with the model's guesses as pre-annotations, a labelling config for stance, sentiment and
confidence, and conversion of Label Studio's exports back into training rows (one file per annotator): the JSON
export, and the flat JSON-MIN and CSV / TSV exports (one record per annotation, each control's choice a column).

Annotators keep their names: the email or username Label Studio records (``completed_by`` with user details,
``created_username``, or the flat exports' ``annotator``), the numeric user id only when nothing else is there. The
flat exports replace the task's ``id`` with Label Studio's own; the item's id travels as ``item_id``."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

STANCE = ("against", "neutral", "favor", "na")
SENTIMENT = ("negative", "neutral", "positive")
CONFIDENCE = ("high", "low")
DATA_FIELDS = ("id", "doc_id", "source", "text", "target", "mention", "mention_start", "mention_end")


def labelling_config() -> str:
    """The Label Studio labelling interface (XML): the sentence with the mention marked, the actor, three choices."""

    def choices(name: str, values: tuple[str, ...], required: bool) -> str:
        inner = "".join(f'<Choice value="{v}"/>' for v in values)
        req = ' required="true"' if required else ""
        return f'  <Choices name="{name}" toName="sentence" choice="single" showInline="true"{req}>{inner}</Choices>\n'

    return (
        "<View>\n"
        '  <Header value="Stance toward: $target (see the codebook, docs/ANNOTATION.md)"/>\n'
        '  <Text name="sentence" value="$marked"/>\n'
        '  <Header value="stance"/>\n'
        + choices("stance", STANCE, True)
        + '  <Header value="sentiment of the sentence"/>\n'
        + choices("sentiment", SENTIMENT, True)
        + '  <Header value="confidence"/>\n'
        + choices("confidence", CONFIDENCE, False)
        + "</View>\n"
    )


def marked(row: dict[str, Any]) -> str:
    text, start, end = row["text"], row.get("mention_start"), row.get("mention_end")
    if start in (None, "") or end in (None, ""):
        return text
    start, end = int(start), int(end)
    return f"{text[:start]}[[{text[start:end]}]]{text[end:]}"


def write_labelstudio(rows: list[dict[str, Any]], path: Path) -> None:
    """Tasks JSON at ``path`` and the labelling config beside it (``<stem>.config.xml``)."""
    tasks = []
    for row in rows:
        data = {**{k: row.get(k) for k in DATA_FIELDS}, "item_id": row.get("id"), "marked": marked(row)}
        task: dict[str, Any] = {"data": data}
        if row.get("model_stance"):
            result = [
                {"from_name": "stance", "to_name": "sentence", "type": "choices",
                 "value": {"choices": [row["model_stance"]]}},
            ]  # fmt: skip
            if row.get("model_sentiment"):
                result.append(
                    {"from_name": "sentiment", "to_name": "sentence", "type": "choices",
                     "value": {"choices": [row["model_sentiment"]]}}
                )  # fmt: skip
            task["predictions"] = [
                {"model_version": "actor-stance", "score": row.get("model_stance_p"), "result": result}
            ]
        tasks.append(task)
    path.write_text(json.dumps(tasks, ensure_ascii=False, indent=1), encoding="utf-8")
    path.with_name(path.stem + ".config.xml").write_text(labelling_config(), encoding="utf-8")


CHOICES = {"stance": STANCE, "sentiment": SENTIMENT, "confidence": CONFIDENCE}


class ExportError(ValueError):
    """A Label Studio export that cannot be converted; the message lists every problem, each with file and task."""


def _task_name(number: int, task: Any) -> str:
    """'task 3' (1-based position in the export), with Label Studio's task id when there is one."""
    task_id = task.get("id") if isinstance(task, dict) else None
    return f"task {number}" + (f" (id {task_id})" if task_id not in (None, "") else "")


def from_export(
    export: list[Any], source: str = "export", left_out: Counter | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Training rows per annotator from a Label Studio JSON export (cancelled annotations are left out).

    Raises `ExportError` listing every malformed task (``source: task N (id ...): problem``) before returning
    anything, so that a bad export writes nothing. What is left out on purpose is counted in ``left_out``: results
    of other controls of a customised interface (by name) and annotations that choose neither stance nor sentiment."""
    by_annotator: dict[str, list[dict[str, Any]]] = defaultdict(list)
    problems: list[str] = []
    for number, task in enumerate(export, start=1):
        where = f"{source}: {_task_name(number, task)}"
        if not isinstance(task, dict):
            problems.append(f"{where}: expected a task object, got {type(task).__name__} {task!r:.40}")
            continue
        data = task.get("data")
        if not isinstance(data, dict):
            problems.append(f"{where}: 'data' must be an object, got {type(data).__name__}")
            continue
        if not isinstance(data.get("text"), str) or not data["text"].strip():
            problems.append(f"{where}: no data.text; was it created by `stance suggest`?")
            continue
        annotations = task.get("annotations")
        if annotations is None:
            annotations = []
        if not isinstance(annotations, list):
            problems.append(f"{where}: 'annotations' must be a list, got {type(annotations).__name__}")
            continue
        for a_number, annotation in enumerate(annotations, start=1):
            at = f"{where}, annotation {a_number}"
            if not isinstance(annotation, dict):
                problems.append(f"{at}: expected an annotation object, got {type(annotation).__name__}")
                continue
            if annotation.get("was_cancelled"):
                continue
            results = annotation.get("result")
            if results is None:
                results = []
            if not isinstance(results, list):
                problems.append(f"{at}: 'result' must be a list, got {type(results).__name__}")
                continue
            labels: dict[str, str] = {}
            for result in results:
                if not isinstance(result, dict):
                    problems.append(f"{at}: a result must be an object, got {type(result).__name__}")
                    continue
                name = result.get("from_name")
                if not isinstance(name, str) or not name:
                    problems.append(f"{at}: a result without 'from_name' (which control it answers): {result!r:.60}")
                    continue
                if name not in CHOICES:  # another control of a customised interface: not ours to convert
                    if left_out is not None:
                        left_out[f"results of the control {name!r}"] += 1
                    continue
                value = result.get("value")
                chosen = value.get("choices") if isinstance(value, dict) else None
                if not isinstance(chosen, list) or not all(isinstance(c, str) for c in chosen):
                    problems.append(f"{at}: {name}: value.choices must be a list of labels, got {chosen!r:.60}")
                    continue
                label = _single_choice(name, chosen, at, problems)
                if label is not None:
                    labels[name] = label
            if not labels:
                if left_out is not None:
                    left_out["annotations without a stance or sentiment choice"] += 1
                continue
            by_annotator[_annotator(annotation)].append({**_item_fields(data), **labels})
    _raise_problems(problems)
    return dict(by_annotator)


def _single_choice(name: str, chosen: list[Any], at: str, problems: list[str]) -> str | None:
    """The one label chosen for the control ``name``; None when nothing was chosen, or after recording a problem
    (several choices, a label the config does not have)."""
    if len(chosen) > 1:
        problems.append(f"{at}: {name}: one choice expected, got {chosen}")
        return None
    if not chosen:
        return None
    if chosen[0] not in CHOICES[name]:
        problems.append(f"{at}: {name}: unknown label {chosen[0]!r} (expected one of {list(CHOICES[name])})")
        return None
    return str(chosen[0])


def _raise_problems(problems: list[str]) -> None:
    """`ExportError` listing every problem (the first 100), so that a bad export writes nothing."""
    if problems:
        shown = "\n".join(f"  {p}" for p in problems[:100])
        more = f"\n  ... and {len(problems) - 100} more" if len(problems) > 100 else ""
        raise ExportError(f"{len(problems)} problem(s) in the Label Studio export; nothing written:\n{shown}{more}")


def _annotator(annotation: dict[str, Any]) -> str:
    """Who made an annotation, by name where Label Studio says it: email, username, else the numeric id."""
    who = annotation.get("completed_by")
    if isinstance(who, dict):
        for key in ("email", "username", "id"):
            if who.get(key) not in (None, ""):
                return str(who[key])
    named = annotation.get("created_username")  # " ann@x.org, 3": the name, then the id
    if isinstance(named, str) and named.strip(" ,"):
        return named.rsplit(",", 1)[0].strip() if named.rsplit(",", 1)[-1].strip().isdigit() else named.strip()
    return str(who) if who not in (None, "") else "unknown"


def _item_fields(data: dict[str, Any]) -> dict[str, Any]:
    """The training row's item fields from a task's data (or a flat export's record)."""
    row = {k: data.get(k) for k in DATA_FIELDS if data.get(k) not in (None, "")}
    if data.get("item_id") not in (None, ""):
        row["id"] = data["item_id"]  # the flat exports put Label Studio's task id in 'id'
    for key in ("mention_start", "mention_end"):
        value = row.get(key)
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            row[key] = int(value)  # CSV cells are text
    return row


def from_flat(records: list[Any], source: str, unit: str = "record") -> dict[str, list[dict[str, Any]]]:
    """Training rows per annotator from a JSON-MIN or CSV export: one record per annotation, each control's choice
    under its name (a label, or Label Studio's ``{"choices": [...]}``). Raises `ExportError` listing every problem
    (``source: record N`` or ``line N``) before returning anything."""
    by_annotator: dict[str, list[dict[str, Any]]] = defaultdict(list)
    problems: list[str] = []
    first = 2 if unit == "line" else 1  # a CSV's first line is its header
    for number, record in enumerate(records, start=first):
        where = f"{source}: {unit} {number}"
        if not isinstance(record, dict):
            problems.append(f"{where}: expected an object, got {type(record).__name__}")
            continue
        if not isinstance(record.get("text"), str) or not record["text"].strip():
            problems.append(f"{where}: no text; was the task created by `stance suggest`?")
            continue
        labels: dict[str, str] = {}
        for name in CHOICES:
            value = record.get(name)
            if isinstance(value, dict):
                value = value.get("choices")
            chosen = value if isinstance(value, list) else [value]
            label = _single_choice(name, [c for c in chosen if c not in (None, "")], where, problems)
            if label is not None:
                labels[name] = label
        if "stance" not in labels and "sentiment" not in labels:
            continue  # no answer in this record (a skipped or empty annotation)
        who = record.get("annotator")
        by_annotator[str(who) if who not in (None, "") else "unknown"].append({**_item_fields(record), **labels})
    _raise_problems(problems)
    return dict(by_annotator)


def read_export(export_path: str, left_out: Counter | None = None) -> tuple[dict[str, list[dict[str, Any]]], int]:
    """Rows per annotator from a Label Studio export of any of the three kinds (by its suffix and shape), and how
    many tasks or records it holds."""
    path = Path(export_path)
    flat_file = path.suffix.lower() in (".csv", ".tsv")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        kind = "CSV" if flat_file else "JSON"
        raise ExportError(
            f"{export_path}: not a Label Studio {kind} export (invalid UTF-8 at byte {exc.start + 1})"
        ) from exc
    if flat_file:
        reader = csv.DictReader(io.StringIO(text), delimiter="\t" if path.suffix.lower() == ".tsv" else ",")
        records = list(reader)
        if not reader.fieldnames or "text" not in reader.fieldnames:
            raise ExportError(f"{export_path}: a CSV export needs a 'text' column; found {reader.fieldnames}")
        if not records:
            raise ExportError(f"{export_path}: the export has no rows")
        return from_flat(records, export_path, unit="line"), len(records)
    try:
        export = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ExportError(f"{export_path}: not a Label Studio JSON export (invalid JSON: {exc})") from exc
    if not isinstance(export, list):
        raise ExportError(f"{export_path}: expected a JSON list of tasks, got {type(export).__name__}")
    if not export:
        raise ExportError(f"{export_path}: the export has no tasks")
    # JSON-MIN: flat records (no 'data', no 'annotations'); anything else is read, and checked, as the JSON export.
    flat = all(isinstance(t, dict) and "data" not in t and "annotations" not in t for t in export)
    return (from_flat(export, export_path) if flat else from_export(export, export_path, left_out)), len(export)


def _file_name(annotator: str) -> str:
    return "labels_" + re.sub(r"[^A-Za-z0-9._-]+", "_", annotator.replace("@", "_at_")) + ".jsonl"


def import_export(export_path: str, output: str, left_out: Counter | None = None) -> dict[str, Path]:
    """Write one JSONL of training rows per annotator; ``output`` is a folder, or a ``.jsonl`` file when the export
    has exactly one annotator. Every problem is reported (file and task) before anything is written; what is left
    out on purpose is counted in ``left_out`` (see `from_export`)."""
    rows, tasks = read_export(export_path, left_out)
    if not rows:
        raise ExportError(
            f"{export_path}: no annotations in {tasks} task(s) (none labelled, or all cancelled); nothing written"
        )
    out = Path(output)
    if out.suffix.lower() == ".jsonl":
        if len(rows) > 1:
            raise ExportError(
                f"{output}: the export has {len(rows)} annotators ({', '.join(sorted(rows))}); give a folder as "
                "--output (one file per annotator), not a .jsonl file"
            )
        if out.is_dir():
            raise ExportError(f"{output}: is a folder; give a .jsonl file path or a folder without the suffix")
        targets = {name: out for name in rows}
    else:
        if out.exists() and not out.is_dir():
            raise ExportError(f"{output}: exists and is not a folder")
        targets = {name: out / _file_name(name) for name in rows}
        clash = [p for p, n in Counter(targets.values()).items() if n > 1]
        if clash:
            raise ExportError(f"{output}: two annotators would share the file {clash[0].name}")
    written: dict[str, Path] = {}
    for name, path in targets.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows[name]), encoding="utf-8")
        written[name] = path
    return written
