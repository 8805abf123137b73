"""Batch prediction: pairs in, one `Prediction` per pair out, in the order given."""

from __future__ import annotations

import os
from collections.abc import Sequence

import torch

from model.formatting import EncodedInput, InputEncoder, pad_encoded
from model.model_dir import ModelProject, load_model_dir
from model.network import logits_key
from model.types import InputKind, Pair, Prediction, TaskPrediction


class StancePredictor:
    """A loaded model directory that labels (sentence, target) pairs.

    >>> predictor = StancePredictor.from_dir("models/default")
    >>> [p.tasks["stance"].label for p in predictor.predict([Pair("Damascus has every right.", "Syria")])]
    """

    def __init__(self, network, tokenizer, project: ModelProject, device: str | None = None) -> None:
        self.network = network
        self.tokenizer = tokenizer
        self.project = project
        self.encoder = InputEncoder(tokenizer, project.input_format)
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.network.to(self.device).eval()

    @classmethod
    def from_dir(cls, directory: str | os.PathLike, device: str | None = None) -> StancePredictor:
        network, tokenizer, project = load_model_dir(directory)
        return cls(network, tokenizer, project, device=device)

    @property
    def tasks(self):
        return self.project.tasks

    def predict(self, pairs: Sequence[Pair], batch_size: int = 32) -> list[Prediction]:
        """Each task's label and label probabilities for every pair.

        ``pair`` tasks read each pair; ``sentence`` tasks read each distinct sentence once.
        """
        results: list[dict[str, TaskPrediction]] = [{} for _ in pairs]
        truncated = [False] * len(pairs)
        for kind in ("pair", "sentence"):
            tasks = [t for t in self.project.tasks if t.input == kind]
            if not tasks or not pairs:
                continue
            if kind == "sentence":
                unique = list(dict.fromkeys(p.text for p in pairs))
                index = {text: i for i, text in enumerate(unique)}
                items = [Pair(text) for text in unique]
                owner = [index[p.text] for p in pairs]
            else:
                items = list(pairs)
                owner = list(range(len(pairs)))
            encoded = self.encoder.encode(items, kind)
            probs = self._run(encoded, kind, batch_size)
            for i, item_index in enumerate(owner):
                truncated[i] = truncated[i] or encoded[item_index].truncated
                for task in tasks:
                    row = probs[task.name][item_index]
                    best = int(row.argmax())
                    results[i][task.name] = TaskPrediction(
                        label=task.labels[best],
                        probabilities={label: float(row[j]) for j, label in enumerate(task.labels)},
                    )
        return [Prediction(tasks=r, truncated=t) for r, t in zip(results, truncated, strict=True)]

    def _run(self, encoded: list[EncodedInput], kind: InputKind, batch_size: int) -> dict[str, torch.Tensor]:
        """Probabilities per task for encoded inputs: sorted by length, padded per batch, order restored."""
        tasks = [t for t in self.project.tasks if t.input == kind]
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i].input_ids), reverse=True)
        out = {t.name: torch.empty(len(encoded), len(t.labels)) for t in tasks}
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                chunk = order[start : start + batch_size]
                batch = self._pad([encoded[i] for i in chunk])
                logits = self.network(**batch)
                for task in tasks:
                    out[task.name][chunk] = torch.softmax(logits[logits_key(task.name)].float(), dim=-1).cpu()
        return out

    def _pad(self, items: list[EncodedInput]) -> dict[str, torch.Tensor]:
        batch = pad_encoded(items, self.tokenizer.pad_token_id or 0)
        return {k: v.to(self.device) for k, v in batch.items()}
