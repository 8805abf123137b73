"""The labelling queue behind the /label page: items from a `stance suggest` file, answers appended to a JSONL file.

Every answer is one line, written and fsync'ed before the request returns, so a crash or a closed tab loses
nothing; an annotator's progress is read back from the file, so a restart resumes where they stopped. The file is
append-only (the audit trail): saving an item again appends another row, and the last row per (annotator, id)
is the answer that counts. With ``{annotator}`` in the output path, each annotator gets a file of their own.

Replicas of the service (several processes, on one host or on a shared filesystem whose locks work) may share the
queue and the file: each append holds an exclusive ``flock`` on the file and each read a shared one, and progress is
read from the file before every answer, so an annotator sees the answers they saved through any replica.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from model.records import BOM, read_records, record_format
from serve.errors import InvalidAnnotator, InvalidLabel, UnknownItem

log = logging.getLogger("stance.serve")

CHOICES = {
    "stance": ("against", "neutral", "favor", "na"),
    "sentiment": ("negative", "neutral", "positive"),
    "confidence": ("high", "low"),
}
SHOWN = ("id", "text", "target", "mention", "mention_start", "mention_end", "source", "doc_id")
SAVED = ("id", "doc_id", "source", "text", "target", "mention", "mention_start", "mention_end")
ANNOTATOR = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
TEMPLATE = "{annotator}"


class LabelSetupError(ValueError):
    """A labelling queue or output file that cannot be used; raised at start-up, naming the setting."""


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _offset(value: Any, where: str, name: str) -> int | None:
    """A mention offset as an int (CSV queues hold them as text)."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise LabelSetupError(f"{where}: {name} must be a non-negative integer, got {value!r}")


def _answer(raw: bytes, number: int) -> tuple[dict[str, Any] | None, str | None]:
    """One line of an answers file as (record, None), (None, why it cannot be read), or (None, None) when blank; the
    same reading as `model.records.read_records`, a line at a time."""
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"invalid UTF-8 (byte {exc.start + 1} of the line)"
    if number == 1:
        line = line.removeprefix(BOM)
    if not line.strip():
        return None, None
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return None, f"invalid JSON ({exc.msg.removesuffix(' at')} at column {exc.colno})"
    if not isinstance(record, dict):
        return None, f"expected a JSON object, got {type(record).__name__}"
    return record, None


def load_items(queue_file: str) -> list[dict[str, Any]]:
    """The items of a queue file, each with a unique, non-empty id; errors name the file and line."""
    path = Path(queue_file)
    if not path.is_file():
        raise LabelSetupError(f"STANCE_LABEL_QUEUE={queue_file}: no such file")
    if record_format(path) not in ("jsonl", "csv"):
        raise LabelSetupError(f"STANCE_LABEL_QUEUE={queue_file}: use a .jsonl or .csv file from `stance suggest`")
    items: list[dict[str, Any]] = []
    first_line: dict[str, int] = {}
    try:
        records = list(read_records(path))
    except ValueError as exc:  # a file that cannot be read as rows at all
        raise LabelSetupError(f"STANCE_LABEL_QUEUE={queue_file}: {exc}") from exc
    for line, record, error in records:
        where = f"{queue_file}:{line}"
        if error is not None or record is None:
            raise LabelSetupError(f"{where}: {error}")
        missing = [k for k in ("id", "text", "target") if _blank(record.get(k))]
        if missing:
            raise LabelSetupError(f"{where}: a labelling item needs id, text and target (missing: {missing})")
        item_id = str(record["id"])
        if item_id in first_line:
            raise LabelSetupError(f"{where}: duplicate id {item_id!r} (first on line {first_line[item_id]})")
        first_line[item_id] = line
        for key in ("mention_start", "mention_end"):
            record[key] = _offset(record.get(key), where, key)
        items.append(record)
    return items


