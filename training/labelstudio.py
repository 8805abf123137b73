"""Label Studio: tasks with the model's guesses as pre-annotations, a labelling config for stance, sentiment and
confidence, and conversion of Label Studio's JSON export back into training rows (one file per annotator)."""

from __future__ import annotations

import json
from collections import defaultdict
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
        task: dict[str, Any] = {"data": {**{k: row.get(k) for k in DATA_FIELDS}, "marked": marked(row)}}
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


def from_export(export: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Training rows per annotator from a Label Studio JSON export (cancelled annotations are left out)."""
    by_annotator: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for number, task in enumerate(export):
        data = task.get("data") or {}
        if "text" not in data:
            raise ValueError(f"export task {number}: no data.text; was it created by `stance suggest`?")
        for annotation in task.get("annotations") or []:
            if annotation.get("was_cancelled"):
                continue
            labels: dict[str, str] = {}
            for result in annotation.get("result") or []:
                chosen = (result.get("value") or {}).get("choices") or []
                if result.get("from_name") in ("stance", "sentiment", "confidence") and chosen:
                    labels[result["from_name"]] = chosen[0]
            who = annotation.get("completed_by")
            if isinstance(who, dict):
                who = who.get("email") or who.get("id")
            row = {k: data.get(k) for k in DATA_FIELDS if data.get(k) not in (None, "")}
            by_annotator[str(who if who is not None else "unknown")].append({**row, **labels})
    return dict(by_annotator)


def import_export(export_path: str, output: str) -> dict[str, Path]:
    """Write one JSONL of training rows per annotator; ``output`` is a folder (or a file for one annotator)."""
    try:
        export = json.loads(Path(export_path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{export_path}: not a Label Studio JSON export ({exc})") from exc
    if not isinstance(export, list):
        raise ValueError(f"{export_path}: expected a JSON list of tasks")
    rows = from_export(export)
    out = Path(output)
    written: dict[str, Path] = {}
    if out.suffix == ".jsonl" and len(rows) <= 1:
        targets = {name: out for name in rows}
    else:
        out.mkdir(parents=True, exist_ok=True)
        targets = {name: out / f"labels_{name.replace('/', '_').replace('@', '_at_')}.jsonl" for name in rows}
    for name, path in targets.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows[name]), encoding="utf-8")
        written[name] = path
    return written
