"""Post-hoc calibration of a task's logits, stored in the model directory and applied at every prediction.

``probabilities = softmax((logits + bias) / temperature)``

- ``bias`` (one number per label, empty for none) is a prior correction: it moves the decision toward labels the
  network under-predicts. It is fitted on dev (`training.calibrate`) and kept only when it helps there.
- ``temperature`` (> 0) spreads or sharpens the probabilities without changing the chosen label: it is fitted on
  dev by likelihood after the bias, so the probabilities of the final decisions are calibrated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch


@dataclass(frozen=True)
class Calibration:
    """One task's temperature and prior correction, and what they were fitted on."""

    temperature: float = 1.0
    bias: tuple[float, ...] = ()
    fitted: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if not (isinstance(self.temperature, int | float) and math.isfinite(self.temperature)):
            raise ValueError(f"temperature must be a finite number, not {self.temperature!r}")
        if self.temperature <= 0:
            raise ValueError(f"temperature must be above 0, not {self.temperature}")
        if not all(isinstance(b, int | float) and math.isfinite(b) for b in self.bias):
            raise ValueError(f"bias must be finite numbers, not {self.bias!r}")

    def apply(self, logits: torch.Tensor) -> torch.Tensor:
        """Calibrated logits (rows are items, columns labels); softmax them for probabilities."""
        if self.bias:
            if logits.shape[-1] != len(self.bias):
                raise ValueError(f"calibration has {len(self.bias)} biases for {logits.shape[-1]} labels")
            logits = logits + torch.tensor(self.bias, dtype=logits.dtype, device=logits.device)
        return logits / self.temperature

    def to_dict(self) -> dict[str, Any]:
        return {"temperature": self.temperature, "bias": list(self.bias), "fitted": self.fitted}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibration:
        return cls(
            temperature=float(data.get("temperature", 1.0)),
            bias=tuple(float(b) for b in data.get("bias", [])),
            fitted=dict(data.get("fitted", {})),
        )
