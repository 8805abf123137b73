"""Request and response models of the HTTP API, and their conversion to and from the pipeline's dataclasses."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from model.actors import ActorRegistry
from model.extraction import Document
from model.types import Pair, Prediction, Span


def _encodable(value: str) -> str:
    """JSON may carry a lone UTF-16 surrogate (``"\\ud800"``), which is no Unicode text: refused, with its place."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"character {exc.start} is a lone surrogate (U+{ord(value[exc.start]):04X}), not valid Unicode text; "
            "send the text as valid UTF-8"
        ) from None
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty or only whitespace")
    return _encodable(value)


def _encodable_values(value: Any) -> Any:
    """Every string inside ``value`` (nested lists and mappings included) checked by `_encodable`."""
    if isinstance(value, str):
        return _encodable(value)
    if isinstance(value, dict):
        for key, item in value.items():
            _encodable_values(key)
            _encodable_values(item)
    elif isinstance(value, list):
        for item in value:
            _encodable_values(item)
    return value


Text = Annotated[StrictStr, AfterValidator(_not_blank), Field(json_schema_extra={"pattern": r"\S"})]
Name = Annotated[str, AfterValidator(_encodable)]
Offset = Annotated[int, Field(strict=True, ge=0, description="a Unicode code point index (a Python str index)")]


class InlineActor(BaseModel):
    """An actor given with the request, instead of (or on top of) the server's registry."""

    model_config = ConfigDict(extra="forbid")
    name: Name = Field(min_length=1, max_length=200)
    aliases: list[Name] = Field(default_factory=list, max_length=200)
    case_sensitive: list[Name] = Field(default_factory=list, max_length=200)
    patterns: list[Name] = Field(default_factory=list, max_length=20)
    exclude: list[Name] = Field(default_factory=list, max_length=200)


class DocumentIn(BaseModel):
    """A document; fields other than ``id`` and ``text`` (source, date, ...) are returned as given."""

    model_config = ConfigDict(extra="allow")
    id: Annotated[StrictStr, AfterValidator(_encodable)] | Annotated[int, Field(strict=True)] | None = None
    text: Text

    @model_validator(mode="after")
    def extra_fields_are_text(self) -> DocumentIn:
        for key, value in (self.model_extra or {}).items():
            try:
                _encodable_values(value)
            except ValueError as exc:
                raise ValueError(f"field {key!r}: {exc}") from None
        return self


class AnalyzeRequest(BaseModel):
    """Either ``documents`` or a single ``text``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"text": "He added that Damascus has every right to expel terrorists from its territory."},
                {
                    "documents": [{"id": "a1", "text": "Turkey shelled the town.", "source": "trt"}],
                    "actors": [{"name": "Kurdish YPG", "aliases": ["YPG", "People's Protection Units"]}],
                    "score_all_actors": False,
                },
            ],
            "oneOf": [
                {"required": ["text"], "properties": {"text": {"type": "string"}}},
                {"required": ["documents"], "properties": {"documents": {"type": "array"}}},
            ],
        },
    )
    documents: list[DocumentIn] | None = None
    text: Text | None = None
    actors: list[InlineActor] | None = Field(
        None, description="inline actors, added to the server's actors (one of the same name replaces it)"
    )
    replace_actors: StrictBool = Field(False, description="use only the inline actors, not the server's")
    score_all_actors: StrictBool | list[Annotated[StrictStr, AfterValidator(_encodable)]] = Field(
        False, description="also score actors not mentioned in a sentence: true for all, or a list of actor names"
    )

    @model_validator(mode="after")
    def one_input(self) -> AnalyzeRequest:  # in the schema: the "oneOf" above
        if (self.documents is None) == (self.text is None):
            raise ValueError("give either 'documents' or 'text'")
        return self

    def to_documents(self) -> list[Document]:
        if self.text is not None:
            return [Document("0", self.text)]
        docs = []
        for i, d in enumerate(self.documents or []):
            extra = dict(d.model_extra or {})
            docs.append(Document(str(d.id) if d.id is not None else str(i), d.text, extra))
        return docs


class ClassifyItem(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"dependentRequired": {"mention_start": ["mention_end"], "mention_end": ["mention_start"]}},
    )
    text: Text
    target: Text
    mention_start: Offset | None = None
    mention_end: Offset | None = Field(None, validate_default=True)

    @field_validator("mention_end")
    @classmethod
    def offsets(cls, end: int | None, info: ValidationInfo) -> int | None:
        """Checked on ``mention_end`` so that errors name it (``items[0].mention_end``), not the whole item."""
        if "mention_start" not in info.data or "text" not in info.data:
            return end  # already reported as invalid
        start, text = info.data["mention_start"], info.data["text"]
        if (start is None) != (end is None):
            raise ValueError("mention_start and mention_end go together")
        if start is not None and end is not None:
            if start >= end:
                raise ValueError(f"mention_end {end} must be above mention_start {start}")
            if end > len(text):
                raise ValueError(f"mention_end {end} is beyond the text ({len(text)} characters)")
        return end

    def to_pair(self, registry: ActorRegistry) -> Pair:
        if self.mention_start is not None and self.mention_end is not None:
            return Pair(self.text, self.target, (Span(self.mention_start, self.mention_end),))
        return registry.pair_for(self.text, self.target)


class ClassifyRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"items": [{"text": "Damascus has every right to expel terrorists.", "target": "Syria"}]}]
        },
    )
    items: list[ClassifyItem]


class LabelOut(BaseModel):
    """One task's label and the probability of every label."""

    model_config = ConfigDict(extra="forbid")
    label: str
    probabilities: dict[str, float]


