"""The one input formatter shared by training and inference.

A ``pair`` input is the sentence with every mention of the target wrapped in marker tokens, followed by the target
as a second segment::

    [CLS] he added that [E] damascus [/E] has every right ... [SEP] syria [SEP]

A ``sentence`` input is the sentence alone. Sentences longer than ``max_length`` tokens are cut to a window that
keeps the first mention in view, and the result says so (``truncated``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import torch

from model.types import InputKind, Pair, Span

MENTION_START = "[E]"
MENTION_END = "[/E]"


@dataclass(frozen=True)
class InputFormat:
    """How a pair becomes model input; saved in the model directory so inference formats exactly as training did."""

    mention_markers: bool = True
    target_segment: bool = True
    max_length: int = 128
    mention_start: str = MENTION_START
    mention_end: str = MENTION_END

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> InputFormat:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass(frozen=True)
class EncodedInput:
    """Token ids for one input, unpadded."""

    input_ids: list[int]
    attention_mask: list[int]
    token_type_ids: list[int] | None
    truncated: bool


def merge_spans(spans: Sequence[Span], text_length: int) -> list[Span]:
    """Sorted, non-overlapping spans clipped to the text; overlapping or touching mentions become one."""
    ordered = sorted(
        (Span(max(0, s.start), min(text_length, s.end)) for s in spans if s.end > s.start),
        key=lambda s: s.start,
    )
    merged: list[Span] = []
    for span in ordered:
        if span.end <= span.start:
            continue
        if merged and span.start <= merged[-1].end:
            last = merged.pop()
            span = Span(last.start, max(last.end, span.end))
        merged.append(span)
    return merged


def mark_mentions(text: str, spans: Sequence[Span], fmt: InputFormat) -> str:
    """Wrap each mention in the start/end markers.

    >>> mark_mentions("Damascus has every right.", [Span(0, 8)], InputFormat())
    '[E] Damascus [/E] has every right.'
    """
    if not fmt.mention_markers or not spans:
        return text
    parts: list[str] = []
    cursor = 0
    for span in merge_spans(spans, len(text)):
        parts.append(text[cursor : span.start])
        parts.append(f"{fmt.mention_start} {text[span.start : span.end]} {fmt.mention_end}")
        cursor = span.end
    parts.append(text[cursor:])
    return "".join(parts)


class InputEncoder:
    """Formats and tokenizes pairs for one tokenizer and one `InputFormat`."""

    def __init__(self, tokenizer, fmt: InputFormat) -> None:
        self.tokenizer = tokenizer
        self.fmt = fmt
        self.start_marker_id: int | None = None
        if fmt.mention_markers:
            ids = tokenizer.convert_tokens_to_ids([fmt.mention_start, fmt.mention_end])
            unk = tokenizer.unk_token_id
            if any(i is None or i == unk for i in ids):
                raise ValueError(
                    f"tokenizer lacks the mention markers {fmt.mention_start!r}/{fmt.mention_end!r}; "
                    "call add_marker_tokens(tokenizer, fmt) before training"
                )
            self.start_marker_id = ids[0]

    def text_of(self, pair: Pair, kind: InputKind) -> tuple[str, str | None]:
        """The (first segment, second segment) strings for a pair as the given input kind."""
        if kind == "sentence":
            return pair.text, None
        first = mark_mentions(pair.text, pair.spans, self.fmt)
        second = pair.target if self.fmt.target_segment and pair.target else None
        return first, second

    def encode(self, pairs: Sequence[Pair], kind: InputKind) -> list[EncodedInput]:
        """Token ids for each pair (no padding), windowing inputs that exceed ``max_length``."""
        texts = [self.text_of(p, kind) for p in pairs]
        full = self._tokenize([t for t, _ in texts], [s for _, s in texts], truncate=False)
        out: list[EncodedInput] = []
        for i, (first, second) in enumerate(texts):
            ids = full["input_ids"][i]
            if len(ids) <= self.fmt.max_length:
                out.append(self._pack(full, i, truncated=False))
                continue
            window = self._window(first, second)
            enc = self._tokenize([window], [second], truncate=True)
            out.append(self._pack(enc, 0, truncated=True))
        return out

    def _tokenize(self, firsts: list[str], seconds: list[str | None], truncate: bool) -> dict:
        kwargs: dict[str, object] = {"add_special_tokens": True, "return_attention_mask": True}
        if truncate:
            kwargs.update(truncation="longest_first", max_length=self.fmt.max_length)
        if any(s is not None for s in seconds):
            # Mixed batches (some pairs without a target) are tokenized one group at a time.
            if all(s is not None for s in seconds):
                return self.tokenizer(firsts, seconds, **kwargs)
            merged: dict[str, list] = {}
            for f, s in zip(firsts, seconds, strict=True):
                enc = self.tokenizer([f], [s], **kwargs) if s is not None else self.tokenizer([f], **kwargs)
                for key, value in enc.items():
                    merged.setdefault(key, []).append(value[0])
            return merged
        return self.tokenizer(firsts, **kwargs)

    @staticmethod
    def _pack(enc: dict, i: int, truncated: bool) -> EncodedInput:
        types = enc.get("token_type_ids")
        return EncodedInput(
            input_ids=list(enc["input_ids"][i]),
            attention_mask=list(enc["attention_mask"][i]),
            token_type_ids=list(types[i]) if types is not None else None,
            truncated=truncated,
        )

    def _window(self, first: str, second: str | None) -> str:
        """A slice of ``first`` that fits the token budget and keeps the first mention marker in view."""
        if not getattr(self.tokenizer, "is_fast", False):
            return first
        reserve = 3 if second is not None else 2
        if second is not None:
            reserve += len(self.tokenizer(second, add_special_tokens=False)["input_ids"])
        budget = max(8, self.fmt.max_length - reserve)
        enc = self.tokenizer(first, add_special_tokens=False, return_offsets_mapping=True)
        ids, offsets = enc["input_ids"], enc["offset_mapping"]
        if len(ids) <= budget:
            return first
        anchor = ids.index(self.start_marker_id) if self.start_marker_id in ids else 0
        start = min(max(0, anchor - budget // 4), len(ids) - budget)
        end = start + budget - 1
        return first[offsets[start][0] : offsets[end][1]]


def pad_encoded(items: Sequence[EncodedInput], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-pad a batch to its longest member (dynamic padding) and return tensors."""
    width = max(len(e.input_ids) for e in items)
    ids = torch.full((len(items), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(items), width), dtype=torch.long)
    with_types = items[0].token_type_ids is not None
    types = torch.zeros((len(items), width), dtype=torch.long)
    for row, e in enumerate(items):
        n = len(e.input_ids)
        ids[row, :n] = torch.tensor(e.input_ids, dtype=torch.long)
        mask[row, :n] = 1
        if with_types and e.token_type_ids is not None:
            types[row, :n] = torch.tensor(e.token_type_ids, dtype=torch.long)
    batch = {"input_ids": ids, "attention_mask": mask}
    if with_types:
        batch["token_type_ids"] = types
    return batch


def add_marker_tokens(tokenizer, fmt: InputFormat) -> int:
    """Register the mention markers as special tokens; returns how many were new."""
    if not fmt.mention_markers:
        return 0
    return tokenizer.add_special_tokens(
        {"additional_special_tokens": [fmt.mention_start, fmt.mention_end]},
        replace_extra_special_tokens=False,
    )
