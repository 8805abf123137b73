"""Which checkpoint a resumed run starts from: the newest *complete* one.

A run killed while the Trainer writes ``checkpoint-N`` leaves a folder with cut-off files (``optimizer.pt`` half
written, no ``trainer_state.json``). `MarkComplete` writes ``COMPLETE`` into each checkpoint once the Trainer has
finished saving it (``on_save`` comes after the save); `newest_complete` skips folders without it, saying why, so
``--resume`` starts from the last checkpoint that was fully written. Checkpoints from before the marker existed are
judged by their files: every one the Trainer writes is there and ``optimizer.pt`` is a whole zip archive.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from transformers import TrainerCallback

MARKER = "COMPLETE"
REQUIRED = ("trainer_state.json", "optimizer.pt", "scheduler.pt")


class MarkComplete(TrainerCallback):
    """Marks each checkpoint complete once the Trainer has saved it (put first, before callbacks that may stop)."""

    def on_save(self, args, state, control, **kwargs):
        if args.should_save:
            folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            if folder.is_dir():
                (folder / MARKER).write_text(f"{state.global_step}\n")


def _step(folder: Path) -> int:
    try:
        return int(folder.name.rsplit("-", 1)[1])
    except (IndexError, ValueError):
        return -1


def incomplete_reason(folder: Path) -> str | None:
    """Why ``folder`` cannot be resumed from, or None when it can."""
    if (folder / MARKER).is_file():
        return None
    missing = [name for name in REQUIRED if not (folder / name).is_file()]
    if not any(folder.glob("model*.safetensors")) and not (folder / "pytorch_model.bin").is_file():
        missing.append("model weights")
    if missing:
        return f"not completely written (no {', '.join(missing)}): the run was probably stopped while saving it"
    try:
        with zipfile.ZipFile(folder / "optimizer.pt") as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError) as exc:
        return f"optimizer.pt is cut off or unreadable ({exc})"
    return f"optimizer.pt is damaged ({bad})" if bad else None


def newest_complete(work: Path) -> tuple[Path | None, list[tuple[Path, str]]]:
    """The newest checkpoint under ``work`` that can be resumed from, and the newer ones skipped with the reason."""
    skipped: list[tuple[Path, str]] = []
    for folder in sorted(work.glob("checkpoint-*"), key=_step, reverse=True):
        if not folder.is_dir() or _step(folder) < 0:
            continue
        reason = incomplete_reason(folder)
        if reason is None:
            return folder, skipped
        skipped.append((folder, reason))
    return None, skipped


def stopped_early_at(checkpoint: Path) -> int | None:
    """The step of ``checkpoint`` when early stopping had ended the run there (its saved count of evaluations
    without improvement reached the patience), else None. The Trainer does not save that it was told to stop, so a
    run killed after this last checkpoint (while exporting) would otherwise train on after ``--resume``."""
    try:
        state = json.loads((checkpoint / "trainer_state.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    saved = (state.get("stateful_callbacks") or {}).get("EarlyStoppingCallback")
    for callback in saved if isinstance(saved, list) else [saved]:
        if not isinstance(callback, dict):
            continue
        patience = callback.get("args", {}).get("early_stopping_patience")
        count = callback.get("attributes", {}).get("early_stopping_patience_counter")
        if isinstance(patience, int) and isinstance(count, int) and patience > 0 and count >= patience:
            return int(state.get("global_step", 0)) or None
    return None
