"""The model directory's ``config.json``: its own ``model_type``, so plain transformers refuses it rather than guess.

A model directory (format 2, model/model_dir.py) says ``"model_type": "actor-stance"``. Without this package,
``AutoConfig`` / ``AutoModel`` / ``pipeline(...)`` fail with "does not recognize this architecture" instead of
loading the encoder alone under a fresh, random classification head. With it imported (``import model``),
`ActorStanceConfig` reads the file and `model.hf_model.ActorStanceModel` builds the network with its heads.

    encoder                     the encoder's own config (what ``save_pretrained`` writes for it)
    tasks                       name, labels and input kind of each task head, in order
    pooling, start_marker_id, end_marker_id
                                how pair tasks read the encoder states (model/network.py)
    id2label, label2id          the first task's labels (stance), for tools that read only these

Calibration, the input format and the data fingerprints stay in ``stance_model.json``; its task list must equal
this one, which loading checks.
"""

from __future__ import annotations

from typing import Any

from transformers import AutoConfig, PreTrainedConfig

from model.types import TaskSpec

MODEL_TYPE = "actor-stance"
ARCHITECTURE = "ActorStanceModel"


class ActorStanceConfig(PreTrainedConfig):
    """Encoder config plus the task heads: everything that shapes the network (not its calibration)."""

    model_type = MODEL_TYPE

    def __init__(
        self,
        encoder: dict[str, Any] | None = None,
        tasks: list[dict[str, Any]] | None = None,
        pooling: str = "mean+marker",
        start_marker_id: int | None = None,
        end_marker_id: int | None = None,
        **kwargs: Any,
    ) -> None:
        self.encoder = dict(encoder or {})
        self.tasks = [TaskSpec.from_dict(t).to_dict() for t in tasks or []]
        self.pooling = pooling
        self.start_marker_id = start_marker_id
        self.end_marker_id = end_marker_id
        if self.tasks and "id2label" not in kwargs:
            labels = self.tasks[0]["labels"]
            kwargs["id2label"] = dict(enumerate(labels))
            kwargs["label2id"] = {label: i for i, label in enumerate(labels)}
        kwargs.setdefault("tie_word_embeddings", False)  # the heads share nothing with the embeddings
        super().__init__(**kwargs)

    @property
    def task_specs(self) -> list[TaskSpec]:
        return [TaskSpec.from_dict(t) for t in self.tasks]

    def encoder_config(self) -> PreTrainedConfig:
        """The encoder's config object (a ``BertConfig`` for MiniLM), from its saved fields."""
        fields = dict(self.encoder)
        return AutoConfig.for_model(fields.pop("model_type"), **fields)

    @classmethod
    def from_parts(
        cls,
        encoder: PreTrainedConfig,
        tasks: list[TaskSpec],
        pooling: str,
        start_marker_id: int | None,
        end_marker_id: int | None,
    ) -> ActorStanceConfig:
        config = cls(
            encoder=encoder.to_diff_dict(),
            tasks=[t.to_dict() for t in tasks],
            pooling=pooling,
            start_marker_id=start_marker_id,
            end_marker_id=end_marker_id,
        )
        config.architectures = [ARCHITECTURE]
        return config


def register() -> None:
    """``AutoConfig`` reads ``"model_type": "actor-stance"`` as `ActorStanceConfig` (model/__init__.py calls this
    once transformers' Auto classes are imported)."""
    AutoConfig.register(MODEL_TYPE, ActorStanceConfig, exist_ok=True)
