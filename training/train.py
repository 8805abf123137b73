"""`stance train`: validate the data, fine-tune with the Hugging Face `Trainer`, write the model directory."""

from __future__ import annotations

import dataclasses
import json
import logging
import random
import re
import shutil
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

from model.base import resolve_base_model
from model.formatting import EncodedInput, InputEncoder, add_marker_tokens, pad_encoded
from model.model_dir import (
    ModelProject,
    atomic_directory,
    check_output_path,
    load_model_dir,
    network_from_base,
    read_project,
    save_model_dir,
)
from model.network import IGNORE_INDEX, label_key, soft_key
from model.predictor import StancePredictor
from model.types import InputKind, TaskSpec
from training.averaging import WeightAverages, lr_factor_fn, swa_start_step
from training.calibrate import fit_calibration
from training.card import write_model_card
from training.checkpoints import MarkComplete, newest_complete
from training.config import ConfigError, TrainConfig
from training.data import (
    DataValidationError,
    FileSpec,
    LabelledRow,
    LoadedData,
    load_evaluation_data,
    load_training_data,
)
from training.data import fingerprint as data_fingerprint
from training.distill import load_soft_labels
from training.embedding_grad import reused_embedding_gradient
from training.evaluate import evaluate_rows
from training.metrics import macro_f1, selection_score

log = logging.getLogger("stance.train")
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


@dataclass(frozen=True)
class Example:
    """One model input with a label id per task (`IGNORE_INDEX` where the row has no label for it)."""

    row: LabelledRow
    kind: InputKind
    labels: dict[str, int]
    soft: dict[str, list[float]] | None = None  # a teacher's probabilities per task, for distillation


def build_examples(
    rows: list[LabelledRow], tasks: list[TaskSpec], soft: dict[str, dict[str, list]] | None = None
) -> list[Example]:
    """One example per row and input kind that carries a label: stance reads the pair, sentiment the sentence.

    ``soft`` (from `training.distill.load_soft_labels`) gives an example the teacher's probabilities for the
    labelled tasks that read its input.
    """
    examples = []
    for row in rows:
        row_soft = soft.get(row.digest, {}) if soft else {}
        for kind in ("pair", "sentence"):
            kind_tasks = [t for t in tasks if t.input == kind]
            if not any(t.name in row.labels for t in kind_tasks):
                continue
            # Only the tasks that read this input learn from it: stance is never taught from a sentence without
            # its target, nor sentiment from a copy of the sentence with a marked mention.
            labels = {
                t.name: (
                    t.labels.index(row.labels[t.name]) if t.input == kind and t.name in row.labels else IGNORE_INDEX
                )
                for t in tasks
            }
            taught = {
                t.name: row_soft[t.name] for t in kind_tasks if t.name in row_soft and labels[t.name] != IGNORE_INDEX
            }
            examples.append(Example(row, kind, labels, taught or None))  # type: ignore[arg-type]
    return examples


def to_dataset(examples: list[Example], encoder: InputEncoder, tasks: list[TaskSpec]):
    """A `datasets.Dataset` of token ids, labels and lengths (for length-grouped batches)."""
    from datasets import Dataset

    columns: dict[str, list] = defaultdict(list)
    distil = any(e.soft for e in examples)  # soft-label columns only when there are any: runs without stay as they were
    for kind in ("pair", "sentence"):
        chosen = [e for e in examples if e.kind == kind]
        if not chosen:
            continue
        for example, enc in zip(chosen, encoder.encode([e.row.pair for e in chosen], kind), strict=True):  # type: ignore[arg-type]
            columns["input_ids"].append(enc.input_ids)
            columns["token_type_ids"].append(enc.token_type_ids or [0] * len(enc.input_ids))
            columns["length"].append(len(enc.input_ids))
            for task in tasks:
                columns[label_key(task.name)].append(example.labels[task.name])
                if distil:  # all zeros: no soft label for this task
                    columns[soft_key(task.name)].append((example.soft or {}).get(task.name, [0.0] * len(task.labels)))
    return Dataset.from_dict(dict(columns))


