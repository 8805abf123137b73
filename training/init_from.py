"""Training from an existing model directory (``init_from``): its tasks, labels and input format win over the
configured ones (only ``only_tasks`` and ``max_length`` apply); what cannot apply is logged, and the model
directory records the settings actually used."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from model.formatting import InputFormat
from model.model_dir import ModelProject, load_model_dir
from model.network import StanceNetwork
from model.types import TaskSpec
from training.config import ConfigError, TrainConfig

log = logging.getLogger("stance.train")


def _describe_tasks(tasks: list[TaskSpec]) -> str:
    return "; ".join(f"{t.name}: {', '.join(t.labels)}" for t in tasks)


def _default(name: str) -> Any:
    return getattr(TrainConfig(), name)


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


def init_format(config: TrainConfig, project: ModelProject) -> InputFormat:
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


def init_labels_note(config: TrainConfig, project: ModelProject) -> str:
    """Why labels are unknown when continuing from a model: its label sets are used, not the configured ones."""
    note = f"note: with --init-from, the tasks and labels are those of the model in {config.init_from} " + (
        f"({_describe_tasks(project.tasks)})"
    )
    configured = config.task_specs(apply_only_tasks=False)
    if {t.name: t for t in configured} != {t.name: t for t in project.tasks}:
        note += f"; they replace the configured tasks ({_describe_tasks(configured)})"
    return note + ". To train other labels, start from a base model (--base-model) instead of --init-from."


def load_init_network(config: TrainConfig, tasks: list[TaskSpec]) -> tuple[StanceNetwork, Any, ModelProject]:
    """The network, tokenizer and project of ``config.init_from``, keeping only the heads of ``tasks``."""
    network, tokenizer, project = load_model_dir(str(config.init_from), verify=True)
    network.tasks = tasks
    for name in [n for n in network.heads if n not in {t.name for t in tasks}]:
        del network.heads[name]  # --only-tasks: the new model carries only the heads it was trained for
    network.set_head_dropout(config.dropout)
    return network, tokenizer, project


def effective_settings(tasks: list[TaskSpec], fmt: InputFormat, pooling: str, base_name: str) -> dict[str, Any]:
    """The settings a run from ``init_from`` actually used, recorded in place of the configured ones."""
    return {
        "tasks": {t.name: {"labels": list(t.labels), "input": t.input} for t in tasks},
        "pooling": pooling,
        "mention_markers": fmt.mention_markers,
        "target_segment": fmt.target_segment,
        "max_length": fmt.max_length,
        "base_model": base_name,
    }
