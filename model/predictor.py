"""Batch prediction: pairs in, one `Prediction` per pair out, in the order given."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

import torch

from model.actors import ActorRegistry
from model.backends import ONNX_FILES, REFERENCE, BackendCheck, OnnxNetwork, choose, onnx_file, running
from model.batching import MAX_BATCH_ITEMS, default_max_tokens, length_batches
from model.formatting import EncodedInput, InputEncoder, pad_encoded
from model.model_dir import FORMAT_VERSION, ModelProject, load_model_dir
from model.network import logits_key
from model.types import InputKind, Pair, Prediction, TaskPrediction, check_pairs

_LOG = logging.getLogger("stance.model")


class StancePredictor:
    """A loaded model directory that labels (sentence, target) pairs.

    >>> predictor = StancePredictor.from_dir("models/default")
    >>> [p.tasks["stance"].label for p in predictor.predict([Pair("Damascus has every right.", "Syria")])]
    """

    def __init__(
        self,
        network,
        tokenizer,
        project: ModelProject,
        device: str | None = None,
        backend: str = REFERENCE,
        backend_check: BackendCheck | None = None,
        runner=None,
        max_tokens: int | None = None,
    ) -> None:
        self.network = network
        self.tokenizer = tokenizer
        self.project = project
        self.encoder = InputEncoder(tokenizer, project.input_format)
        self.device = _device(device)
        self.network.to(self.device).eval()
        self.backend = backend  # model/backends.py
        self.backend_check = backend_check
        self.runner = runner or self.network  # what runs a batch: the network, or its ONNX export
        # Padded tokens per forward pass (model/batching.py): 2,048 on a CPU, 16,384 on a GPU unless given.
        self.max_tokens = max_tokens or default_max_tokens(self.device.type)
        if self.max_tokens < 1:
            raise ValueError(f"max_tokens must be 1 or more, not {max_tokens}")

    @classmethod
    def from_dir(
        cls,
        directory: str | os.PathLike,
        device: str | None = None,
        backend: str = "auto",
        max_tokens: int | None = None,
    ) -> StancePredictor:
        """Load a model directory; ``backend``: ``auto`` (the fastest checked one), ``torch-fp32``, ``torch-bf16``
        (model/backends.py); ``max_tokens``: padded tokens per forward pass (model/batching.py)."""
        network, tokenizer, project = load_model_dir(directory)
        if project.format_version < FORMAT_VERSION:
            _LOG.warning(
                "%s: model directory format %d; it loads here, but transformers' AutoModel cannot load it: "
                "`stance upgrade --model %s` rewrites it (same weights)",
                directory,
                project.format_version,
                directory,
            )
        name, check = choose(backend, directory, _device(device))
        runner = OnnxNetwork(onnx_file(directory, name)) if name in ONNX_FILES else None
        return cls(
            network, tokenizer, project, device, backend=name, backend_check=check, runner=runner,
            max_tokens=max_tokens,
        )  # fmt: skip

    def with_backend(self, backend: str, directory: str | os.PathLike) -> StancePredictor:
        """This predictor's network run by ``backend`` (an ONNX one from its file in ``directory``), whether or not
        it was checked: what the check itself and the speed benchmark run."""
        runner = OnnxNetwork(onnx_file(directory, backend)) if backend in ONNX_FILES else None
        return StancePredictor(
            self.network, self.tokenizer, self.project, str(self.device), backend=backend, runner=runner,
            max_tokens=self.max_tokens,
        )  # fmt: skip

    @property
    def tasks(self):
        return self.project.tasks

    def predict(
        self,
        pairs: Sequence[Pair],
        batch_size: int | None = None,
        kinds: Sequence[InputKind] = ("pair", "sentence"),
    ) -> list[Prediction]:
        """Each task's label and label probabilities for every pair.

        Inputs are run longest first in batches of up to ``max_tokens`` padded tokens (the predictor's budget) and
        ``batch_size`` inputs (None: up to 256).

        ``pair`` tasks read each pair; ``sentence`` tasks read each distinct sentence once. ``kinds`` limits the
        work to one kind of task (the document pipeline scores sentences separately). A text that is not a string or
        a span outside its text raises TypeError / ValueError naming the pair's index.
        """
        check_pairs(pairs)
        batch_size = _items_per_batch(batch_size)
        results: list[dict[str, TaskPrediction]] = [{} for _ in pairs]
        truncated = [False] * len(pairs)
        for kind in kinds:
            if kind == "sentence":  # each distinct sentence once (predict_sentences)
                sentences = self.predict_sentences([p.text for p in pairs], batch_size)
                per_pair = [(s.tasks, s.truncated) for s in sentences]
            else:
                per_pair = self._predict_kind(list(pairs), kind, batch_size)
            for i, (labels, cut) in enumerate(per_pair):
                results[i].update(labels)
                truncated[i] = truncated[i] or cut
        return [Prediction(tasks=r, truncated=t) for r, t in zip(results, truncated, strict=True)]

    def predict_texts(
        self,
        texts: Sequence[str],
        targets: Sequence[str],
        actors: ActorRegistry | None = None,
        batch_size: int | None = None,
    ) -> list[Prediction]:
        """Predictions for each (text, target), the target's mentions found by the actor registry as the API finds
        them (aliases of a registry actor, the target's own name for any other; default: the bundled actors)."""
        if len(texts) != len(targets):
            raise ValueError(f"{len(texts)} texts but {len(targets)} targets: give one target per text")
        registry = actors or ActorRegistry.default()
        return self.predict(list(map(registry.pair_for, texts, targets)), batch_size=batch_size)

    def predict_sentences(self, texts: Sequence[str], batch_size: int | None = None) -> list[Prediction]:
        """The sentence-level tasks (sentiment) for each text; a text given more than once is computed once (the
        service's batches join many requests, often for the same sentence with several targets)."""
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f"text {i}: must be a string, not {type(text).__name__}")
        batch_size = _items_per_batch(batch_size)
        unique = list(dict.fromkeys(texts))
        computed = {
            text: Prediction(tasks=labels, truncated=cut)
            for text, (labels, cut) in zip(
                unique, self._predict_kind([Pair(t) for t in unique], "sentence", batch_size), strict=True
            )
        }
        return [computed[text] for text in texts]

    def _predict_kind(
        self, items: Sequence[Pair], kind: InputKind, batch_size: int
    ) -> list[tuple[dict[str, TaskPrediction], bool]]:
        tasks = [t for t in self.project.tasks if t.input == kind]
        if not tasks or not items:
            return [({}, False) for _ in items]
        encoded = self.encoder.encode(items, kind)
        probs = self._run(encoded, kind, batch_size)
        out = []
        for i, enc in enumerate(encoded):
            labels = {}
            for task in tasks:
                row = probs[task.name][i]
                labels[task.name] = TaskPrediction(
                    label=task.labels[int(row.argmax())],
                    probabilities={label: float(row[j]) for j, label in enumerate(task.labels)},
                )
            out.append((labels, enc.truncated))
        return out

    def logits(self, pairs: Sequence[Pair], task: str, batch_size: int | None = None) -> torch.Tensor:
        """The task's raw logits (before calibration) for each pair (each pair's sentence for a sentence task), in
        order: what `training.calibrate` fits the calibration on."""
        check_pairs(pairs)
        spec = self.project.task(task)
        items = list(pairs) if spec.input == "pair" else [Pair(p.text) for p in pairs]
        encoded = self.encoder.encode(items, spec.input)
        return self._run(encoded, spec.input, _items_per_batch(batch_size), raw=True)[task]

    def _run(
        self, encoded: list[EncodedInput], kind: InputKind, batch_size: int, raw: bool = False
    ) -> dict[str, torch.Tensor]:
        """Calibrated probabilities (``raw``: uncalibrated logits) per task for encoded inputs: in length-sorted
        batches under the token budget, padded per batch, order restored."""
        tasks = [t for t in self.project.tasks if t.input == kind]
        batches = length_batches([len(e.input_ids) for e in encoded], batch_size, self.max_tokens)
        out = {t.name: torch.empty(len(encoded), len(t.labels)) for t in tasks}
        with torch.inference_mode(), running(self.backend, self.device):
            for chunk in batches:
                batch = self._pad([encoded[i] for i in chunk])
                logits = self.runner(**batch)
                for task in tasks:
                    values = logits[logits_key(task.name)].float()
                    calibration = self.project.calibration.get(task.name)
                    if not raw and calibration is not None:
                        values = calibration.apply(values)
                    out[task.name][chunk] = (values if raw else torch.softmax(values, dim=-1)).cpu()
        return out

    def _pad(self, items: list[EncodedInput]) -> dict[str, torch.Tensor]:
        batch = pad_encoded(items, self.tokenizer.pad_token_id or 0)
        return {k: v.to(self.device) for k, v in batch.items()}


def _items_per_batch(batch_size: int | None) -> int:
    if batch_size is None:
        return MAX_BATCH_ITEMS
    if batch_size < 1:
        raise ValueError(f"batch_size must be 1 or more, not {batch_size}")
    return batch_size


def _device(device: str | None) -> torch.device:
    return torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
