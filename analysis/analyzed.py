"""Reading `stance analyze` output back: JSONL documents or flattened CSV/Parquet rows, checked, as one row per
scored (document, sentence, actor) pair. Every problem is a `SummaryError` naming the file, line or row, and field.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import pandas as pd

# Columns every pair row has (from the sentence and actor, not the document) and internal bookkeeping columns.
PAIR_COLUMNS = ("sentence_index", "actor", "mentioned", "stance")
WHERE = "__where__"  # "file:line" of the document (JSONL) or "file row N" (CSV/Parquet), for messages
DOC = "__doc__"  # one value per document, for the documents count
INTERNAL = (WHERE, DOC)


class SummaryError(ValueError):
    """Analyze output that cannot be summarized (wrong shape, unknown column, bad option)."""


def json_kind(value: Any) -> str:
    """What ``value`` is in JSON's words ("a list", "text", "null", ...), for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def short_repr(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters, to quote a bad value in a message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def load_pairs(path: str | os.PathLike) -> pd.DataFrame:
    """One row per scored (document, sentence, actor) with stance label and probabilities, plus carried columns.

    Also ``mentioned`` (bool) and two internal columns: where each row comes from (for messages) and a document key.
    """
    frame, _ = load_pairs_with_notes(Path(path))
    return frame


def load_pairs_with_notes(path: Path) -> tuple[pd.DataFrame, list[str]]:
    """`load_pairs`, with notes for the report (document fields left out because they shadow pair columns)."""
    if path.is_dir():
        return _load_parts(path)
    suffix = path.suffix.lower()
    if suffix not in (".jsonl", ".csv", ".parquet"):
        raise SummaryError(
            f"{path}: unsupported input {suffix!r}; use the .jsonl, .csv or .parquet from stance analyze"
        )
    if not path.exists():
        raise SummaryError(f"--input {path}: no such file")
    if not path.is_file():
        raise SummaryError(f"--input {path}: not a file")
    return _load_jsonl(path) if suffix == ".jsonl" else _load_flat(path, suffix)


def _load_parts(folder: Path) -> tuple[pd.DataFrame, list[str]]:
    """A folder of parts from `stance analyze --output-dir`, all parts finished, read as one output."""
    from analysis.corpus import CorpusError
    from analysis.parts import read_status

    try:
        status = read_status(folder)
    except CorpusError as exc:
        raise SummaryError(f"--input {exc}") from exc
    if not status.complete:
        missing = status.missing()
        shown = ", ".join(str(p) for p in missing[:10]) + (" ..." if len(missing) > 10 else "")
        raise SummaryError(
            f"--input {folder}: the run is not finished: "
            + (f"parts {shown} of {status.parts_total} missing" if status.parts_total is not None
               else f"{len(status.finished)} parts finished, and no shard has read the whole input yet")
            + "; rerun stance analyze with the same --output-dir (and each --shard) to finish it"
        )  # fmt: skip
    frames: list[pd.DataFrame] = []
    notes: list[str] = []
    for number, part in zip(status.finished, status.part_files(), strict=True):
        frame, part_notes = load_pairs_with_notes(part)
        if DOC in frame:
            frame[DOC] = f"{number}:" + frame[DOC].astype("string")  # documents are counted per part file
        frames.append(frame)
        notes.extend(n for n in part_notes if n not in notes)
    return (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()), notes


