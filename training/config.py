"""Training configuration: a dataclass whose fields carry their help text and allowed values, read from a YAML/JSON
file (`training.config_file`) and overridable from the command line (`training.config_fields`)."""

from __future__ import annotations

import argparse
import dataclasses
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, get_args

from model.types import POOLINGS, InputKind, TaskSpec
from training.config_fields import (
    ConfigError,
    DataFile,
    Setting,
    add_setting_arguments,
    setting,
    settings_of,
)
from training.config_file import read_config_file

if TYPE_CHECKING:
    from model.formatting import InputFormat

DEFAULT_TASKS: dict[str, dict[str, Any]] = {
    "stance": {"labels": ["against", "neutral", "favor"], "input": "pair"},
    "sentiment": {"labels": ["negative", "neutral", "positive"], "input": "sentence"},
}


@dataclass
class TrainConfig:
    """Everything `stance train` needs; every field can be set in the config file or as ``--field-name``.

    The training settings' defaults are the default model's measured recipe; ``configs/default.yaml`` adds its data
    (files, soft labels, dev and calibration sets, tasks)."""

    train_files: list[DataFile] = setting(
        [],
        "labelled training files (JSONL/CSV/Parquet); an entry may be {path, max_rows, repeat, target_repeat}",
        paths=True,
    )
    dev_files: list[DataFile] = setting(
        [], "labelled dev files for early stopping; empty: a stratified split of the training data", paths=True
    )
    output_dir: str = setting(
        "models/custom",
        "where the model directory is written (atomically, when training ends)",
        flags=("--output",),
        paths=True,
    )
    base_model: str = setting(
        "default", "base encoder: 'default' (embedded all-MiniLM-L6-v2), a local directory or hub id"
    )
    init_from: str | None = setting(None, "start from an earlier fine-tuned model directory (its tasks and labels)")
    tasks: dict[str, dict[str, Any] | list[str]] = setting(
        DEFAULT_TASKS,
        "task name -> {labels: [...], input: pair|sentence}, or task -> [labels]",
        expected="a mapping of task name -> labels (e.g. {stance: [against, neutral, favor]}; to train only some "
        "of the configured tasks, use only_tasks)",
    )
    only_tasks: list[str] = setting([], "train only these of the configured tasks; empty: all")
    dev_fraction: float = setting(
        0.1, "share of training rows held out as dev when no dev file is given", above=0, below=1
    )
    epochs: float = setting(4.0, "training epochs")
    max_steps: int = setting(-1, "stop after this many optimiser steps (overrides epochs; for smoke tests)")
    learning_rate: float = setting(
        5.7e-5, "peak learning rate (AdamW) of the task heads and the top encoder layer (lower layers: layer_lr_decay)"
    )
    weight_decay: float = setting(0.01, "AdamW weight decay")
    warmup_ratio: float = setting(0.06, "share of steps for linear warm-up, then linear decay")
    batch_size: int = setting(16, "training batch size", at_least=1)
    group_by_length: bool = setting(True, "batch inputs of similar length together (less padding, faster on CPU)")
    eval_batch_size: int = setting(64, "evaluation batch size", at_least=1)
    max_length: int = setting(
        128,
        "maximum input tokens; longer sentences are windowed around the mention (with init_from it replaces the "
        "model's)",
        at_least=16,
    )
    pooling: str = setting(
        "mean+marker",
        "how pair tasks read the encoder: mean and the mention's start marker, mean and both markers, mean, or "
        "the first token",
        choices=POOLINGS,
    )
    mention_markers: bool = setting(True, "wrap mentions in [E] ... [/E] marker tokens")
    target_segment: bool = setting(True, "give the target as a second input segment")
    dropout: float = setting(0.1, "dropout before each task head")
    class_weighting: Literal["none", "balanced"] = setting(
        "none", "balanced: weight each label's loss by inverse frequency"
    )
    label_smoothing: float = setting(
        0.0, "label smoothing of the training loss (0: off; e.g. 0.1)", at_least=0, below=1
    )
    layer_lr_decay: float = setting(
        0.8,
        "layer-wise learning-rate decay: the task heads and the top encoder layer train at learning_rate, each "
        "layer below at this factor times the one above, the embeddings last (1: one rate for all)",
        above=0,
        at_most=1,
    )
    head_lr_scale: float = setting(
        1.0,
        "learning-rate factor for the task heads relative to learning_rate (e.g. 10: the heads learn faster)",
        above=0,
        at_most=1000,
    )
    reinit_layers: int = setting(
        0,
        "re-initialise the top N encoder layers before fine-tuning (their pre-trained weights suit the pre-training "
        "objective; 0: keep every layer)",
        at_least=0,
    )
    frozen_layers: int = setting(
        0,
        "keep the N lowest encoder layers fixed, the embeddings counting as the lowest (1: the embeddings; 3: "
        "the embeddings and the two lowest transformer layers); their backward pass is skipped, so steps are "
        "faster (0: train every layer)",
        at_least=0,
    )
    soft_labels: list[str] = setting(
        [],
        "soft-label files (stance soft-labels; a teacher's probabilities per training row) to distil from",
        paths=True,
    )
    distill_weight: float = setting(
        0.0,
        "share of each task's loss on rows with soft labels that comes from the teacher's probabilities (KL "
        "divergence); the rest comes from the gold label (0: off)",
        at_least=0,
        at_most=1,
    )
    distill_temperature: float = setting(
        2.0, "softmax temperature for distillation (teacher and student alike)", above=0, at_most=100
    )
    calibration_files: list[str] = setting(
        [],
        "labelled dev files to fit each task's temperature, and the stance prior correction, on after training "
        "(stored in the model directory, applied at prediction; `stance calibrate`); empty: no calibration",
        paths=True,
    )
    prior_correction: Literal["off", "auto", "on"] = setting(
        "auto",
        "stance prior correction fitted with the calibration: auto keeps it only if it wins under cross-validation "
        "on the calibration files",
    )
    early_stopping_patience: int = setting(
        0, "stop after this many evaluations without dev improvement (0: off; the best dev checkpoint is kept)"
    )
    select_on: str = setting("mean", "checkpoint selection: a task's dev macro-F1, or 'mean' over tasks")
    evals_per_epoch: int = setting(2, "dev evaluations (and checkpoints) per epoch", at_least=1)
    ema_decays: list[float] = setting(
        [], "keep exponential moving averages of the weights with these decays (e.g. 0.999)", above=0, below=1
    )
    swa_from: float = setting(
        0.0, "average the weights at each dev evaluation from this share of training on (0: off)", at_least=0, below=1
    )
    swa_lr: float = setting(
        0.0,
        "cyclical SWA: from swa_from on, restart the learning rate at this share of the peak after each dev "
        "evaluation and decay it linearly to zero by the next (0: one linear decay over the whole run)",
        at_least=0,
        at_most=1,
    )
    soup_seeds: list[int] = setting(
        [],
        "train one run per seed (each with all the other settings) and average their weights, greedily on dev "
        "(a model soup); empty: one run with `seed`",
    )
    soup_parallel: bool = setting(
        True, "train the soup's runs at the same time in separate processes, sharing the CPU threads between them"
    )
    bf16: Literal["auto", "true", "false"] = setting(
        "auto", "bfloat16 autocast; auto: on where the hardware supports it"
    )
    seed: int = setting(42, "random seed (data order, dropout, initialisation, dev split)")
    init_seed: int = setting(
        -1,
        "seed for the new weights only (task heads, added marker tokens); -1: `seed`. A soup's runs all start "
        "from the first soup seed's, so that they differ only in data order and dropout",
    )
    threads: int = setting(0, "CPU threads for torch (0: torch's default)")
    progress: bool = setting(True, "show a progress bar with ETA")

    def __post_init__(self) -> None:
        self.check_types()

    @classmethod
    def settings(cls) -> dict[str, Setting]:
        """Each field's type, help, range and choices (`training.config_fields.Setting`)."""
        return settings_of(cls)

    def check_types(self) -> None:
        """Convert every field to its declared type (``"3e-5"`` to a number, a single path to a list of one), or
        raise `ConfigError` naming the field, the value and the type expected."""
        for name, s in self.settings().items():
            setattr(self, name, s.coerce(getattr(self, name)))

    def task_specs(self, apply_only_tasks: bool = True) -> list[TaskSpec]:
        """The configured tasks (only those of ``only_tasks`` when given), checked."""
        inputs = get_args(InputKind)
        specs = []
        for name, value in self.tasks.items():
            if isinstance(value, list):
                value = {"labels": value}
            if not isinstance(value, dict) or "labels" not in value:
                raise ConfigError(
                    f"tasks.{name}: expected a list of labels or {{labels: [...], input: ...}}, got {value!r}"
                )
            if not isinstance(value["labels"], list):
                raise ConfigError(f"tasks.{name}.labels: expected a list of labels, got {value['labels']!r}")
            labels = [str(v) for v in value["labels"]]
            kind = value.get("input", DEFAULT_TASKS.get(name, {}).get("input", "pair"))
            if kind not in inputs:
                raise ConfigError(f"tasks.{name}.input: must be {' or '.join(map(repr, inputs))}, not {kind!r}")
            if len(labels) < 2 or len(set(labels)) != len(labels):
                raise ConfigError(f"tasks.{name}.labels: need two or more distinct labels, got {labels}")
            specs.append(TaskSpec(name=name, labels=tuple(labels), input=kind))
        if self.only_tasks and apply_only_tasks:
            unknown = set(self.only_tasks) - {s.name for s in specs}
            if unknown:
                raise ConfigError(f"only_tasks: {sorted(unknown)} not among the configured tasks {list(self.tasks)}")
            specs = [s for s in specs if s.name in self.only_tasks]
        if not specs:
            raise ConfigError("no tasks configured")
        return specs

    def input_format(self) -> InputFormat:
        """The `model.formatting.InputFormat` these settings describe (for a model trained from a base encoder)."""
        from model.formatting import InputFormat  # imports torch; the CLI reads configs without it

        return InputFormat(
            mention_markers=self.mention_markers, target_segment=self.target_segment, max_length=self.max_length
        )

    def validate(self) -> None:
        """`ConfigError` for the first setting that is of the wrong type, outside its range or choices, or that
        does not fit with another."""
        self.check_types()  # again: a field may have been set after the config was made
        # With init_from the tasks are the model's; `training.init_from` checks only_tasks against them.
        self.task_specs(apply_only_tasks=not self.init_from)
        if not self.train_files:
            raise ConfigError("train_files: at least one training file is required")
        for name, s in self.settings().items():
            s.check(getattr(self, name))
        # What one setting needs of another.
        if self.swa_lr > 0 and self.swa_from <= 0:
            raise ConfigError("swa_lr: needs swa_from (the share of training after which the cycles start)")
        if self.reinit_layers and self.init_from:
            raise ConfigError("reinit_layers: only for a new model from the base encoder, not with init_from")
        if self.distill_weight > 0 and not self.soft_labels:
            raise ConfigError("distill_weight: needs soft_labels (files written by `stance soft-labels`)")
        if self.soft_labels and self.distill_weight <= 0:
            raise ConfigError("soft_labels: set distill_weight above 0 to use them")
        if self.soup_seeds:
            if len(self.soup_seeds) < 2 or len(set(self.soup_seeds)) != len(self.soup_seeds):
                raise ConfigError(f"soup_seeds: give two or more distinct seeds, not {self.soup_seeds!r}")
            if not self.dev_files:
                raise ConfigError(
                    "soup_seeds: needs dev_files, so that every run and every average is scored on the same dev data"
                )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def load_config_file(path: str | os.PathLike) -> dict[str, Any]:
    """The settings of a `TrainConfig` YAML/JSON file, with the files it extends (``extends:``) resolved, each value
    converted to its setting's type and data paths made relative to the file that names them."""
    return read_config_file(path, TrainConfig.settings())


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """One ``--field-name`` option per `TrainConfig` field (choices, ranges and defaults in its help), all defaulting
    to 'not given'."""
    add_setting_arguments(parser, TrainConfig.settings())


def build_config(file: str | None, args: argparse.Namespace | None = None) -> TrainConfig:
    """Defaults, then the config file, then command-line overrides; validated."""
    values: dict[str, Any] = load_config_file(file) if file else {}
    if args is not None:
        for name in TrainConfig.settings():
            value = getattr(args, name, None)
            if value is not None:
                values[name] = value
    config = TrainConfig(**values)
    config.validate()
    return config
