"""Where a run keeps its checkpoints (``<output_dir>.checkpoints``) and what ``--resume`` continues from.

The settings that shape training are saved beside the checkpoints (``train_config.json``); a resumed run whose
settings differ is refused. Which checkpoint is complete enough to continue from is `training.checkpoints`' call.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

from training.checkpoints import newest_complete
from training.config import ConfigError, TrainConfig

log = logging.getLogger("stance.train")
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
    if start_from is None:
        shutil.rmtree(work, ignore_errors=True)
    return start_from


def start_checkpoints(config: TrainConfig) -> Path:
    """Create the checkpoints folder with the settings a resume is checked against; returns the folder."""
    work = checkpoints_dir(config.output_dir)
    work.mkdir(parents=True, exist_ok=True)
    (work / SETTINGS_FILE).write_text(json.dumps(_fingerprint(config), indent=2))
    return work