class Collator:
    """Dynamic padding of a batch of dataset rows into tensors, with label tensors per task."""

    def __init__(self, pad_id: int, tasks: list[TaskSpec]) -> None:
        self.pad_id = pad_id
        self.tasks = tasks

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        items = [EncodedInput(f["input_ids"], [1] * len(f["input_ids"]), f["token_type_ids"], False) for f in features]
        batch = pad_encoded(items, self.pad_id)
        for task in self.tasks:
            batch[label_key(task.name)] = torch.tensor([f[label_key(task.name)] for f in features], dtype=torch.long)
            if soft_key(task.name) in features[0]:
                batch[soft_key(task.name)] = torch.tensor([f[soft_key(task.name)] for f in features], dtype=torch.float)
        return batch


def stratified_split(
    rows: list[LabelledRow], fraction: float, seed: int
) -> tuple[list[LabelledRow], list[LabelledRow]]:
    """Hold out ``fraction`` of the rows, stratified on their labels, keeping rows of one sentence together."""
    groups: dict[str, list[LabelledRow]] = defaultdict(list)
    for row in rows:
        groups[row.pair.text].append(row)
    strata: dict[tuple, list[str]] = defaultdict(list)
    for text, members in groups.items():
        strata[tuple(sorted(members[0].labels.items()))].append(text)
    rng = random.Random(seed)
    held: set[str] = set()
    for key in sorted(strata):
        texts = sorted(strata[key])
        rng.shuffle(texts)
        held.update(texts[: round(len(texts) * fraction)])
    train = [r for r in rows if r.pair.text not in held]
    dev = [r for r in rows if r.pair.text in held]
    return train, dev


def class_weights(examples: list[Example], tasks: list[TaskSpec]) -> dict[str, list[float]]:
    """Inverse-frequency ("balanced") loss weights per task."""
    weights = {}
    for task in tasks:
        counts = Counter(e.labels[task.name] for e in examples if e.labels[task.name] != IGNORE_INDEX)
        total = sum(counts.values())
        weights[task.name] = [
            total / (len(task.labels) * counts[i]) if counts[i] else 0.0 for i in range(len(task.labels))
        ]
    return weights


def use_bf16(setting: str) -> bool:
    setting = str(setting).lower()
    if setting in ("true", "false"):
        return setting == "true"
    if torch.cuda.is_available():
        return torch.cuda.is_bf16_supported()
    try:
        return bool(torch.backends.cpu.get_cpu_capability() in ("AVX512",)) and _cpu_has("avx512_bf16")
    except Exception:
        return False


def _cpu_has(flag: str) -> bool:
    try:
        return flag in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


def _compute_metrics_fn(tasks: list[TaskSpec], select_on: str):
    def compute(eval_pred) -> dict[str, float]:
        preds = eval_pred.predictions
        golds = eval_pred.label_ids
        preds = preds if isinstance(preds, tuple) else (preds,)
        golds = golds if isinstance(golds, tuple) else (golds,)
        f1_by_task: dict[str, float] = {}
        for task, logits, gold in zip(tasks, preds, golds, strict=True):
            keep = gold != IGNORE_INDEX
            if keep.any():
                f1_by_task[task.name] = macro_f1(gold[keep], logits[keep].argmax(-1), len(task.labels))
        scores = {f"{name}_macro_f1": f1 for name, f1 in f1_by_task.items()}
        scores["select"] = selection_score(f1_by_task, select_on)
        return scores

    return compute


def _counts_for_selection(example: Example, select_on: str) -> bool:
    """Whether the example carries a label of a task the selection score reads (`training.metrics.selection_score`)."""
    if select_on == "mean":
        return True
    return example.labels.get(select_on, IGNORE_INDEX) != IGNORE_INDEX


def checkpoints_dir(output_dir: str) -> Path:
    path = Path(output_dir)
    return path.with_name(path.name + ".checkpoints")


