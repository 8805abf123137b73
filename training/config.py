"""Training configuration: a dataclass with help text, read from YAML/JSON and overridable from the command line."""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
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

    train_files: list = _f(
        [], "labelled training files (JSONL/CSV/Parquet); an entry may be {path, max_rows, repeat, target_repeat}"
    )
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
    max_length: int = _f(
        128,
        "maximum input tokens; longer sentences are windowed around the mention (with init_from it replaces the "
        "model's)",
    )
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
    calibration_files: list = _f(
        [],
        "labelled dev files to fit each task's temperature, and the stance prior correction, on after training "
        "(stored in the model directory, applied at prediction; `stance calibrate`); empty: no calibration",
    )
    prior_correction: str = _f(
        "auto",
        "stance prior correction fitted with the calibration: off | auto (kept only if it wins under "
        "cross-validation on the calibration files) | on",
    )
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

    def __post_init__(self) -> None:
        self.check_types()

    def check_types(self) -> None:
        """Convert every field to its declared type (``"3e-5"`` to a number, a single path to a list of one), or
        raise `ConfigError` naming the field, the value and the type expected."""
        for f in dataclasses.fields(self):
            setattr(self, f.name, coerce_setting(f.name, getattr(self, f.name)))

    def task_specs(self, apply_only_tasks: bool = True) -> list[TaskSpec]:
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
            if kind not in ("pair", "sentence"):
                raise ConfigError(f"tasks.{name}.input: must be 'pair' or 'sentence', not {kind!r}")
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
        self.check_types()  # again: a field may have been set after the config was made
        # With init_from the tasks are the model's; `training.train` checks only_tasks against them.
        self.task_specs(apply_only_tasks=not self.init_from)
        if not self.train_files:
            raise ConfigError("train_files: at least one training file is required")
        if self.pooling not in POOLINGS:
            raise ConfigError(f"pooling: must be one of {', '.join(POOLINGS)}, not {self.pooling!r}")
        if self.prior_correction not in ("off", "auto", "on"):
            raise ConfigError(f"prior_correction: must be off, auto or on, not {self.prior_correction!r}")
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


_EXPECTED = {
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "str": "a string",
    "list": "a list",
    "dict": "a mapping",
}
_TRUE, _FALSE = {"true", "yes", "on", "1"}, {"false", "no", "off", "0"}
# What a list setting holds: data files (a path or {path, max_rows, repeat, target_repeat}), paths, names or numbers.
_LIST_ITEMS = {
    "train_files": "file",
    "dev_files": "file",
    "soft_labels": "str",
    "calibration_files": "str",
    "only_tasks": "str",
    "ema_decays": "float",
    "soup_seeds": "int",
}


def _kind(name: str) -> tuple[str, bool]:
    """The declared type of a `TrainConfig` field ('int', 'float', 'bool', 'str', 'list', 'dict') and whether it
    may be None."""
    declared = str(TrainConfig.__dataclass_fields__[name].type)
    parts = [p.strip() for p in declared.split("|")]
    return parts[0], "None" in parts[1:]


def _wrong(name: str, value: Any, kind: str) -> ConfigError:
    shown = f"{value!r} ({type(value).__name__})" if not isinstance(value, str) else repr(value)
    return ConfigError(f"{name}: expected {_EXPECTED.get(kind, kind)}, got {shown}")


def _scalar(name: str, value: Any, kind: str) -> Any:
    if kind == "float":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            number = float(value)
        elif isinstance(value, str):
            try:
                number = float(value.strip())  # YAML reads 3e-5 (no dot) as a string
            except ValueError:
                raise _wrong(name, value, kind) from None
        else:
            raise _wrong(name, value, kind)
        if not math.isfinite(number):
            raise _wrong(name, value, kind)
        return number
    if kind == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                try:
                    value = float(value.strip())
                except ValueError:
                    raise _wrong(name, value, kind) from None
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise _wrong(name, value, kind)
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, (str, int)) and str(value).strip().lower() in _TRUE | _FALSE:
            return str(value).strip().lower() in _TRUE
        raise _wrong(name, value, kind)
    if kind == "str":
        if isinstance(value, str):
            return value
        if isinstance(value, os.PathLike):
            return os.fspath(value)
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return str(value)
        raise _wrong(name, value, kind)
    return value


def as_list(value: Any) -> Any:
    """A list setting given as one value (a path, a number, a {path, ...} entry): a list of that one value."""
    if value is None:
        return []
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, (str, int, float, dict, os.PathLike)) and not isinstance(value, bool):
        return [value]
    return value


def coerce_setting(name: str, value: Any) -> Any:
    """``value`` converted to the declared type of the `TrainConfig` field ``name``, or `ConfigError`."""
    kind, optional = _kind(name)
    if value is None and optional:
        return None
    if kind == "list":
        value = as_list(value)
        if not isinstance(value, list):
            raise _wrong(name, value, kind)
        items = _LIST_ITEMS.get(name)
        if items == "file":
            from training.data import FileSpec

            out = []
            for entry in value:
                entry = os.fspath(entry) if isinstance(entry, os.PathLike) else entry
                try:
                    FileSpec.parse(entry)
                except (TypeError, ValueError) as exc:
                    raise ConfigError(f"{name}: {exc}") from None
                out.append(entry)
            return out
        if items is not None:
            out = []
            for entry in value:
                try:
                    out.append(_scalar(name, entry, items))
                except ConfigError:
                    raise ConfigError(
                        f"{name}: expected a list of {_PLURAL[items]}, got {entry!r} in {value!r}"
                    ) from None
            return out
        return value
    if kind == "dict":
        if name == "tasks" and isinstance(value, list):
            raise ConfigError(
                f"tasks: expected a mapping of task name -> labels (e.g. {{stance: [against, neutral, favor]}}), "
                f"got the list {value!r}; to train only some of the configured tasks, use only_tasks"
            )
        if not isinstance(value, dict):
            raise _wrong(name, value, kind)
        for key in value:
            if not isinstance(key, str):
                raise ConfigError(f"{name}: the keys must be names (strings), got {key!r}")
        return value
    if value is None:
        raise ConfigError(f"{name}: expected {_EXPECTED.get(kind, kind)}, got no value (null)")
    return _scalar(name, value, kind)


_PLURAL = {"str": "strings", "float": "numbers", "int": "integers"}


def load_config_file(path: str | os.PathLike, _chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    """Settings of a YAML/JSON config file, checked and with data paths made relative to the file's folder.

    ``base: other.yaml`` (relative to the file) starts from that file's settings, so a variant recipe holds only
    what differs from it; lists are replaced as a whole, not merged."""
    path = Path(path)
    if path.resolve() in _chain:
        raise ConfigError(f"{path}: 'base' files include each other: {' -> '.join(str(p) for p in _chain)}")
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
    inherited: dict[str, Any] = {}
    if "base" in data:
        base_file = data.pop("base")
        if not isinstance(base_file, str) or not base_file:
            raise ConfigError(f"{path}: base: expected the path of another config file, got {base_file!r}")
        base_path = base_file if os.path.isabs(base_file) else path.parent / base_file
        inherited = load_config_file(base_path, (*_chain, path.resolve()))
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {unknown}; see `stance train --help`")
    try:
        for key in list(data):
            data[key] = coerce_setting(key, data[key])
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    base = path.parent
    for key in ("train_files", "dev_files", "soft_labels", "calibration_files"):
        # Relative data paths in a config file are relative to the file's folder.
        if key in data:
            data[key] = [_rebase(entry, base) for entry in data[key] or []]
    return {**inherited, **data}


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
