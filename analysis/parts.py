"""A corpus run written as a folder of parts: resumable after a crash, and split into shards across machines.

    DIR/manifest.json           what the run is: the input's fingerprint, the model, the options, part size and
                                format. Written once; a rerun or another shard that differs in any of them is refused.
    DIR/part-000012.parquet     the results of input rows 12 * part_size ... 13 * part_size - 1 (or .jsonl), written
                                whole or not at all (as ``.partial`` until finished)
    DIR/part-000012.json        the part's record, written after the part: rows read, documents, sentences, pairs,
                                the rows skipped and why, the part file's sha256. A part counts as finished when its
                                record is there and the file's hash matches; anything else is done again.
    DIR/shard-2-of-4.json       written when a shard has read the whole input: how many parts the run has

Rows are counted in input order, bad rows included, so every shard and every rerun cuts the same parts. With
``--shard K/N`` a process does the parts whose number is K-1 modulo N; N shards writing into one folder (or N folders
copied together) make the same parts as one run. A crash loses at most the parts being written.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analysis.corpus import CorpusError
from model.model_dir import file_sha256

MANIFEST = "manifest.json"
PART_FORMATS = ("parquet", "jsonl")
FORMAT_VERSION = 1
PART = re.compile(r"^part-(\d{6})\.(parquet|jsonl)$")


def input_fingerprint(path: str | os.PathLike) -> dict[str, Any]:
    """sha256 over every input file's relative path and content (a folder: all its files, sorted), and their sizes:
    a rerun on a changed input is refused rather than mixing parts of two corpora."""
    root = Path(path)
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    digest = hashlib.sha256()
    size = 0
    for file in files:
        name = file.name if file == root else file.relative_to(root).as_posix()
        digest.update(f"{name}\0{file_sha256(file)}\0".encode())
        size += file.stat().st_size
    return {"path": str(path), "files": len(files), "bytes": size, "sha256": digest.hexdigest()}


def parse_shard(value: str) -> tuple[int, int]:
    """``K/N`` -> (K, N), 1 <= K <= N; anything else raises ValueError saying what is expected."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", value or "")
    if not match or not 1 <= int(match[1]) <= int(match[2]):
        raise ValueError(f"--shard {value!r}: give K/N with 1 <= K <= N, e.g. 2/8 for the second of eight shards")
    return int(match[1]), int(match[2])