def _keep_best_weights(trainer, averages: WeightAverages) -> dict[str, Any]:
    """Score the best checkpoint and each weight average on dev (the selection metric); load the best into the model.

    Ties go to the checkpoint. Returns what was kept and every candidate's dev score, for the model's metrics.
    """
    network = trainer.model
    candidates = averages.candidates()
    checkpoint = {k: v.detach().clone() for k, v in network.state_dict().items() if v.is_floating_point()}
    scores = {"best checkpoint": float(trainer.evaluate()["eval_select"])}
    for name, weights in candidates.items():
        network.load_state_dict(weights, strict=False)
        scores[name] = float(trainer.evaluate()["eval_select"])
    kept = max(scores, key=lambda name: scores[name])  # first maximum: the checkpoint wins ties
    network.load_state_dict(checkpoint if kept == "best checkpoint" else candidates[kept], strict=False)
    log.info("dev selection score per candidate: %s; kept %s", scores, kept)
    return {"kept": kept, "dev_select": {k: round(v, 4) for k, v in scores.items()}}


_LAYER = re.compile(r"\.layers?\.(\d+)\.")


def _encoder_level(name: str, num_layers: int) -> int:
    """Height of an encoder parameter: 0 for the embeddings, i + 1 for transformer layer i, ``num_layers + 1`` for
    anything above the layers (a pooler)."""
    found = _LAYER.search(f".{name}")
    if found:
        return int(found.group(1)) + 1
    return 0 if "embed" in name else num_layers + 1


def layer_lr_scale(name: str, num_layers: int, decay: float, head_scale: float = 1.0) -> float:
    """Learning-rate factor of the parameter ``name``: ``head_scale`` for the task heads; under layer-wise decay 1
    for the top encoder layer, ``decay`` per layer below it, ``decay ** num_layers`` for the embeddings."""
    if not name.startswith("encoder."):
        return head_scale if name.startswith("heads.") else 1.0
    if decay >= 1.0:
        return 1.0
    return decay ** max(0, num_layers - _encoder_level(name, num_layers))


def _num_layers(encoder: object) -> int:
    """The encoder's number of transformer layers from its config (0 where it does not say)."""
    return int(getattr(getattr(encoder, "config", None), "num_hidden_layers", 0) or 0)


def reinit_top_layers(encoder: torch.nn.Module, count: int) -> None:
    """Draw the weights of the encoder's top ``count`` layers afresh, as BERT-style pre-training starts them
    (linear weights from N(0, initializer_range), biases 0, layer norms 1 and 0), from the current random state."""
    if count <= 0:
        return
    num_layers = _num_layers(encoder)
    stacks = [m for m in encoder.modules() if isinstance(m, torch.nn.ModuleList) and len(m) == num_layers]
    if not num_layers or not stacks:
        raise ConfigError("reinit_layers: cannot find the encoder's stack of layers")
    if count > num_layers:
        raise ConfigError(f"reinit_layers: the encoder has {num_layers} layers, not {count}")
    std = float(getattr(encoder.config, "initializer_range", 0.02))
    # Tensor methods, not torch.nn.init: while any thread is inside from_pretrained, transformers swaps
    # torch.nn.init's functions for ones that skip parameters it loaded, and these were loaded.
    with torch.no_grad():
        for layer in stacks[0][-count:]:
            for module in layer.modules():
                if isinstance(module, torch.nn.Linear):
                    module.weight.normal_(mean=0.0, std=std)
                    if module.bias is not None:
                        module.bias.zero_()
                elif isinstance(module, torch.nn.LayerNorm):
                    module.weight.fill_(1.0)
                    module.bias.zero_()


def freeze_bottom_layers(encoder: torch.nn.Module, count: int) -> int:
    """Keep the encoder's ``count`` lowest layers fixed, the embeddings counting as the lowest: their parameters
    stop requiring gradients, so the backward pass ends above them. Returns how many parameters were frozen."""
    if count <= 0:
        return 0
    num_layers = _num_layers(encoder)
    if not num_layers:
        raise ConfigError("frozen_layers: cannot find the encoder's number of layers in its config")
    if count > num_layers + 1:
        raise ConfigError(
            f"frozen_layers: the encoder has {num_layers + 1} layers counting the embeddings, not {count}"
        )
    frozen = 0
    for name, param in encoder.named_parameters():
        if _encoder_level(name, num_layers) < count:
            param.requires_grad_(False)
            frozen += param.numel()
    if not frozen:
        raise ConfigError("frozen_layers: found no embedding or layer parameters to freeze in the encoder")
    return frozen


