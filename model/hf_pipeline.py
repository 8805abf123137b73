"""``pipeline("actor-stance", model=DIR)``: the transformers pipeline API over the project's own predictor.

    >>> import model  # registers the pipeline and the Auto classes
    >>> from transformers import pipeline
    >>> stance = pipeline("actor-stance", model="models/default")
    >>> stance({"text": "Damascus rejected the plan.", "target": "Syria"})
    {'text': ..., 'target': 'Syria', 'mentions': [...], 'stance': {'label': ..., 'score': ..., 'probabilities': ...},
     'sentiment': {...}, 'truncated': False}

An input is a dict with ``text`` and ``target`` (and optionally ``spans``, ``[[start, end], ...]``; without them
the target's mentions are found as `/v1/classify` finds them: aliases of a known actor, the target's own name for
any other) or a plain string (the sentence tasks only). A list is scored in length-sorted batches by
`StancePredictor`, with the calibration from ``stance_model.json``: the same probabilities as the CLI and the API.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from transformers import AutoModel, Pipeline
from transformers.pipelines import PIPELINE_REGISTRY

from model.actors import ActorRegistry
from model.model_dir import PROJECT_FILE, ModelDirError, check_files, read_project
from model.network import logits_key
from model.predictor import StancePredictor
from model.types import Pair, Prediction, Span, TaskPrediction

TASK = "actor-stance"
STREAM_CHUNK = 256  # inputs per predictor call when the input is a generator or a dataset


class ActorStancePipeline(Pipeline):
    """Stance toward each input's target and the sentence-level tasks, with calibrated probabilities."""

    # transformers loads the tokenizer, nothing else (its class attributes are typed None).
    _load_tokenizer = True  # type: ignore[assignment]
    _load_processor = False  # type: ignore[assignment]
    _load_image_processor = False  # type: ignore[assignment]
    _load_video_processor = False  # type: ignore[assignment]
    _load_feature_extractor = False  # type: ignore[assignment]

    def __init__(self, model, tokenizer=None, actors: ActorRegistry | None = None, **kwargs: Any) -> None:
        super().__init__(model=model, tokenizer=tokenizer, **kwargs)
        project = _project(model.name_or_path)
        self.actors = actors or ActorRegistry.default()
        self.predictor = StancePredictor(model, self.tokenizer, project, str(self.device), runner=_TaskLogits(model))

    def __call__(self, inputs, batch_size: int | None = None, **kwargs: Any):  # type: ignore[override]
        """One result for a dict or a string, a list for a list, an iterator for a generator or a dataset."""
        if kwargs:
            raise TypeError(f"actor-stance pipeline: unknown arguments {sorted(kwargs)}")
        if isinstance(inputs, (str, dict)):
            return self._score([inputs], batch_size)[0]
        if isinstance(inputs, (list, tuple)):
            return self._score(list(inputs), batch_size)
        return self._stream(inputs, batch_size)

    def _stream(self, inputs: Iterable, batch_size: int | None) -> Iterator[dict[str, Any]]:
        chunk: list = []
        for item in inputs:
            chunk.append(item)
            if len(chunk) == STREAM_CHUNK:
                yield from self._score(chunk, batch_size)
                chunk = []
        if chunk:
            yield from self._score(chunk, batch_size)

    def _score(self, items: list, batch_size: int | None) -> list[dict[str, Any]]:
        pairs = [self.preprocess(item, index=i) for i, item in enumerate(items)]
        with_target = [i for i, pair in enumerate(pairs) if pair.target is not None]
        sentences = self.predictor.predict_sentences([p.text for p in pairs], batch_size)
        stances = self.predictor.predict([pairs[i] for i in with_target], batch_size, kinds=("pair",))
        merged = list(sentences)
        for i, stance in zip(with_target, stances, strict=True):
            tasks = {**stance.tasks, **sentences[i].tasks}
            merged[i] = Prediction(tasks=tasks, truncated=stance.truncated or sentences[i].truncated)
        return [self.postprocess(out) for out in zip(pairs, merged, strict=True)]

    # The single-item steps transformers' Pipeline defines; `__call__` runs them over whole lists.
    def _sanitize_parameters(self, **kwargs: Any):
        return {}, {}, {}

    def preprocess(self, item: str | dict[str, Any], index: int = 0) -> Pair:  # type: ignore[override]
        """A `Pair` from a string or a ``{"text", "target", "spans"?}`` dict; a bad item raises ValueError naming its
        index and field."""
        if isinstance(item, str):
            return Pair(item)
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise ValueError(f"input {index}: give a string or a dict with a 'text' string, not {item!r:.80}")
        text, target = item["text"], item.get("target")
        if target is None:
            return Pair(text)
        if not isinstance(target, str) or not target.strip():
            raise ValueError(f"input {index}: 'target' must be a non-empty string, not {target!r:.80}")
        if item.get("spans") is None:
            return self.actors.pair_for(text, target)
        try:
            spans = tuple(Span(int(start), int(end)) for start, end in item["spans"])
        except (TypeError, ValueError):
            raise ValueError(f"input {index}: 'spans' must be [[start, end], ...], not {item['spans']!r:.80}") from None
        for start, end in ((s.start, s.end) for s in spans):
            if not 0 <= start < end <= len(text):
                raise ValueError(f"input {index}: span {start}-{end} is not inside the text ({len(text)} characters)")
        return Pair(text, target, spans)

    def _forward(self, pair: Pair) -> Prediction:  # type: ignore[override]
        return self.predictor.predict([pair], kinds=("pair", "sentence") if pair.target else ("sentence",))[0]

    def postprocess(self, output: tuple[Pair, Prediction]) -> dict[str, Any]:  # type: ignore[override]
        pair, prediction = output
        result: dict[str, Any] = {"text": pair.text}
        if pair.target is not None:
            result["target"] = pair.target
            result["mentions"] = [
                {"start": s.start, "end": s.end, "text": pair.text[s.start : s.end]} for s in pair.spans
            ]
        result.update({name: _task(p) for name, p in prediction.tasks.items()})
        result["truncated"] = prediction.truncated
        return result


def _task(prediction: TaskPrediction) -> dict[str, Any]:
    return {
        "label": prediction.label,
        "score": prediction.probabilities[prediction.label],
        "probabilities": prediction.probabilities,
    }


class _TaskLogits:
    """Runs `ActorStanceModel` as the predictor runs `StanceNetwork`: logits by ``logits_<task>``."""

    def __init__(self, model) -> None:
        self.model = model

    def __call__(self, **batch):
        return {logits_key(name): logits for name, logits in self.model(**batch).task_logits.items()}


def _project(name_or_path: str):
    """``stance_model.json`` of the model the pipeline loaded: its labels' calibration and input format. A local
    directory is checked as `load_model_dir` checks it (every file's hash); a hub id is read from the hub cache."""
    directory = Path(name_or_path)
    if not directory.is_dir():
        from transformers.utils import cached_file

        found = cached_file(name_or_path, PROJECT_FILE)
        if found is None:
            raise ModelDirError(f"{name_or_path}: no {PROJECT_FILE}; not a model directory written by `stance train`")
        return read_project(Path(found).parent)
    project = read_project(directory)
    check_files(directory, project)
    return project


def register() -> None:
    """``pipeline("actor-stance", model=DIR)`` builds `ActorStancePipeline` (model/__init__.py calls this once
    transformers' pipelines are imported)."""
    PIPELINE_REGISTRY.register_pipeline(TASK, pipeline_class=ActorStancePipeline, pt_model=AutoModel, type="text")
