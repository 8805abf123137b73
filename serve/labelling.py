"""The labelling queue behind the /label page: items from a `stance suggest` file, answers appended to a JSONL file.

Every answer is one line, written and fsync'ed before the request returns, so a crash or a closed tab loses
nothing; an annotator's progress is read back from the file, so a restart resumes where they stopped.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from model.records import read_records
from serve.errors import ApiError

CHOICES = {
    "stance": ("against", "neutral", "favor", "na"),
    "sentiment": ("negative", "neutral", "positive"),
    "confidence": ("high", "low"),
}


class LabelQueue:
    def __init__(self, queue_file: str, output_file: str) -> None:
        self.items: list[dict[str, Any]] = []
        for line, record, error in read_records(queue_file):
            if error is not None or record is None:
                raise ValueError(f"{queue_file}:{line}: {error}")
            if not record.get("id") or not record.get("text") or not record.get("target"):
                raise ValueError(f"{queue_file}:{line}: a labelling item needs id, text and target")
            self.items.append(record)
        self.index = {str(item["id"]): item for item in self.items}
        self.output = Path(output_file)
        self.lock = threading.Lock()
        self.done: dict[str, set[str]] = {}
        if self.output.exists():
            for _, record, _ in read_records(self.output):
                if record and record.get("id"):
                    self.done.setdefault(str(record.get("annotator", "")), set()).add(str(record["id"]))

    def next_item(self, annotator: str) -> dict[str, Any]:
        done = self.done.get(annotator, set())
        remaining = [item for item in self.items if str(item["id"]) not in done]
        progress = {"done": len(done & set(self.index)), "total": len(self.items)}
        if not remaining:
            return {"item": None, "progress": progress}
        item = remaining[0]
        keep = ("id", "text", "target", "mention", "mention_start", "mention_end", "source", "doc_id")
        return {"item": {k: item.get(k) for k in keep}, "progress": progress}

    def save(self, annotator: str, answer: dict[str, Any]) -> dict[str, Any]:
        item_id = str(answer.get("id", ""))
        item = self.index.get(item_id)
        if item is None:
            raise ApiError(404, "unknown_item", f"id {item_id!r} is not in the labelling queue", field="id")
        labels = {}
        for task, allowed in CHOICES.items():
            value = answer.get(task)
            if value in (None, "") and task == "confidence":
                continue
            if value not in allowed:
                raise ApiError(422, "invalid_label", f"{task}: {value!r} is not one of {list(allowed)}", field=task)
            labels[task] = value
        keep = ("id", "doc_id", "source", "text", "target", "mention", "mention_start", "mention_end")
        row = {**{k: item.get(k) for k in keep if item.get(k) is not None}, **labels, "annotator": annotator,
               "labelled_at": datetime.now(UTC).isoformat(timespec="seconds")}  # fmt: skip
        line = json.dumps(row, ensure_ascii=False) + "\n"
        with self.lock:
            self.output.parent.mkdir(parents=True, exist_ok=True)
            with open(self.output, "a", encoding="utf-8") as handle:
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())
            self.done.setdefault(annotator, set()).add(item_id)
        return self.next_item(annotator)