def _split_by_layer_lr(
    optimizer: torch.optim.Optimizer, model: torch.nn.Module, decay: float, head_scale: float = 1.0
) -> None:
    """Split each parameter group of the fresh ``optimizer`` by `layer_lr_scale`, each part at its own rate."""
    num_layers = _num_layers(getattr(model, "encoder", None))
    names = {id(p): n for n, p in model.named_parameters()}
    groups: list[dict[str, Any]] = []
    for group in optimizer.param_groups:
        settings = {k: v for k, v in group.items() if k != "params"}
        by_scale: dict[float, list] = {}
        for param in group["params"]:
            by_scale.setdefault(layer_lr_scale(names[id(param)], num_layers, decay, head_scale), []).append(param)
        groups += [{**settings, "params": ps, "lr": group["lr"] * scale} for scale, ps in by_scale.items()]
    optimizer.param_groups.clear()  # no optimizer state exists yet
    for group in groups:
        optimizer.add_param_group(group)


def _scheduled_trainer(lr_factor, layer_lr_decay: float = 1.0, head_lr_scale: float = 1.0, **kwargs):
    """A `Trainer` whose learning rate follows ``lr_factor`` (`training.averaging.lr_factor_fn`: linear or cyclical),
    lower in the encoder's lower layers where ``layer_lr_decay`` < 1, scaled for the task heads by
    ``head_lr_scale``."""
    from transformers import Trainer

    class ScheduledTrainer(Trainer):
        def create_optimizer(self, *args, **kw):
            fresh = self.optimizer is None
            optimizer = super().create_optimizer(*args, **kw)
            if fresh and (layer_lr_decay < 1.0 or head_lr_scale != 1.0):
                _split_by_layer_lr(optimizer, self.model, layer_lr_decay, head_lr_scale)
            return optimizer

        def create_scheduler(self, num_training_steps, optimizer=None):
            if self.lr_scheduler is None:
                self.lr_scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer or self.optimizer, lr_factor)
                self._created_lr_scheduler = True
            return self.lr_scheduler

    return ScheduledTrainer(**kwargs)


def _describe_tasks(tasks: list[TaskSpec]) -> str:
    return "; ".join(f"{t.name}: {', '.join(t.labels)}" for t in tasks)


def init_tasks(config: TrainConfig, project: ModelProject) -> list[TaskSpec]:
    """The tasks trained when continuing from the model ``project`` (``config.init_from``): the model's, or those
    of them in ``only_tasks``. A task the model lacks is a `ConfigError`; configured tasks that differ are logged."""
    names = [t.name for t in project.tasks]
    missing = [name for name in config.only_tasks if name not in names]
    if missing:
        have = ", ".join(names)
        raise ConfigError(
            f"only_tasks: the model in {config.init_from} has no {missing[0]!r} task (it has: {have}); "
            "--init-from trains the tasks of that model"
        )
    tasks = [t for t in project.tasks if not config.only_tasks or t.name in config.only_tasks]
    if config.tasks != _default("tasks"):
        configured = config.task_specs(apply_only_tasks=False)
        if {t.name: t for t in configured} != {t.name: t for t in project.tasks}:
            log.warning(
                "tasks: --init-from %s trains that model's tasks and labels (%s), not the configured ones (%s)",
                config.init_from,
                _describe_tasks(project.tasks),
                _describe_tasks(configured),
            )
    return tasks


def init_format(config: TrainConfig, project: ModelProject):
    """The input format when continuing from the model ``project``: the model's (its tokenizer and heads were
    trained for it), except ``max_length``, which the settings give. Settings that cannot apply are logged."""
    fmt = project.input_format
    kept = {
        "pooling": project.pooling,
        "mention_markers": fmt.mention_markers,
        "target_segment": fmt.target_segment,
    }
    for name, value in kept.items():
        if getattr(config, name) != value and getattr(config, name) != _default(name):
            log.warning(
                "%s: --init-from %s keeps that model's %s (%r); the setting %r is not used",
                name,
                config.init_from,
                name,
                value,
                getattr(config, name),
            )
    if config.max_length != fmt.max_length:
        log.warning(
            "max_length: the model in %s was trained with max_length %d; this run uses %d (the max_length setting, "
            "default %d), and the new model is saved with it (pass --max-length %d to keep the model's)",
            config.init_from,
            fmt.max_length,
            config.max_length,
            _default("max_length"),
            fmt.max_length,
        )
    return dataclasses.replace(fmt, max_length=config.max_length)


