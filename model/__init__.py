"""Text to predictions: input formatting, the multi-task network, the model directory and batch prediction.

`model/` knows nothing of HTTP, training or `datasets`. Importing it registers the model directory's classes with
transformers (model/registration.py): ``AutoModel.from_pretrained(DIR)`` and ``pipeline("actor-stance", DIR)``.
"""

from __future__ import annotations

from typing import Any

from model import registration
from model.types import Pair, Prediction, Span, TaskPrediction, TaskSpec

registration.install()

__all__ = ["Pair", "Prediction", "Span", "TaskPrediction", "TaskSpec", "analyze_frame"]


def __getattr__(name: str) -> Any:
    # `analyze_frame` loads torch and transformers: imported on first use, so `import model` stays light.
    if name == "analyze_frame":
        from model.frame import analyze_frame

        return analyze_frame
    raise AttributeError(f"module 'model' has no attribute {name!r}")
