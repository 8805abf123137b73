"""The Hugging Face `Trainer` as a run uses it: its arguments and callbacks, the learning-rate schedule (linear or
cyclical, lower in the encoder's lower layers), the dev metric that picks checkpoints, and, once training is done,
the best of {best checkpoint, weight averages} on dev loaded into the network."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import torch
from safetensors.torch import load_file
from transformers import EarlyStoppingCallback, Trainer, TrainerState, TrainingArguments

from model.backends import cpu_has_bf16
from model.network import IGNORE_INDEX, StanceNetwork, label_key
from model.types import TaskSpec
from training import processes
from training.averaging import WeightAverages, lr_factor_fn, swa_start_step
from training.checkpoints import MarkComplete, stopped_early_at
from training.config import TrainConfig
from training.embedding_grad import reused_embedding_gradient
from training.examples import Collator
from training.layers import split_by_layer_lr
from training.metrics import macro_f1, selection_score
from training.selection import keep_best_on_dev

log = logging.getLogger("stance.train")


def use_bf16(setting: str) -> bool:
    """Whether to train under bfloat16 autocast: "true"/"false" as set, "auto" where the GPU or CPU supports it."""
    setting = str(setting).lower()
    if setting in ("true", "false"):
        return setting == "true"
    if torch.cuda.is_available():
        return torch.cuda.is_bf16_supported()
    return cpu_has_bf16()


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


class ScheduledTrainer(Trainer):
    """A `Trainer` whose learning rate follows ``lr_factor`` (`training.averaging.lr_factor_fn`: linear or cyclical),
    lower in the encoder's lower layers where ``layer_lr_decay`` < 1, scaled for the task heads by
    ``head_lr_scale``."""

    def __init__(self, *args: Any, lr_factor, layer_lr_decay: float = 1.0, head_lr_scale: float = 1.0, **kw: Any):
        self.lr_factor = lr_factor
        self.layer_lr_decay = layer_lr_decay
        self.head_lr_scale = head_lr_scale
        super().__init__(*args, **kw)

    def create_optimizer(self, *args, **kw):
        fresh = self.optimizer is None
        optimizer = super().create_optimizer(*args, **kw)
        if fresh and (self.layer_lr_decay < 1.0 or self.head_lr_scale != 1.0):
            split_by_layer_lr(optimizer, self.model, self.layer_lr_decay, self.head_lr_scale)
        return optimizer

    def create_scheduler(self, num_training_steps, optimizer=None):
        if self.lr_scheduler is None:
            self.lr_scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer or self.optimizer, self.lr_factor)
            self._created_lr_scheduler = True
        return self.lr_scheduler


@dataclass(frozen=True)
class Schedule:
    """How long a run trains and when it is evaluated on dev (and checkpointed)."""

    total_steps: int
    eval_every: int
    warmup_steps: int
    swa_begin: int | None  # the first step whose dev evaluation enters the uniform weight average
    cyclic: bool  # cyclical learning rate from swa_begin on (swa_lr)

    @classmethod
    def plan(cls, config: TrainConfig, train_examples: int, has_dev: bool) -> Schedule:
        """The schedule of ``config`` for ``train_examples`` training examples (cyclical only with dev data)."""
        steps_per_epoch = max(1, -(-train_examples // config.batch_size))
        total_steps = config.max_steps if config.max_steps > 0 else int(steps_per_epoch * config.epochs)
        eval_every = max(1, steps_per_epoch // config.evals_per_epoch)
        if config.max_steps > 0:
            eval_every = min(eval_every, config.max_steps)
        cyclic = config.swa_lr > 0 and has_dev
        swa_begin = swa_start_step(config.swa_from, total_steps, eval_every, cyclic)
        return cls(total_steps, eval_every, round(total_steps * config.warmup_ratio), swa_begin, cyclic)

    def lr_factor(self, swa_lr: float):
        """The learning-rate multiplier per step (`training.averaging.lr_factor_fn`)."""
        # The cycles start one step before the first averaged snapshot (the config requires swa_from with swa_lr).
        cycles_from = self.swa_begin - 1 if self.cyclic and self.swa_begin is not None else None
        return lr_factor_fn(self.total_steps, self.warmup_steps, cycles_from, self.eval_every, swa_lr)


@dataclass(frozen=True)
class RunTrainer:
    """A run's Trainer ready to train, with its weight averages (None when the run keeps none) and schedule."""

    trainer: ScheduledTrainer
    averages: WeightAverages | None
    schedule: Schedule
    bf16: bool


@dataclass(frozen=True)
class Fitted:
    """A trained network with the weights kept on dev loaded, and what the model's metrics record of the run."""

    network: StanceNetwork
    steps: int
    device: str
    bf16: bool
    best_checkpoint: str | None  # the folder name of the best dev checkpoint
    weights_kept: dict[str, Any] | None  # which of checkpoint and averages was kept, and their dev scores