def _load_jsonl(path: Path) -> tuple[pd.DataFrame, list[str]]:
    rows: list[dict[str, Any]] = []
    shadowed: set[str] = set()
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            where = f"{path}:{number}"
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise SummaryError(f"{where}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
            if number == 1:
                line = line.removeprefix("\ufeff")
            if not line.strip():
                continue
            try:
                doc = json.loads(line)
            except json.JSONDecodeError as exc:
                raise SummaryError(f"{where}: invalid JSON ({exc.msg}, column {exc.colno})") from exc
            if not isinstance(doc, dict):
                raise SummaryError(f"{where}: expected an analyzed document (a JSON object), got {json_kind(doc)}")
            if "sentences" not in doc:
                raise SummaryError(f"{where}: not `stance analyze` output (no 'sentences')")
            sentences = doc["sentences"]
            if not isinstance(sentences, list):
                raise SummaryError(
                    f"{where}: field 'sentences' must be a list of sentences, got {json_kind(sentences)}"
                )
            carried = {k: v for k, v in doc.items() if k not in ("sentences", "actors")}
            shadowed |= {k for k in carried if k in PAIR_COLUMNS or k.startswith("stance_p_") or k in INTERNAL}
            for i, s in enumerate(sentences):
                rows.extend(_sentence_rows(s, f"sentences[{i}]", i, where, number, carried))
    notes = []
    if shadowed:
        notes.append(
            f"document field(s) {sorted(shadowed)} have the names of per-pair columns and are ignored; "
            "rename them in the input to use them"
        )
    return pd.DataFrame(rows), notes


def _sentence_rows(
    s: Any, field: str, position: int, where: str, number: int, carried: dict[str, Any]
) -> list[dict[str, Any]]:
    if not isinstance(s, dict):
        raise SummaryError(f"{where}: {field}: expected a sentence (a JSON object), got {json_kind(s)}")
    actors = s.get("actors") or []
    if not isinstance(actors, list):
        raise SummaryError(f"{where}: {field}.actors: expected a list, got {json_kind(actors)}")
    index = s.get("index", position)
    rows = []
    for j, a in enumerate(actors):
        afield = f"{field}.actors[{j}]"
        if not isinstance(a, dict):
            raise SummaryError(f"{where}: {afield}: expected an actor (a JSON object), got {json_kind(a)}")
        stance = a.get("stance")
        if not stance:
            continue  # an actor that was found but not scored
        if not isinstance(stance, dict):
            raise SummaryError(f"{where}: {afield}.stance: expected an object, got {json_kind(stance)}")
        actor = a.get("actor")
        if not isinstance(actor, str) or not actor:
            raise SummaryError(f"{where}: {afield}.actor: expected the actor's name, got {short_repr(actor)}")
        label = stance.get("label")
        if not isinstance(label, str):
            raise SummaryError(f"{where}: {afield}.stance.label: expected a label, got {short_repr(label)}")
        probabilities = stance.get("probabilities")
        if not isinstance(probabilities, dict) or not probabilities:
            got = "missing" if probabilities is None else f"got {short_repr(probabilities)}"
            raise SummaryError(
                f"{where}: {afield}.stance.probabilities: {got}; expected an object of label -> probability "
                "as stance analyze writes"
            )
        for key, value in probabilities.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise SummaryError(
                    f"{where}: {afield}.stance.probabilities.{key}: expected a number, got {short_repr(value)}"
                )
        mentioned = a.get("mentioned", True)
        if not isinstance(mentioned, bool):
            raise SummaryError(f"{where}: {afield}.mentioned: expected true or false, got {short_repr(mentioned)}")
        rows.append(
            {**carried, "sentence_index": index, "actor": actor, "mentioned": mentioned, "stance": label,
             **{f"stance_p_{k}": float(v) for k, v in probabilities.items()}, WHERE: where, DOC: number}
        )  # fmt: skip
    return rows


def _load_flat(path: Path, suffix: str) -> tuple[pd.DataFrame, list[str]]:
    kind = "CSV" if suffix == ".csv" else "Parquet"
    try:
        frame = pd.read_csv(path, low_memory=False) if suffix == ".csv" else pd.read_parquet(path)
    except pd.errors.EmptyDataError as exc:
        raise SummaryError(
            f"{path}: empty file (not even a header row); expected the CSV stance analyze writes"
        ) from exc
    except Exception as exc:  # pandas and pyarrow raise many kinds for unreadable files
        raise SummaryError(f"{path}: cannot read {kind} ({type(exc).__name__}: {exc})") from exc
    if "actor" not in frame.columns or "stance" not in frame.columns:
        raise SummaryError(
            f"{path}: not flattened `stance analyze` output (needs 'actor' and 'stance' columns; has "
            f"{list(frame.columns)[:12]})"
        )
    frame = frame.assign(**{WHERE: [f"{path} row {i + 1}" for i in range(len(frame))]})
    frame = frame[frame["actor"].notna() & frame["stance"].notna()].reset_index(drop=True)
    probability_columns = [c for c in frame.columns if str(c).startswith("stance_p_")]
    if not probability_columns:
        raise SummaryError(f"{path}: no stance probability columns (stance_p_*); expected stance analyze output")
    for column in probability_columns:
        numbers = pd.to_numeric(frame[column], errors="coerce")
        bad = numbers.isna() & frame[column].notna()
        if bad.any():
            first = bad.idxmax()
            got = short_repr(frame.at[first, column])
            raise SummaryError(f"{frame.at[first, WHERE]}: column {column}: expected a number, got {got}")
        frame[column] = numbers.astype("float64")
    unscored = frame[probability_columns].isna().all(axis=1)
    if unscored.any():
        first = unscored.idxmax()
        raise SummaryError(f"{frame.at[first, WHERE]}: stance {frame.at[first, 'stance']!r} has no stance_p_* values")
    if "mentioned" in frame.columns:
        frame["mentioned"] = [_flag(v, where) for v, where in zip(frame["mentioned"], frame[WHERE], strict=True)]
    else:
        frame["mentioned"] = True
    documents = frame["id"] if "id" in frame.columns else frame[WHERE]
    frame[DOC] = documents.astype("string").fillna(frame[WHERE])
    return frame, []


def _flag(value: Any, where: str) -> bool:
    if is_missing(value):
        return True
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("true", "1", "yes"):
            return True
        if text in ("false", "0", "no"):
            return False
    elif (isinstance(value, (bool, int, float)) or hasattr(value, "dtype")) and value in (0, 1):
        return bool(value)
    raise SummaryError(f"{where}: column mentioned: expected True or False, got {short_repr(value)}")


def is_missing(value: Any) -> bool:
    """None, NaN, NA or NaT: a field without a value (text, lists and objects never count as missing)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(isinstance(value, float) and math.isnan(value)) or (
            not isinstance(value, (str, bytes, list, dict, tuple)) and bool(pd.isna(value))
        )
    except (TypeError, ValueError):
        return False