def _init_labels_note(config: TrainConfig, project: ModelProject) -> str:
    """Why labels are unknown when continuing from a model: its label sets are used, not the configured ones."""
    note = f"note: with --init-from, the tasks and labels are those of the model in {config.init_from} " + (
        f"({_describe_tasks(project.tasks)})"
    )
    configured = config.task_specs(apply_only_tasks=False)
    if {t.name: t for t in configured} != {t.name: t for t in project.tasks}:
        note += f"; they replace the configured tasks ({_describe_tasks(configured)})"
    return note + ". To train other labels, start from a base model (--base-model) instead of --init-from."


def _default(name: str) -> Any:
    return getattr(TrainConfig(), name)


def _effective_settings(tasks: list[TaskSpec], fmt, pooling: str, base_name: str) -> dict[str, Any]:
    """The settings a run from ``init_from`` actually used, recorded in place of the configured ones."""
    return {
        "tasks": {t.name: {"labels": list(t.labels), "input": t.input} for t in tasks},
        "pooling": pooling,
        "mention_markers": fmt.mention_markers,
        "target_segment": fmt.target_segment,
        "max_length": fmt.max_length,
        "base_model": base_name,
    }


def train(config: TrainConfig, resume: bool = False, callbacks: list | None = None) -> Path:
    """Train a model as configured; returns the model directory. Raises on invalid data before any training.

    ``callbacks`` are extra `transformers.TrainerCallback`s (progress reporting, tests).
    """
    from transformers import AutoTokenizer, EarlyStoppingCallback, TrainingArguments, set_seed

    config.validate()
    # Before anything is loaded or written: a file or a folder of other things at the output path is refused, not
    # deleted when the finished model replaces it.
    check_output_path(config.output_dir)
    if config.soup_seeds:
        from training.soup import train_soup

        return train_soup(config, resume=resume, callbacks=callbacks)
    started = time.monotonic()
    if config.threads:
        torch.set_num_threads(config.threads)

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
        raise DataValidationError(exc.problems, note=_init_labels_note(config, init_project)) from None
    for name, data in (("train", train_data), ("dev", dev_data)):
        if data.left_out:
            log.warning("%s: rows left out: %s", name, dict(data.left_out))

    work = checkpoints_dir(config.output_dir)
    fingerprint = {k: config.to_dict()[k] for k in RESUME_FIELDS}
    start_from: Path | None = None
    if resume:
        # A run killed before its first complete checkpoint has nothing to continue: it starts again, and says why.
        saved = work / "train_config.json"
        start_from, skipped = newest_complete(work) if work.is_dir() else (None, [])
        for folder, reason in skipped:
            log.warning("--resume: skipping %s: %s", folder.name, reason)
        if start_from is None or not saved.is_file():
            why = "; ".join(f"{f.name}: {r}" for f, r in skipped) or "the run ended before its first checkpoint"
            log.warning("--resume: nothing to resume from in %s (%s): starting from the beginning", work, why)
            resume, start_from = False, None
        else:
            log.info("--resume: continuing from %s", start_from.name)
            before = json.loads(saved.read_text())
            changed = sorted(k for k in RESUME_FIELDS if before.get(k) != fingerprint[k])
            if changed:
                raise ConfigError(f"--resume: settings differ from the interrupted run: {changed}")
    if not resume:
        shutil.rmtree(work, ignore_errors=True)

    # The new weights (heads, marker tokens) are drawn from `init_seed`; the Trainer then seeds data order and
    # dropout from `seed` again.
    set_seed(config.seed if config.init_seed < 0 else config.init_seed)
    if init_project is not None:
        network, tokenizer, init_project = load_model_dir(str(config.init_from), verify=True)
        network.tasks = tasks
        for name in [n for n in network.heads if n not in {t.name for t in tasks}]:
            del network.heads[name]  # --only-tasks: the new model carries only the heads it was trained for
        network.set_head_dropout(config.dropout)
    else:
        resolved = resolve_base_model(base_name)
        tokenizer = AutoTokenizer.from_pretrained(resolved, trust_remote_code=False)
        add_marker_tokens(tokenizer, fmt)
        network = network_from_base(resolved, tasks, fmt, pooling, tokenizer, dropout=config.dropout)
        # Drawn again after the seed so that the heads do not depend on how the encoder was loaded or resized
        # (kept: the published default model was trained with this sequence of random draws).
        network.reset_head_weights()
        reinit_top_layers(network.encoder, config.reinit_layers)
    if config.frozen_layers:
        frozen = freeze_bottom_layers(network.encoder, config.frozen_layers)
        log.info("frozen: the %d lowest encoder layers (embeddings included), %d parameters",
                 config.frozen_layers, frozen)  # fmt: skip
    network.train()
    encoder = InputEncoder(tokenizer, fmt)

    soft = load_soft_labels(config.soft_labels, tasks) if config.soft_labels else None
    specs = {
        f["path"]: FileSpec(f["path"], repeat=f.get("repeat", 1), target_repeat=f.get("target_repeat", {}))
        for f in train_data.files
    }
    repeated = [r for r in train_rows for _ in range(specs[r.file].repeats(r.pair.target) if r.file in specs else 1)]
    train_examples = build_examples(repeated, tasks, soft)
    if soft is not None:
        taught = sum(1 for e in train_examples if e.soft)
        log.info("soft labels for %d of %d training examples (distill weight %s, temperature %s)", taught,
                 len(train_examples), config.distill_weight, config.distill_temperature)  # fmt: skip
        if not taught:
            raise ConfigError("soft_labels: no training row has soft labels (were they written for these files?)")
    dev_examples = build_examples(dev_rows, tasks)
    if config.class_weighting == "balanced":
        network.set_class_weights(class_weights(train_examples, tasks))
    network.label_smoothing = config.label_smoothing
    network.distill_weight, network.distill_temperature = config.distill_weight, config.distill_temperature
    train_set = to_dataset(train_examples, encoder, tasks)
    # The dev evaluations during training only pick checkpoints, so they read only the examples the selection
    # score uses (all dev rows are scored in full precision once training is done).
    selecting = [e for e in dev_examples if _counts_for_selection(e, config.select_on)]
    dev_set = to_dataset(selecting, encoder, tasks) if selecting else None

    steps_per_epoch = max(1, -(-len(train_set) // config.batch_size))
    total_steps = config.max_steps if config.max_steps > 0 else int(steps_per_epoch * config.epochs)
    eval_every = max(1, steps_per_epoch // config.evals_per_epoch)
    if config.max_steps > 0:
        eval_every = min(eval_every, config.max_steps)
    bf16 = use_bf16(config.bf16)
    if not bf16 and str(config.bf16).lower() == "auto" and not torch.cuda.is_available():
        log.info("this CPU has no AVX512-BF16, so training runs in float32: about twice the time of a CPU with it "
                 "(the README gives both)")  # fmt: skip
    warmup_steps = round(total_steps * config.warmup_ratio)
    cyclic = config.swa_lr > 0 and dev_set is not None
    swa_begin = swa_start_step(config.swa_from, total_steps, eval_every, cyclic)
    # The cycles start one step before the first averaged snapshot (the config requires swa_from with swa_lr).
    cycles_from = swa_begin - 1 if cyclic and swa_begin is not None else None
    lr_factor = lr_factor_fn(total_steps, warmup_steps, cycles_from, eval_every, config.swa_lr)
    # Created only now, so that a setting found wrong while the network and data were prepared leaves nothing behind.
    work.mkdir(parents=True, exist_ok=True)
    (work / "train_config.json").write_text(json.dumps(fingerprint, indent=2))
    args = TrainingArguments(
        output_dir=str(work),
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.eval_batch_size,
        num_train_epochs=config.epochs,
        max_steps=config.max_steps,
        learning_rate=config.learning_rate,
        weight_decay=config.weight_decay,
        warmup_steps=warmup_steps,
        bf16=bf16,
        eval_strategy="steps" if dev_set is not None else "no",
        save_strategy="steps",
        eval_steps=eval_every,
        save_steps=eval_every,
        save_total_limit=2,
        load_best_model_at_end=dev_set is not None,
        metric_for_best_model="select",
        greater_is_better=True,
        logging_steps=max(1, min(50, eval_every)),
        seed=config.seed,
        data_seed=config.seed,
        train_sampling_strategy="group_by_length" if config.group_by_length else "random",
        length_column_name="length",
        remove_unused_columns=False,
        label_names=[label_key(t.name) for t in tasks],
        report_to="none",
        disable_tqdm=not config.progress,
        use_cpu=not torch.cuda.is_available(),
        dataloader_num_workers=0,
        save_only_model=False,
        # Early stopping's count of evaluations without improvement is saved with each checkpoint and read back on
        # --resume, so a resumed run stops where the uninterrupted one would have.
        restore_callback_states_from_checkpoint=True,
    )
    callbacks = [MarkComplete(), *(callbacks or [])]  # first: a checkpoint is marked complete before anything stops
    averages = WeightAverages(config.ema_decays, swa_begin if dev_set is not None else None)
    if averages.enabled and dev_set is not None:
        callbacks.insert(0, averages)  # first, so its state is saved with a checkpoint before anything else runs
        if resume:
            assert start_from is not None
            averages.load(start_from, network)
    if dev_set is not None and config.early_stopping_patience > 0:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=config.early_stopping_patience))
    trainer = _scheduled_trainer(
        lr_factor,
        layer_lr_decay=config.layer_lr_decay,
        head_lr_scale=config.head_lr_scale,
        model=network,
        args=args,
        train_dataset=train_set,
        eval_dataset=dev_set,
        data_collator=Collator(tokenizer.pad_token_id or 0, tasks),
        compute_metrics=_compute_metrics_fn(tasks, config.select_on) if dev_set is not None else None,
        callbacks=callbacks,
    )
    log.info(
        "training on %d examples (%d rows), dev %d examples (%d read for checkpoint selection); %d steps; "
        "bf16=%s; device=%s",
        len(train_set),
        len(train_rows),
        len(dev_examples),
        len(selecting),
        total_steps,
        bf16,
        args.device,
    )
    with reused_embedding_gradient(network.encoder.get_input_embeddings()):
        result = trainer.train(resume_from_checkpoint=str(start_from) if start_from else None)
    network = trainer.model
    weights_kept = _keep_best_weights(trainer, averages) if averages in callbacks else None
    network.eval()

    project = ModelProject(
        tasks=tasks,
        input_format=fmt,
        pooling=pooling,
        base_model=base_name,
        training_data=[{"split": "train", **f} for f in train_data.files]
        + [{"split": "dev", **f} for f in dev_data.files]
        + [{"split": "soft_labels", **data_fingerprint(f)} for f in config.soft_labels],
        training_config={
            **config.to_dict(),
            **(_effective_settings(tasks, fmt, pooling, base_name) if init_project else {}),
            "init_from_model": init_project.weights_sha256 if init_project else None,
        },
        created=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    predictor = StancePredictor(network, tokenizer, project, device=str(args.device))
    if config.calibration_files:
        calibration_rows = load_evaluation_data(config.calibration_files, tasks).rows
        project.calibration = fit_calibration(
            predictor, calibration_rows, bias=config.prior_correction, files=config.calibration_files,
            batch_size=config.eval_batch_size,
        )  # fmt: skip
        log.info("calibration: %s", {k: v.to_dict() for k, v in project.calibration.items()})
    dev_metrics = evaluate_rows(predictor, dev_rows, batch_size=config.eval_batch_size)[0] if dev_rows else {}
    project.metrics = {
        "dev": dev_metrics,
        "training": {
            "seconds": round(time.monotonic() - started, 1),
            "steps": int(result.global_step),
            "train_examples": len(train_set),
            "train_rows": len(train_rows),
            "dev_rows": len(dev_rows),
            "label_counts": train_data.label_counts(),
            "device": str(args.device),
            "torch_threads": torch.get_num_threads(),
            "bf16": bf16,
            "best_checkpoint": trainer.state.best_model_checkpoint and Path(trainer.state.best_model_checkpoint).name,
            **({"weights": weights_kept} if weights_kept else {}),
        },
    }
    network.to("cpu")
    with atomic_directory(config.output_dir) as building:
        save_model_dir(building, network, tokenizer, project)
        write_model_card(building, project)
    shutil.rmtree(work, ignore_errors=True)
    return Path(config.output_dir)
