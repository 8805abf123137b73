"""Checkpoints: where a run keeps them (``<output_dir>.checkpoints``), which one is complete, and what ``--resume``
continues from.

The settings that shape training are saved beside the checkpoints (``train_config.json``); a resumed run whose
settings differ is refused. A run killed while the Trainer writes ``checkpoint-N`` leaves a folder with cut-off
files (``optimizer.pt`` half written, no ``trainer_state.json``). `MarkComplete` writes ``COMPLETE`` into each
checkpoint once the Trainer has finished saving it (``on_save`` comes after the save); `newest_complete` skips
folders without it, saying why, so ``--resume`` starts from the last checkpoint that was fully written. Checkpoints
from before the marker existed are judged by their files: every one the Trainer writes is there and
``optimizer.pt`` is a whole zip archive.
"""

from __future__ import annotations

import json
import logging
import shutil
import zipfile
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from training import processes
from training.config import ConfigError, TrainConfig

log = logging.getLogger("stance.train")
MARKER = "COMPLETE"
REQUIRED = ("trainer_state.json", "optimizer.pt", "scheduler.pt")


class MarkComplete(TrainerCallback):
    """Marks each checkpoint complete once the Trainer has saved it (put first, before callbacks that may stop)."""

    def on_save(self, args, state, control, **kwargs):
        # On several processes each one saves its own random state into the checkpoint: marked once all have.
        processes.wait()
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


SETTINGS_FILE = "train_config.json"
RESUME_FIELDS = (
    "train_files",
    "dev_files",
    "base_model",
    "init_from",
    "tasks",
    "only_tasks",
    "max_length",
    "pooling",
    "batch_size",
    "seed",
    "init_seed",
    "epochs",
    "max_steps",
    "learning_rate",
    "evals_per_epoch",
    "ema_decays",
    "swa_from",
    "swa_lr",
    "label_smoothing",
    "layer_lr_decay",
    "head_lr_scale",
    "reinit_layers",
    "frozen_layers",
    "soft_labels",
    "distill_weight",
    "distill_temperature",
)


def checkpoints_dir(output_dir: str) -> Path:
    """The folder of a run's checkpoints, beside its output directory; removed once the model is written."""
    path = Path(output_dir)
    return path.with_name(path.name + ".checkpoints")


def _fingerprint(config: TrainConfig) -> dict[str, Any]:
    settings = config.to_dict()
    return {k: settings[k] for k in RESUME_FIELDS}


def resume_point(config: TrainConfig, resume: bool) -> Path | None:
    """The checkpoint the run continues from, or None: it starts from the beginning and earlier checkpoints are
    removed. Raises `ConfigError` when a resumed run's settings differ from the interrupted run's."""
    work = checkpoints_dir(config.output_dir)
    start_from: Path | None = None
    if resume:
        # A run killed before its first complete checkpoint has nothing to continue: it starts again, and says why.
        saved = work / SETTINGS_FILE
        start_from, skipped = newest_complete(work) if work.is_dir() else (None, [])
        for folder, reason in skipped:
            log.warning("--resume: skipping %s: %s", folder.name, reason)
        if start_from is None or not saved.is_file():
            why = "; ".join(f"{f.name}: {r}" for f, r in skipped) or "the run ended before its first checkpoint"
            log.warning("--resume: nothing to resume from in %s (%s): starting from the beginning", work, why)
            start_from = None
        else:
            log.info("--resume: continuing from %s", start_from.name)
            before = json.loads(saved.read_text())
            fingerprint = _fingerprint(config)
            changed = sorted(k for k in RESUME_FIELDS if before.get(k) != fingerprint[k])
            if changed:
                raise ConfigError(f"--resume: settings differ from the interrupted run: {changed}")
    processes.wait()  # every process has chosen before the main one removes what they read
    if start_from is None and processes.is_main():
        shutil.rmtree(work, ignore_errors=True)
    return start_from


def start_checkpoints(config: TrainConfig) -> Path:
    """Create the checkpoints folder with the settings a resume is checked against (the main process; the others
    wait for it); returns the folder."""
    work = checkpoints_dir(config.output_dir)
    if processes.is_main():
        work.mkdir(parents=True, exist_ok=True)
        (work / SETTINGS_FILE).write_text(json.dumps(_fingerprint(config), indent=2))
    processes.wait()
    return work