class ClassifyResult(BaseModel):
    text: str
    target: str
    mentions: list[dict[str, int]]
    truncated: bool
    stance: LabelOut | None = None
    sentiment: LabelOut | None = None


class ClassifyResponse(BaseModel):
    model: str
    items: list[ClassifyResult]


# The analyze response, for the schema: the route writes the JSON of `analysis.formats.document_to_dict` itself
# (`serve/responses.py`), so these models describe it and are not run on the way out.


class MentionOut(BaseModel):
    """Where an actor is named: document offsets (code points) and the text there."""

    model_config = ConfigDict(extra="forbid")
    start: int
    end: int
    text: str


class ActorEntryOut(BaseModel):
    """The stance of one sentence toward one actor; ``mentioned`` is false for an actor scored without a mention."""

    model_config = ConfigDict(extra="forbid")
    actor: str
    mentioned: bool
    mentions: list[MentionOut]
    stance: LabelOut | None


class SentenceOut(BaseModel):
    """One sentence: document offsets, sentiment, and an entry per actor scored in it (none for boilerplate)."""

    model_config = ConfigDict(extra="forbid")
    index: int
    start: int
    end: int
    text: str
    sentiment: LabelOut | None
    truncated: bool
    boilerplate: bool
    actors: list[ActorEntryOut]


class ActorSummaryOut(BaseModel):
    """One actor across a document: sentences scored, label counts, mean probabilities, mean P(favor) - P(against)."""

    model_config = ConfigDict(extra="forbid")
    sentences: int
    counts: dict[str, int]
    mean_probabilities: dict[str, float]
    net_stance: float | None


class DocumentOut(BaseModel):
    """One analyzed document; the request's other document fields follow ``id`` as given (renamed ``input_<name>``
    where they collide with a field of the answer)."""

    model_config = ConfigDict(extra="allow")
    id: str
    sentences: list[SentenceOut]
    actors: dict[str, ActorSummaryOut]


class AnalyzeResponse(BaseModel):
    """The model that answered (``name@hash``) and one analyzed document per request document, in request order."""

    model: str
    documents: list[DocumentOut]


class ReloadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: str = Field(min_length=1, max_length=200, description="a directory name under the models root")


def classify_result(pair: Pair, stance: Prediction, sentiment: Prediction) -> ClassifyResult:
    """One classify item: the pair-task prediction for ``pair`` and the sentence-task one for its text."""
    tasks = {**stance.tasks, **sentiment.tasks}
    labels = {name: LabelOut(label=p.label, probabilities=p.probabilities) for name, p in tasks.items()}
    return ClassifyResult(
        text=pair.text,
        target=pair.target or "",
        mentions=[{"start": s.start, "end": s.end} for s in pair.spans],
        truncated=stance.truncated or sentiment.truncated,
        stance=labels.get("stance"),
        sentiment=labels.get("sentiment"),
    )


class ErrorDetail(BaseModel):
    """What went wrong: ``code`` for programs, ``message`` for people; ``field`` names the request field when one is
    to blame (``items[0].mention_end``); limits (413) add ``limit`` and ``setting``, 429 adds ``retry_after``."""

    model_config = ConfigDict(extra="allow")
    status: int
    code: str
    message: str
    field: str | None = None


class ErrorBody(BaseModel):
    """Every error, whatever its status."""

    error: ErrorDetail


_ERROR_MEANING = {
    400: "a model name that is not a plain name of a directory under the models root",
    401: "missing or wrong API key / admin token",
    404: "no such model, or the feature is off",
    413: "a limit exceeded (body bytes, documents, characters, items, inline actors)",
    422: "malformed request: not JSON or not UTF-8 (code invalid_json), or a field that fails (field names it)",
    429: "too much work already waiting; retry after the Retry-After header's seconds",
    500: "an internal error (details in the server log)",
    503: "no model loaded yet, loading failed, or shutting down",
    504: "the request ran past the per-request timeout",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the error statuses a route can answer (500 always; 413 and 422 with any body)."""
    return {s: {"model": ErrorBody, "description": _ERROR_MEANING[s]} for s in sorted({*statuses, 500})}
