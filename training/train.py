"""`stance train`: one fine-tuning run, or a soup of runs (`training.soup`), ending in a model directory.

A run reads as four stages, each with its module:
    prepare  the tasks, input format and checked data, from a base model or a model (`training.init_from`)
    build    the network and the datasets (`training.layers`, `training.examples`)
    fit      the Hugging Face Trainer (`training.trainer`), resumable from checkpoints (`training.checkpoints`)
    export   the model directory with its dev metrics and calibration (`training.export`)
Nothing is built or written when the settings or the data have problems.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch
from transformers import AutoTokenizer, set_seed

from model.base import resolve_base_model
from model.formatting import InputEncoder, InputFormat, add_marker_tokens
from model.model_dir import ModelProject, check_output_path, network_from_base, read_project
from model.network import StanceNetwork
from model.predictor import StancePredictor
from model.types import TaskSpec
from training import processes
from training.calibrate import fit_calibration
from training.checkpoints import checkpoints_dir, resume_point, start_checkpoints
from training.config import ConfigError, TrainConfig
from training.data import fingerprint as data_fingerprint
from training.data import load_evaluation_data, load_training_data
from training.distill import load_soft_labels
from training.evaluate import evaluate_rows
from training.examples import (
    build_examples,
    class_weights,
    read_by_selection,
    repeat_rows,
    stratified_split,
    to_dataset,
)
from training.export import write_model_dir
from training.init_from import effective_settings, init_format, init_labels_note, init_tasks, load_init_network
from training.layers import freeze_bottom_layers, reinit_top_layers
from training.rows import DataValidationError, LabelledRow, LoadedData
from training.soup import train_soup
from training.trainer import Fitted, build_trainer, fit

log = logging.getLogger("stance.train")


def train(config: TrainConfig, resume: bool = False, callbacks: list | None = None) -> Path:
    """Train a model as configured, one run or a soup of runs (``soup_seeds``); returns the model directory.
    Raises on invalid settings or data before any training.

    ``callbacks`` are extra `transformers.TrainerCallback`s (progress reporting, tests).
    """
    config.validate()
    processes.batch_per_process(config.batch_size)  # refused before anything loads when it cannot be shared
    # Before anything is loaded or written: a file or a folder of other things at the output path is refused, not
    # deleted when the finished model replaces it.
    check_output_path(config.output_dir)
    processes.join()
    processes.quiet_replicas()
    if config.soup_seeds:
        return train_soup(config, train, resume=resume, callbacks=callbacks)
    return _train_run(config, resume, callbacks)


def _train_run(config: TrainConfig, resume: bool, callbacks: list | None) -> Path:
    """One fine-tuning run: prepare -> build -> fit -> export."""
    started = time.monotonic()
    if config.threads:
        torch.set_num_threads(processes.cpu_threads(config.threads))
    run = prepare(config)
    start_from = resume_point(config, resume)
    built = build(config, run)
    # Created only now, so that a setting found wrong while the network and data were prepared leaves nothing behind.
    work = start_checkpoints(config)
    pad_id = built.tokenizer.pad_token_id or 0
    setup = build_trainer(
        config, built.network, run.tasks, pad_id, built.train_set, built.dev_set, work, start_from, callbacks
    )
    log.info(
        "training on %d examples (%d rows), dev %d examples (%d read for checkpoint selection); %d steps; "
        "bf16=%s; device=%s",
        len(built.train_set),
        len(run.train_rows),
        built.dev_examples,
        built.selecting,
        setup.schedule.total_steps,
        setup.bf16,
        setup.trainer.args.device,
    )
    fitted = fit(setup, start_from)
    return export(config, run, built, fitted, started)


@dataclass(frozen=True)
class Prepared:
    """What a run trains: its tasks and input format, what it starts from, and the checked data."""

    tasks: list[TaskSpec]
    fmt: InputFormat
    pooling: str
    base_name: str
    init_project: ModelProject | None  # the model of ``init_from``; its weights are loaded by `build`
    train_data: LoadedData
    dev_data: LoadedData
    train_rows: list[LabelledRow]
    dev_rows: list[LabelledRow]


FEW_TRAIN_ROWS = 200  # below this, a fine-tune often loses more than it learns (docs/labelling.md)
FEW_DEV_ROWS = 50  # below this, the dev score that keeps a checkpoint is mostly noise


def warn_about_size(train_rows: int, dev_rows: int, dev_files: bool, dev_fraction: float) -> None:
    """Warnings for a run whose data is too small to trust: few training rows, no dev set, or a tiny one."""
    if train_rows < FEW_TRAIN_ROWS:
        log.warning(
            "only %d training rows: a model fine-tuned on so few can lose more than it learns; label more "
            "(docs/labelling.md) and check it with `stance compare` on a labelled test set before using it",
            train_rows,
        )
    if not dev_files:
        log.warning(
            "no --dev-files: %d of the training rows (dev_fraction %s) are held out to choose the checkpoint; give a "
            "dev set labelled apart from training (from other articles) instead",
            dev_rows, dev_fraction,
        )  # fmt: skip
    elif dev_rows < FEW_DEV_ROWS:
        log.warning("a dev set of %d rows: choosing a checkpoint on so few is mostly noise", dev_rows)


def prepare(config: TrainConfig) -> Prepared:
    """The tasks, input format and data of a run; raises `DataValidationError` listing every problem in the data."""
    init_project = None
    if config.init_from:
        init_project = read_project(config.init_from)  # the weights are loaded once the data has been checked
        tasks = init_tasks(config, init_project)
        fmt, pooling = init_format(config, init_project), init_project.pooling
        base_name = init_project.base_model
    else:
        tasks = config.task_specs()
        fmt = config.input_format()
        pooling = config.pooling
        base_name = config.base_model

    # Data first: nothing is built or written when the data has problems.
    try:
        if config.dev_files:
            train_data, dev_data = load_training_data(config.train_files, config.dev_files, tasks)
            train_rows, dev_rows = train_data.rows, dev_data.rows
        else:
            train_data, _ = load_training_data(config.train_files, [], tasks)
            train_rows, dev_rows = stratified_split(train_data.rows, config.dev_fraction, config.seed)
            dev_data = LoadedData(rows=dev_rows)
    except DataValidationError as exc:
        if init_project is None or not any(p.message.startswith("unknown ") for p in exc.problems):
            raise
        raise DataValidationError(exc.problems, note=init_labels_note(config, init_project)) from None
    for name, data in (("train", train_data), ("dev", dev_data)):
        if data.left_out:
            log.warning("%s: rows left out: %s", name, dict(data.left_out))
    warn_about_size(len(train_rows), len(dev_rows), bool(config.dev_files), config.dev_fraction)
    return Prepared(tasks, fmt, pooling, base_name, init_project, train_data, dev_data, train_rows, dev_rows)


@dataclass(frozen=True)
class Built:
    """The network to fine-tune, its tokenizer, and the datasets of token ids."""

    network: StanceNetwork
    tokenizer: Any
    train_set: Any  # a `datasets.Dataset`
    dev_set: Any | None  # the dev examples the selection score reads; None: none
    dev_examples: int
    selecting: int  # of the dev examples, those in dev_set


def build(config: TrainConfig, run: Prepared) -> Built:
    """The network (new heads on a base model, or the ``init_from`` model) and the training and dev datasets."""
    # The new weights (heads, marker tokens) are drawn from `init_seed`; the Trainer then seeds data order and
    # dropout from `seed` again.
    set_seed(config.seed if config.init_seed < 0 else config.init_seed)
    if run.init_project is not None:
        network, tokenizer, _ = load_init_network(config, run.tasks)
    else:
        resolved = resolve_base_model(run.base_name)
        tokenizer = AutoTokenizer.from_pretrained(resolved, trust_remote_code=False)
        add_marker_tokens(tokenizer, run.fmt)
        network = network_from_base(resolved, run.tasks, run.fmt, run.pooling, tokenizer, dropout=config.dropout)
        # Drawn again after the seed so that the heads do not depend on how the encoder was loaded or resized
        # (kept: the published default model was trained with this sequence of random draws).
        network.reset_head_weights()
        reinit_top_layers(network.encoder, config.reinit_layers)
    if config.frozen_layers:
        frozen = freeze_bottom_layers(network.encoder, config.frozen_layers)
        log.info("frozen: the %d lowest encoder layers (embeddings included), %d parameters",
                 config.frozen_layers, frozen)  # fmt: skip
    network.train()
    encoder = InputEncoder(tokenizer, run.fmt)

    tasks = run.tasks
    soft = load_soft_labels(config.soft_labels, tasks) if config.soft_labels else None
    train_examples = build_examples(repeat_rows(run.train_rows, run.train_data.files), tasks, soft)
    if soft is not None:
        taught = sum(1 for e in train_examples if e.soft)
        log.info("soft labels for %d of %d training examples (distill weight %s, temperature %s)", taught,
                 len(train_examples), config.distill_weight, config.distill_temperature)  # fmt: skip
        if not taught:
            raise ConfigError("soft_labels: no training row has soft labels (were they written for these files?)")
    dev_examples = build_examples(run.dev_rows, tasks)
    if config.class_weighting == "balanced":
        network.set_class_weights(class_weights(train_examples, tasks))
    network.label_smoothing = config.label_smoothing
    network.distill_weight, network.distill_temperature = config.distill_weight, config.distill_temperature
    train_set = to_dataset(train_examples, encoder, tasks)
    # The dev evaluations during training only pick checkpoints, so they read only the examples the selection
    # score uses (all dev rows are scored in full precision once training is done).
    selecting = [e for e in dev_examples if read_by_selection(e, config.select_on)]
    dev_set = to_dataset(selecting, encoder, tasks) if selecting else None
    return Built(network, tokenizer, train_set, dev_set, len(dev_examples), len(selecting))


def export(config: TrainConfig, run: Prepared, built: Built, fitted: Fitted, started: float) -> Path:
    """Calibrate (``calibration_files``), score the trained network on every dev row, write the model directory: on
    the main process, once; the others wait until it is written (`training.processes`)."""
    if processes.is_main():
        _export(config, run, built, fitted, started)
    processes.wait()
    return Path(config.output_dir)


def _export(config: TrainConfig, run: Prepared, built: Built, fitted: Fitted, started: float) -> Path:
    network = fitted.network
    network.eval()
    init = run.init_project
    project = ModelProject(
        tasks=run.tasks,
        input_format=run.fmt,
        pooling=run.pooling,
        base_model=run.base_name,
        training_data=[{"split": "train", **f} for f in run.train_data.files]
        + [{"split": "dev", **f} for f in run.dev_data.files]
        + [{"split": "soft_labels", **data_fingerprint(f)} for f in config.soft_labels],
        training_config={
            **config.to_dict(),
            **(effective_settings(run.tasks, run.fmt, run.pooling, run.base_name) if init else {}),
            "init_from_model": init.weights_sha256 if init else None,
        },
        created=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    predictor = StancePredictor(network, built.tokenizer, project, device=fitted.device)
    if config.calibration_files:
        calibration_rows = load_evaluation_data(config.calibration_files, run.tasks).rows
        project.calibration = fit_calibration(
            predictor, calibration_rows, bias=config.prior_correction, files=config.calibration_files,
            batch_size=config.eval_batch_size,
        )  # fmt: skip
        log.info("calibration: %s", {k: v.to_dict() for k, v in project.calibration.items()})
    dev_rows = run.dev_rows
    dev_metrics = evaluate_rows(predictor, dev_rows, batch_size=config.eval_batch_size)[0] if dev_rows else {}
    project.metrics = {
        "dev": dev_metrics,
        "training": {
            "seconds": round(time.monotonic() - started, 1),
            "steps": fitted.steps,
            "train_examples": len(built.train_set),
            "train_rows": len(run.train_rows),
            "dev_rows": len(dev_rows),
            "label_counts": run.train_data.label_counts(),
            "device": fitted.device,
            "torch_threads": torch.get_num_threads(),
            "bf16": fitted.bf16,
            **_processes_note(config),
            "best_checkpoint": fitted.best_checkpoint,
            **({"weights": fitted.weights_kept} if fitted.weights_kept else {}),
        },
    }
    network.to("cpu")
    return write_model_dir(config.output_dir, network, built.tokenizer, project, checkpoints_dir(config.output_dir))


def _processes_note(config: TrainConfig) -> dict[str, int]:
    """How a run on several processes shared its batches (nothing for one process: its metrics stay as they were)."""
    if processes.count() == 1:
        return {}
    return {"processes": processes.count(), "batch_size_per_process": processes.batch_per_process(config.batch_size)}
