"""Text to predictions: input formatting, the multi-task network, the model directory and batch prediction.

`model/` knows nothing of HTTP, training or `datasets`.
"""

from __future__ import annotations

from model.types import Pair, Prediction, Span, TaskPrediction, TaskSpec

__all__ = ["Pair", "Prediction", "Span", "TaskPrediction", "TaskSpec"]