@dataclass(frozen=True)
class RunSpec:
    """What makes two runs' parts interchangeable: same input, model, options, part size and format."""

    input: dict[str, Any]
    model: dict[str, Any]
    options: dict[str, Any]
    part_size: int = 1000
    part_format: str = "parquet"
    format_version: int = FORMAT_VERSION

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class PartFolder:
    """The folder of one run: its manifest, which parts are finished, and writing a part's record."""

    def __init__(self, directory: str | os.PathLike, spec: RunSpec) -> None:
        self.directory = Path(directory)
        self.spec = spec
        if spec.part_format not in PART_FORMATS:
            raise CorpusError(f"part format {spec.part_format!r}: use one of {', '.join(PART_FORMATS)}")
        if spec.part_size < 1:
            raise CorpusError(f"--part-size {spec.part_size}: give 1 or more documents a part")
        if self.directory.exists() and not self.directory.is_dir():
            raise CorpusError(f"--output-dir {self.directory}: exists and is not a folder")
        self.directory.mkdir(parents=True, exist_ok=True)
        self._claim_manifest()

    def _claim_manifest(self) -> None:
        """Write the manifest if there is none (exclusively: shards may start together), else check it is ours."""
        path = self.directory / MANIFEST
        wanted = self.spec.to_dict()
        others = [p for p in self.directory.iterdir() if not p.name.startswith(f".{MANIFEST}.")]
        if not path.exists() and others:
            raise CorpusError(
                f"--output-dir {self.directory}: the folder has files but no {MANIFEST}; give an empty or new folder"
            )
        with contextlib.suppress(FileExistsError):
            temporary = path.with_name(f".{MANIFEST}.{os.getpid()}")
            temporary.write_text(json.dumps(wanted, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            try:
                os.link(temporary, path)  # fails if another shard wrote it first
            finally:
                temporary.unlink()
            return
        try:
            found = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CorpusError(f"{path}: unreadable manifest ({exc}); give a new --output-dir") from exc
        differ = [key for key in wanted if key != "input" and found.get(key) != wanted[key]]
        if found.get("input", {}).get("sha256") != wanted["input"]["sha256"]:
            differ.insert(0, "input")
        if differ:
            details = "; ".join(f"{key}: folder {found.get(key)!r}, this run {wanted[key]!r}" for key in differ)
            raise CorpusError(
                f"{path}: this folder holds a run with other {', '.join(differ)} ({details}); rerun with the same "
                "input, model and options, or give another --output-dir"
            )

    def part_path(self, number: int) -> Path:
        return part_path(self.directory, number, self.spec.part_format)

    def finished(self, number: int) -> bool:
        return part_finished(self.directory, number, self.spec.part_format)

    def write_record(self, number: int, record: dict[str, Any]) -> None:
        record = {"part": number, **record, "sha256": file_sha256(self.part_path(number))}
        _write_atomically(record_path(self.directory, number), record)

    def finish_shard(self, shard: tuple[int, int], parts_total: int, rows: int | None) -> None:
        k, n = shard
        _write_atomically(self.directory / f"shard-{k}-of-{n}.json", {"shard": f"{k}/{n}", "parts": parts_total,
                                                                     "rows": rows})  # fmt: skip


def part_path(directory: Path, number: int, part_format: str) -> Path:
    return directory / f"part-{number:06d}.{part_format}"


def record_path(directory: Path, number: int) -> Path:
    return directory / f"part-{number:06d}.json"


def part_finished(directory: Path, number: int, part_format: str) -> bool:
    """The part's record is there and its file is the one the record names."""
    try:
        record = json.loads(record_path(directory, number).read_text(encoding="utf-8"))
        return file_sha256(part_path(directory, number, part_format)) == record["sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _write_atomically(path: Path, data: dict[str, Any]) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    temporary.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(temporary, path)


@dataclass(frozen=True)
class RunStatus:
    """What a part folder holds: the finished parts, and how many the run has (None until a shard has read the whole
    input)."""

    directory: Path
    part_format: str
    finished: tuple[int, ...]
    parts_total: int | None

    @property
    def complete(self) -> bool:
        return self.parts_total is not None and len(self.finished) == self.parts_total

    def missing(self) -> list[int]:
        return [p for p in range(self.parts_total or 0) if p not in set(self.finished)]

    def part_files(self) -> Iterator[Path]:
        for number in self.finished:
            yield part_path(self.directory, number, self.part_format)


def read_status(directory: str | os.PathLike) -> RunStatus:
    """The finished parts of a part folder, checked against their records; raises CorpusError for a folder that is
    not one."""
    folder = Path(directory)
    manifest = folder / MANIFEST
    try:
        spec = json.loads(manifest.read_text(encoding="utf-8"))
        part_format = spec["part_format"]
    except FileNotFoundError:
        raise CorpusError(f"{folder}: no {MANIFEST}; not a folder written by stance analyze --output-dir") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CorpusError(f"{manifest}: unreadable manifest ({exc})") from exc
    numbers = sorted(int(m[1]) for p in folder.iterdir() if (m := PART.match(p.name)) and m[2] == part_format)
    finished = tuple(n for n in numbers if part_finished(folder, n, part_format))
    totals = set()
    for shard in folder.glob("shard-*-of-*.json"):
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            totals.add(int(json.loads(shard.read_text(encoding="utf-8"))["parts"]))
    if len(totals) > 1:
        raise CorpusError(
            f"{folder}: shards disagree on the number of parts ({sorted(totals)}); was the input changed?"
        )
    return RunStatus(folder, part_format, finished, totals.pop() if totals else None)