class AnswerFile:
    """One append-only JSONL file of answers; ``answers[annotator][id]`` is the last answer read or written.

    Several processes (replicas of the service) may share the file. An append holds an exclusive ``flock`` on it
    while it reads what the others appended and writes and syncs its own line; a read of progress holds a shared
    one. So lines never interleave, a line is only read whole, and every read takes in the lines appended since the
    last one, by any process: progress and ``replaced`` count every replica's answers, in the file's order.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.answers: dict[str, dict[str, dict[str, Any]]] = {}
        if path.is_dir():
            raise LabelSetupError(f"STANCE_LABEL_OUTPUT={path}: is a directory; give a .jsonl file path")
        self._lock = threading.Lock()  # the threads of this process; flock orders the processes
        self._identity: tuple[int, int] | None = None  # (device, inode) of the file read so far
        self._offset = 0  # bytes read so far
        self._lines = 0  # lines read so far, for file:line warnings
        self._open_line = False  # the last line read has no line end yet (a crash cut it short)
        self.refresh()

    def refresh(self) -> None:
        """Take in the lines appended since the last read, by this process or another."""
        with self._lock:
            try:
                with open(self.path, "rb") as handle:
                    fcntl.flock(handle, fcntl.LOCK_SH)  # released when the handle closes
                    self._read_new(handle)
            except FileNotFoundError:  # nothing saved yet
                return

    def done(self, annotator: str) -> set[str]:
        """The ids ``annotator`` has answered, in every replica (the file read up to its end)."""
        self.refresh()
        with self._lock:
            return set(self.answers.get(annotator, {}))

    def append(self, row: dict[str, Any]) -> bool:
        """Append ``row`` as one line, synced; True when it replaces an earlier answer (saved through any replica)."""
        line = (json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, open(self.path, "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)  # one writer at a time across processes; released when it closes
            self._read_new(handle)  # what the other replicas appended comes before this answer
            if self._open_line:  # a line cut short by a crash: keep it apart from this answer
                line = b"\n" + line
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
            self._offset, self._lines, self._open_line = os.fstat(handle.fileno()).st_size, self._lines + 1, False
            return self._remember(row)

    def _read_new(self, handle: IO[bytes]) -> None:
        """Read from where the last read stopped to the end; the caller holds the flock, so no line is half written
        (a last line without its line end was cut short by a crash)."""
        status = os.fstat(handle.fileno())
        if (status.st_dev, status.st_ino) != self._identity or status.st_size < self._offset:
            if self._identity is not None:
                log.warning("%s was replaced or truncated while serving; its answers are read again", self.path)
            self.answers, self._offset, self._lines, self._open_line = {}, 0, 0, False
            self._identity = (status.st_dev, status.st_ino)
        handle.seek(self._offset)
        for raw in handle:
            self._offset += len(raw)
            if self._open_line and raw == b"\n":  # the line end an append put after a line cut short
                self._open_line = False
                continue
            self._lines += 1
            self._open_line = not raw.endswith(b"\n")
            record, error = _answer(raw, self._lines)
            if record is None and error is None:
                continue
            if error is not None or record is None or _blank(record.get("id")):
                reason = error or "no id"
                log.warning(
                    "%s:%d: %s; this line is ignored (progress does not count it)", self.path, self._lines, reason
                )
                continue
            self._remember(record)

    def _remember(self, record: dict[str, Any]) -> bool:
        """Keep ``record`` as its annotator's answer for its id; True when it replaces an earlier answer."""
        mine = self.answers.setdefault(str(record.get("annotator", "")), {})
        replaced = str(record["id"]) in mine
        mine[str(record["id"])] = record
        return replaced


class LabelQueue:
    def __init__(self, queue_file: str, output_file: str) -> None:
        self.items = load_items(queue_file)
        self.index = {str(item["id"]): item for item in self.items}
        self.output = output_file
        self.per_annotator = TEMPLATE in output_file
        if Path(output_file.replace(TEMPLATE, "x")).suffix.lower() != ".jsonl":
            raise LabelSetupError(
                f"STANCE_LABEL_OUTPUT={output_file}: the labelled file must end in .jsonl (one JSON answer a line)"
            )
        self.lock = threading.Lock()
        self.files: dict[Path, AnswerFile] = {}
        if not self.per_annotator:
            self._file("anonymous")

    def _file(self, annotator: str) -> AnswerFile:
        if self.per_annotator and not ANNOTATOR.match(annotator):
            raise InvalidAnnotator(annotator)
        path = Path(self.output.replace(TEMPLATE, annotator))
        with self.lock:
            if path not in self.files:
                self.files[path] = AnswerFile(path)
            return self.files[path]

    def next_item(self, annotator: str) -> dict[str, Any]:
        done = self._file(annotator).done(annotator) & set(self.index)
        progress = {"done": len(done), "total": len(self.items)}
        item = next((item for item in self.items if str(item["id"]) not in done), None)
        if item is None:
            return {"item": None, "progress": progress}
        return {"item": {k: item.get(k) for k in SHOWN}, "progress": progress}

    def save(self, annotator: str, answer: dict[str, Any]) -> dict[str, Any]:
        answers = self._file(annotator)
        item_id = str(answer.get("id", ""))
        item = self.index.get(item_id)
        if item is None:
            raise UnknownItem(item_id)
        labels = {}
        for task, allowed in CHOICES.items():
            value = answer.get(task)
            if value in (None, "") and task == "confidence":
                continue
            if value not in allowed:
                raise InvalidLabel(task, value, allowed)
            labels[task] = value
        row = {**{k: item.get(k) for k in SAVED if item.get(k) is not None}, **labels, "annotator": annotator,
               "labelled_at": datetime.now(UTC).isoformat(timespec="seconds")}  # fmt: skip
        replaced = answers.append(row)
        return {**self.next_item(annotator), "replaced": replaced}
