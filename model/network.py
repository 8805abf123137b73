"""The network: one pretrained encoder, one linear head per task.

``pair`` tasks read the mean of the token states concatenated with the mean of the states at the mention start
markers (the sentence's view of the target; the mean again when the target is not mentioned), and with
``mean+markers`` also the mean of the states at the mention end markers. ``sentence`` tasks
read the mean of the token states, which is what the sentence-transformers base was trained to produce.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

import torch
from torch import nn

from model.types import POOLINGS, TaskSpec

if TYPE_CHECKING:
    from transformers import PreTrainedModel

IGNORE_INDEX = -100


def label_key(task: str) -> str:
    """The keyword under which a task's gold labels reach ``forward``."""
    return f"labels_{task}"


def soft_key(task: str) -> str:
    """The keyword under which a teacher's probabilities for a task reach ``forward`` (distillation)."""
    return f"soft_{task}"


def logits_key(task: str) -> str:
    return f"logits_{task}"


def uses_marker(pooling: str, task: TaskSpec) -> bool:
    """Whether ``task``'s head reads the mention marker states besides the mean."""
    return pooling in ("mean+marker", "mean+markers") and task.input == "pair"


def build_heads(hidden: int, tasks: Sequence[TaskSpec], pooling: str, dropout: float = 0.1) -> nn.ModuleDict:
    """One dropout + linear head per task, as wide as the pooled features its input kind gets."""
    heads = nn.ModuleDict()
    for task in tasks:
        width = (3 if pooling == "mean+markers" else 2) * hidden if uses_marker(pooling, task) else hidden
        heads[task.name] = nn.Sequential(nn.Dropout(dropout), nn.Linear(width, len(task.labels)))
    return heads


class HeadedEncoder(Protocol):
    """What `task_logits` reads: `StanceNetwork` in training and prediction, `model.hf_model.ActorStanceModel` when
    loaded through transformers' Auto classes. Both hold the same modules under the same names."""

    encoder: PreTrainedModel
    heads: nn.ModuleDict
    tasks: list[TaskSpec]
    pooling: str
    start_marker_id: int | None
    end_marker_id: int | None


def marker_states(states: torch.Tensor, input_ids: torch.Tensor, marker_id: int | None, fallback: torch.Tensor):
    """Mean of the states at the tokens ``marker_id`` (``fallback`` where the input has none)."""
    marks = input_ids.eq(-1 if marker_id is None else marker_id).unsqueeze(-1).to(states.dtype)
    count = marks.sum(1)
    return torch.where(count > 0, (states * marks).sum(1) / count.clamp(min=1.0), fallback)


def task_logits(
    net: HeadedEncoder,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    token_type_ids: torch.Tensor | None = None,
) -> dict[str, torch.Tensor]:
    """Each task's logits by task name: the encoder's states pooled for the task's input kind, through its head."""
    kwargs = {"input_ids": input_ids, "attention_mask": attention_mask}
    if token_type_ids is not None:
        kwargs["token_type_ids"] = token_type_ids
    states = net.encoder(**kwargs).last_hidden_state
    mask = attention_mask.unsqueeze(-1).to(states.dtype)
    mean = (states * mask).sum(1) / mask.sum(1).clamp(min=1.0)
    pooled = {"sentence": states[:, 0] if net.pooling == "cls" else mean}
    if any(uses_marker(net.pooling, t) for t in net.tasks):
        markers = [net.start_marker_id] + ([net.end_marker_id] if net.pooling == "mean+markers" else [])
        pooled["pair"] = torch.cat([mean] + [marker_states(states, input_ids, m, mean) for m in markers], dim=-1)
    return {
        task.name: net.heads[task.name](pooled["pair"] if uses_marker(net.pooling, task) else pooled["sentence"])
        for task in net.tasks
    }


class StanceNetwork(nn.Module):
    """Encoder plus task heads; ``forward`` returns each task's logits and, given labels, the summed loss."""

    def __init__(
        self,
        encoder: PreTrainedModel,
        tasks: Sequence[TaskSpec],
        pooling: str = "mean+marker",
        start_marker_id: int | None = None,
        dropout: float = 0.1,
        end_marker_id: int | None = None,
    ) -> None:
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, not {pooling!r}")
        self.encoder = encoder
        self.tasks = list(tasks)
        self.pooling = pooling
        self.start_marker_id = start_marker_id
        self.end_marker_id = end_marker_id
        self.heads = build_heads(int(encoder.config.hidden_size), self.tasks, pooling, dropout)
        self.class_weights: dict[str, torch.Tensor] = {}
        self.label_smoothing = 0.0  # training only; not saved with the model
        self.distill_weight = 0.0  # training only: share of the loss from a teacher's probabilities
        self.distill_temperature = 1.0

    def _distilled(self, gold_loss: torch.Tensor, logits: torch.Tensor, soft: torch.Tensor) -> torch.Tensor:
        """``(1 - w)`` of the gold-label loss plus ``w * T^2`` times KL(teacher || student) at temperature T, on
        the rows that have soft labels (an all-zero row has none)."""
        has = soft.sum(-1) > 0
        if not bool(has.any()):
            return gold_loss
        t = self.distill_temperature
        teacher = torch.softmax(soft[has].float().clamp(min=1e-8).log() / t, dim=-1)
        student = torch.log_softmax(logits[has].float() / t, dim=-1)
        kl = (teacher * (teacher.clamp(min=1e-8).log() - student)).sum(-1).mean() * (t * t)
        return (1.0 - self.distill_weight) * gold_loss + self.distill_weight * kl

    def set_head_dropout(self, p: float) -> None:
        """The dropout rate before each task head (a model fine-tuned again may use another than its first)."""
        for head in self.heads.values():
            for module in head.modules():
                if isinstance(module, nn.Dropout):
                    module.p = p

    def reset_head_weights(self) -> None:
        """Draw each task head's output layer afresh from the current random state."""
        for head in self.heads.values():
            for module in head.modules():
                if isinstance(module, nn.Linear):
                    module.reset_parameters()

    def set_class_weights(self, weights: Mapping[str, Sequence[float]]) -> None:
        """Per-task loss weights for each label (training only; not saved with the model)."""
        self.class_weights = {name: torch.tensor(list(w), dtype=torch.float) for name, w in weights.items()}

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
        **labels: torch.Tensor,
    ) -> dict[str, torch.Tensor]:
        logits_by_task = task_logits(self, input_ids, attention_mask, token_type_ids)
        out: dict[str, torch.Tensor] = {}
        loss = None
        for task in self.tasks:
            logits = logits_by_task[task.name]
            out[logits_key(task.name)] = logits
            gold = labels.get(label_key(task.name))
            if gold is None or not bool((gold != IGNORE_INDEX).any()):
                continue
            weight = self.class_weights.get(task.name)
            task_loss = nn.functional.cross_entropy(
                logits.float(),
                gold,
                weight=weight.to(logits.device) if weight is not None else None,
                ignore_index=IGNORE_INDEX,
                label_smoothing=self.label_smoothing,
            )
            soft = labels.get(soft_key(task.name))
            if soft is not None and self.distill_weight > 0:
                task_loss = self._distilled(task_loss, logits, soft)
            loss = task_loss if loss is None else loss + task_loss
        if loss is not None:
            out = {"loss": loss, **out}
        elif any(label_key(t.name) in labels for t in self.tasks):
            # A batch whose labels are all missing still needs a loss that backpropagates.
            zero = torch.stack([v.sum() for v in out.values()]).sum() * 0.0
            out = {"loss": zero, **out}
        return out
