"""Training configuration: a dataclass with help text, read from YAML/JSON and overridable from the command line."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from model.types import POOLINGS, TaskSpec

if TYPE_CHECKING:
    from model.formatting import InputFormat

DEFAULT_TASKS: dict[str, dict[str, Any]] = {
    "stance": {"labels": ["against", "neutral", "favor"], "input": "pair"},
    "sentiment": {"labels": ["negative", "neutral", "positive"], "input": "sentence"},
}


class ConfigError(ValueError):
    """A configuration file or override that cannot be used."""


def _f(default: Any, help: str, **kw: Any) -> Any:
    if isinstance(default, (list, dict)):
        frozen = json.dumps(default)  # each config gets its own copy of a list or dict default

        def fresh() -> Any:
            return json.loads(frozen)

        return field(default_factory=fresh, metadata={"help": help, **kw})
    return field(default=default, metadata={"help": help, **kw})


@dataclass
class TrainConfig:
    """Everything `stance train` needs; every field can be set in the config file or as ``--field-name``."""

    train_files: list = _f([], "labelled training files (JSONL/CSV/Parquet); an entry may be {path, max_rows}")
    dev_files: list = _f([], "labelled dev files for early stopping; empty: a stratified split of the training data")
    output_dir: str = _f("models/custom", "where the model directory is written (atomically, when training ends)")
    base_model: str = _f("default", "base encoder: 'default' (embedded all-MiniLM-L6-v2), a local directory or hub id")
    init_from: str | None = _f(None, "start from an earlier fine-tuned model directory (its tasks and labels)")
    tasks: dict = _f(DEFAULT_TASKS, "task name -> {labels: [...], input: pair|sentence}, or task -> [labels]")
    only_tasks: list = _f([], "train only these of the configured tasks (default: all)")
    dev_fraction: float = _f(0.1, "share of training rows held out as dev when no dev file is given")
    epochs: float = _f(4.0, "training epochs")
    max_steps: int = _f(-1, "stop after this many optimiser steps (overrides epochs; for smoke tests)")
    learning_rate: float = _f(5e-5, "peak learning rate (AdamW)")
    weight_decay: float = _f(0.01, "AdamW weight decay")
    warmup_ratio: float = _f(0.06, "share of steps for linear warm-up, then linear decay")
    batch_size: int = _f(32, "training batch size")
    group_by_length: bool = _f(True, "batch inputs of similar length together (less padding, faster on CPU)")
    eval_batch_size: int = _f(64, "evaluation batch size")
    max_length: int = _f(128, "maximum input tokens; longer sentences are windowed around the mention")
    pooling: str = _f("mean+marker", "mean+marker | mean+markers (start and end markers) | mean | cls")
    mention_markers: bool = _f(True, "wrap mentions in [E] ... [/E] marker tokens")
    target_segment: bool = _f(True, "give the target as a second input segment")
    dropout: float = _f(0.1, "dropout before each task head")
    class_weighting: str = _f("none", "none | balanced: weight each label's loss by inverse frequency")
    label_smoothing: float = _f(0.0, "label smoothing of the training loss (0: off; e.g. 0.1)")
    layer_lr_decay: float = _f(
        1.0,
        "layer-wise learning-rate decay: the task heads and the top encoder layer train at learning_rate, each "
        "layer below at this factor times the one above, the embeddings last (1: one rate for all)",
    )
    head_lr_scale: float = _f(
        1.0, "learning-rate factor for the task heads relative to learning_rate (e.g. 10: the heads learn faster)"
    )
    reinit_layers: int = _f(
        0,
        "re-initialise the top N encoder layers before fine-tuning (their pre-trained weights suit the pre-training "
        "objective; 0: keep every layer)",
    )
    frozen_layers: int = _f(
        0,
        "keep the N lowest encoder layers fixed, the embeddings counting as the lowest (1: the embeddings; 3: "
        "the embeddings and the two lowest transformer layers); their backward pass is skipped, so steps are "
        "faster (0: train every layer)",
    )
    soft_labels: list = _f(
        [], "soft-label files (stance soft-labels; a teacher's probabilities per training row) to distil from"
    )
    distill_weight: float = _f(
        0.0,
        "share of each task's loss on rows with soft labels that comes from the teacher's probabilities (KL "
        "divergence); the rest comes from the gold label (0: off)",
    )
    distill_temperature: float = _f(1.0, "softmax temperature for distillation (teacher and student alike)")
    early_stopping_patience: int = _f(2, "stop after this many evaluations without dev improvement (0: off)")
    select_on: str = _f("mean", "checkpoint selection: a task's dev macro-F1, or 'mean' over tasks")
    evals_per_epoch: int = _f(1, "dev evaluations (and checkpoints) per epoch")
    ema_decays: list = _f([], "keep exponential moving averages of the weights with these decays (e.g. 0.999)")
    swa_from: float = _f(0.0, "average the weights at each dev evaluation from this share of training on (0: off)")
    swa_lr: float = _f(
        0.0,
        "cyclical SWA: from swa_from on, restart the learning rate at this share of the peak after each dev "
        "evaluation and decay it linearly to zero by the next (0: one linear decay over the whole run)",
    )
    soup_seeds: list = _f(
        [],
        "train one run per seed (each with all the other settings) and average their weights, greedily on dev "
        "(a model soup); empty: one run with `seed`",
    )
    soup_parallel: bool = _f(
        True, "train the soup's runs at the same time in separate processes, sharing the CPU threads between them"
    )
    bf16: str = _f("auto", "bfloat16 autocast: auto (on where the hardware supports it) | true | false")
    seed: int = _f(42, "random seed (data order, dropout, initialisation, dev split)")
    init_seed: int = _f(
        -1,
        "seed for the new weights only (task heads, added marker tokens); -1: `seed`. A soup's runs all start "
        "from the first soup seed's, so that they differ only in data order and dropout",
    )
    threads: int = _f(0, "CPU threads for torch (0: torch's default)")
    progress: bool = _f(True, "show a progress bar with ETA")

    def task_specs(self) -> list[TaskSpec]:
        specs = []
        for name, value in self.tasks.items():
            if isinstance(value, list):
                value = {"labels": value}
            if not isinstance(value, dict) or "labels" not in value:
                raise ConfigError(f"tasks.{name}: expected a list of labels or {{labels: [...], input: ...}}")
            labels = [str(v) for v in value["labels"]]
            kind = value.get("input", DEFAULT_TASKS.get(name, {}).get("input", "pair"))
            if kind not in ("pair", "sentence"):
                raise ConfigError(f"tasks.{name}.input: must be 'pair' or 'sentence', not {kind!r}")
            if len(labels) < 2 or len(set(labels)) != len(labels):
                raise ConfigError(f"tasks.{name}.labels: need two or more distinct labels, got {labels}")
            specs.append(TaskSpec(name=name, labels=tuple(labels), input=kind))
        if self.only_tasks:
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
        self.task_specs()
        if not self.train_files:
            raise ConfigError("train_files: at least one training file is required")
        if self.pooling not in POOLINGS:
            raise ConfigError(f"pooling: must be one of {', '.join(POOLINGS)}, not {self.pooling!r}")
        if self.class_weighting not in ("none", "balanced"):
            raise ConfigError(f"class_weighting: must be none or balanced, not {self.class_weighting!r}")
        if str(self.bf16).lower() not in ("auto", "true", "false"):
            raise ConfigError(f"bf16: must be auto, true or false, not {self.bf16!r}")
        if not 0 < self.dev_fraction < 1:
            raise ConfigError(f"dev_fraction: must be between 0 and 1, not {self.dev_fraction}")
        for name in ("batch_size", "eval_batch_size", "max_length", "evals_per_epoch"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name}: must be at least 1")
        for decay in self.ema_decays:
            try:
                ok = 0.0 < float(decay) < 1.0
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise ConfigError(f"ema_decays: each decay must be a number between 0 and 1, not {decay!r}")
        if not 0.0 <= self.swa_from < 1.0:
            raise ConfigError(f"swa_from: must be at least 0 and below 1, not {self.swa_from}")
        if not 0.0 <= self.swa_lr <= 1.0:
            raise ConfigError(f"swa_lr: must be between 0 and 1 (a share of the peak learning rate), not {self.swa_lr}")
        if self.swa_lr > 0 and self.swa_from <= 0:
            raise ConfigError("swa_lr: needs swa_from (the share of training after which the cycles start)")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ConfigError(f"label_smoothing: must be at least 0 and below 1, not {self.label_smoothing}")
        if not 0.0 < self.layer_lr_decay <= 1.0:
            raise ConfigError(f"layer_lr_decay: must be above 0 and at most 1, not {self.layer_lr_decay}")
        if not 0.0 < self.head_lr_scale <= 1000.0:
            raise ConfigError(f"head_lr_scale: must be above 0 and at most 1000, not {self.head_lr_scale}")
        if self.reinit_layers < 0:
            raise ConfigError(f"reinit_layers: must be 0 or more, not {self.reinit_layers}")
        if self.reinit_layers and self.init_from:
            raise ConfigError("reinit_layers: only for a new model from the base encoder, not with init_from")
        if self.frozen_layers < 0:
            raise ConfigError(f"frozen_layers: must be 0 or more, not {self.frozen_layers}")
        if not 0.0 <= self.distill_weight <= 1.0:
            raise ConfigError(f"distill_weight: must be between 0 and 1, not {self.distill_weight}")
        if self.distill_weight > 0 and not self.soft_labels:
            raise ConfigError("distill_weight: needs soft_labels (files written by `stance soft-labels`)")
        if self.soft_labels and self.distill_weight <= 0:
            raise ConfigError("soft_labels: set distill_weight above 0 to use them")
        if not 0.0 < self.distill_temperature <= 100.0:
            raise ConfigError(f"distill_temperature: must be above 0 and at most 100, not {self.distill_temperature}")
        if self.max_length < 16:
            raise ConfigError("max_length: must be at least 16")
        if self.soup_seeds:
            try:
                seeds = [int(s) for s in self.soup_seeds]
            except (TypeError, ValueError):
                raise ConfigError(f"soup_seeds: each seed must be an integer, not {self.soup_seeds!r}") from None
            if len(seeds) < 2 or len(set(seeds)) != len(seeds):
                raise ConfigError(f"soup_seeds: give two or more distinct seeds, not {self.soup_seeds!r}")
            if not self.dev_files:
                raise ConfigError(
                    "soup_seeds: needs dev_files, so that every run and every average is scored on the same dev data"
                )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def load_config_file(path: str | os.PathLike) -> dict[str, Any]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from exc
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: not valid {'JSON' if path.suffix == '.json' else 'YAML'} ({exc})") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings")
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {unknown}; see `stance train --help`")
    base = path.parent
    for key in ("train_files", "dev_files", "soft_labels"):
        # Relative data paths in a config file are relative to the file's folder.
        data[key] = [_rebase(entry, base) for entry in data.get(key) or []]
    return data


def _rebase(entry: Any, base: Path) -> Any:
    if isinstance(entry, str):
        return entry if os.path.isabs(entry) else os.path.normpath(base / entry)
    if isinstance(entry, dict) and isinstance(entry.get("path"), str):
        return {**entry, "path": _rebase(entry["path"], base)}
    return entry


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """One ``--field-name`` option per `TrainConfig` field, all defaulting to 'not given'."""
    for f in dataclasses.fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        help_text = f.metadata.get("help", "")
        if f.name == "tasks":
            parser.add_argument(flag, type=json.loads, default=None, help=help_text + " (JSON)")
        elif f.type in ("list",):
            parser.add_argument(flag, nargs="+", default=None, help=help_text)
        elif f.type == "bool":
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=None, help=help_text)
        else:
            kind = {"int": int, "float": float}.get(str(f.type).split(" ")[0], str)
            parser.add_argument(flag, type=kind, default=None, help=help_text)


def build_config(file: str | None, args: argparse.Namespace | None = None) -> TrainConfig:
    """Defaults, then the config file, then command-line overrides; validated."""
    values: dict[str, Any] = load_config_file(file) if file else {}
    if args is not None:
        for f in dataclasses.fields(TrainConfig):
            value = getattr(args, f.name, None)
            if value is not None:
                values[f.name] = value
    config = TrainConfig(**values)
    config.validate()
    return config