def build_trainer(
    config: TrainConfig,
    network: StanceNetwork,
    tasks: list[TaskSpec],
    pad_id: int,
    train_set,
    dev_set,
    work: Path,
    start_from: Path | None,
    callbacks: list | None = None,
) -> RunTrainer:
    """The Trainer of one run writing checkpoints to ``work``; ``start_from``: the checkpoint a resumed run continues
    from (its weight averages are read back from it)."""
    schedule = Schedule.plan(config, len(train_set), dev_set is not None)
    bf16 = use_bf16(config.bf16)
    if not bf16 and str(config.bf16).lower() == "auto" and not torch.cuda.is_available():
        log.info("this CPU has no AVX512-BF16, so training runs in float32: about twice the time of a CPU with it "
                 "(the README gives both)")  # fmt: skip
    has_dev = dev_set is not None
    callbacks = [MarkComplete(), *(callbacks or [])]  # first: a checkpoint is marked complete before anything stops
    averages = WeightAverages(config.ema_decays, schedule.swa_begin if has_dev else None)
    if averages.enabled and has_dev:
        callbacks.insert(0, averages)  # first, so its state is saved with a checkpoint before anything else runs
        if start_from is not None:
            averages.load(start_from, network)
    if has_dev and config.early_stopping_patience > 0:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=config.early_stopping_patience))
    trainer = ScheduledTrainer(
        lr_factor=schedule.lr_factor(config.swa_lr),
        layer_lr_decay=config.layer_lr_decay,
        head_lr_scale=config.head_lr_scale,
        model=network,
        args=_training_arguments(config, work, tasks, schedule, bf16, has_dev),
        train_dataset=train_set,
        eval_dataset=dev_set,
        data_collator=Collator(pad_id, tasks),
        compute_metrics=_compute_metrics_fn(tasks, config.select_on) if has_dev else None,
        callbacks=callbacks,
    )
    return RunTrainer(trainer, averages if averages in callbacks else None, schedule, bf16)


def _training_arguments(
    config: TrainConfig, work: Path, tasks: list[TaskSpec], schedule: Schedule, bf16: bool, has_dev: bool
) -> TrainingArguments:
    return TrainingArguments(
        output_dir=str(work),
        # batch_size is one optimizer step's batch, shared by the processes (one process: all of it).
        per_device_train_batch_size=processes.batch_per_process(config.batch_size),
        per_device_eval_batch_size=config.eval_batch_size,
        num_train_epochs=config.epochs,
        max_steps=config.max_steps,
        learning_rate=config.learning_rate,
        weight_decay=config.weight_decay,
        warmup_steps=schedule.warmup_steps,
        bf16=bf16,
        eval_strategy="steps" if has_dev else "no",
        save_strategy="steps",
        eval_steps=schedule.eval_every,
        save_steps=schedule.eval_every,
        save_total_limit=2,
        load_best_model_at_end=has_dev,
        metric_for_best_model="select",
        greater_is_better=True,
        logging_steps=max(1, min(50, schedule.eval_every)),
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
        # On several processes: a batch without labels of a task leaves that task's head out of the loss.
        ddp_find_unused_parameters=True,
        save_only_model=False,
        # Early stopping's count of evaluations without improvement is saved with each checkpoint and read back on
        # --resume, so a resumed run stops where the uninterrupted one would have.
        restore_callback_states_from_checkpoint=True,
    )


def fit(setup: RunTrainer, start_from: Path | None) -> Fitted:
    """Train (from ``start_from`` when resuming), then keep the best of the best checkpoint and the averages."""
    trainer = setup.trainer
    network = cast(StanceNetwork, trainer.model)
    stopped = stopped_early_at(start_from) if start_from is not None else None
    if start_from is not None and stopped is not None:
        # Early stopping had ended the run at this checkpoint (it was killed while exporting): the Trainer would
        # train on, so finish the run as the uninterrupted one did, from its best checkpoint, with no more steps.
        log.info("%s: early stopping had ended the run at step %d; finishing it from there", start_from.name, stopped)
        trainer.state = TrainerState.load_from_json(str(start_from / "trainer_state.json"))
        best_folder = Path(trainer.state.best_model_checkpoint or start_from)
        network.load_state_dict(load_file(str(best_folder / "model.safetensors")))
        steps = stopped
    else:
        with reused_embedding_gradient(network.encoder.get_input_embeddings()):
            result = trainer.train(resume_from_checkpoint=str(start_from) if start_from else None)
        steps = int(result.global_step)
    weights_kept = keep_best_weights(trainer, setup.averages) if setup.averages is not None else None
    best = trainer.state.best_model_checkpoint
    return Fitted(
        network=cast(StanceNetwork, trainer.model),
        steps=steps,
        device=str(trainer.args.device),
        bf16=setup.bf16,
        best_checkpoint=best and Path(best).name,
        weights_kept=weights_kept,
    )


def keep_best_weights(trainer: Trainer, averages: WeightAverages) -> dict[str, Any]:
    """Score the best checkpoint and each weight average on dev (the selection metric); load the best into the model.

    Ties go to the checkpoint. Returns what was kept and every candidate's dev score, for the model's metrics.
    """
    network = cast(StanceNetwork, trainer.model)
    checkpoint = {k: v.detach().clone() for k, v in network.state_dict().items() if v.is_floating_point()}
    # The averages are taken before the first evaluation below: it would otherwise enter the uniform average.
    candidates = {"best checkpoint": checkpoint, **averages.candidates()}

    def dev_score(weights: dict[str, torch.Tensor]) -> float:
        network.load_state_dict(weights, strict=False)
        return float(trainer.evaluate()["eval_select"])

    choice = keep_best_on_dev(candidates, dev_score)
    network.load_state_dict(choice.kept, strict=False)
    log.info("dev selection score per candidate: %s; kept %s", choice.scores, choice.name)
    return {"kept": choice.name, "dev_select": {k: round(v, 4) for k, v in choice.scores.items()}}
