"""`ActorStanceModel`: a model directory as transformers loads it, with its real task heads.

After ``import model``, ``AutoModel.from_pretrained("models/default")`` returns this class (no remote code: the
class is registered with the Auto classes, model/__init__.py). It holds the same modules under the same names as
`model.network.StanceNetwork`, so the directory's weights load as they are, and its forward pass is the same
function (`model.network.task_logits`). Its logits are raw: the calibration in ``stance_model.json`` is applied by
`model.predictor.StancePredictor` and by the ``actor-stance`` pipeline (model/hf_pipeline.py), not here.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from transformers import AutoModel, PreTrainedModel
from transformers.utils import ModelOutput

from model.hf_config import ActorStanceConfig
from model.model_dir import encoder_kwargs
from model.network import build_heads, task_logits


@dataclass
class ActorStanceOutput(ModelOutput):
    """``logits``: the first task's (the one ``config.id2label`` names); ``task_logits``: every task's, by name."""

    logits: torch.Tensor | None = None
    task_logits: dict[str, torch.Tensor] | None = None


class ActorStanceModel(PreTrainedModel):
    """The encoder and one head per task, as `ActorStanceConfig` describes them."""

    config_class = ActorStanceConfig
    base_model_prefix = "encoder"
    main_input_name = "input_ids"

    def __init__(self, config: ActorStanceConfig) -> None:
        super().__init__(config)
        encoder_config = config.encoder_config()
        self.encoder = AutoModel.from_config(encoder_config, **encoder_kwargs(encoder_config))
        self.tasks = config.task_specs
        self.pooling = config.pooling
        self.start_marker_id = config.start_marker_id
        self.end_marker_id = config.end_marker_id
        self.heads = build_heads(int(encoder_config.hidden_size), self.tasks, self.pooling)
        self.post_init()

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        **_: object,
    ) -> ActorStanceOutput:
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        logits = task_logits(self, input_ids, attention_mask, token_type_ids)
        return ActorStanceOutput(logits=logits[self.tasks[0].name], task_logits=logits)


def register() -> None:
    """``AutoModel`` builds `ActorStanceModel` for an `ActorStanceConfig` (model/__init__.py calls this once
    transformers' Auto model classes are imported)."""
    AutoModel.register(ActorStanceConfig, ActorStanceModel, exist_ok=True)
