"""A cheaper gradient for the word-embedding matrix during training, with the same values.

PyTorch's embedding backward allocates a new zero-filled gradient the size of the whole vocabulary matrix
(30,524 x 384 floats, 47 MB, for all-MiniLM-L6-v2) at every step, though a batch touches a few hundred rows; on a
2-core CPU the allocation and page faults alone took about a tenth of each training step. Here the lookup's
backward instead adds the batch's rows into one gradient buffer kept for the whole run (zeroed in place when the
optimizer has cleared the gradient), and returns nothing to autograd. The gradient is the same as the default one,
padding row excluded, so training follows the same path; only the time changes (`benchmarks/train_step.py`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn


class _Buffer:
    """The gradient buffer of one embedding matrix, created on first use."""

    def __init__(self) -> None:
        self.tensor: torch.Tensor | None = None


class _Lookup(torch.autograd.Function):
    @staticmethod
    def forward(ctx, ids: torch.Tensor, weight: torch.Tensor, padding_idx: int | None, buffer: _Buffer):  # type: ignore[override]
        ctx.save_for_backward(ids)
        ctx.weight, ctx.padding_idx, ctx.buffer = weight, padding_idx, buffer
        return nn.functional.embedding(ids, weight, padding_idx)

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):  # type: ignore[override]
        (ids,) = ctx.saved_tensors
        weight: torch.Tensor = ctx.weight
        ids = ids.reshape(-1)
        rows = grad_out.reshape(-1, grad_out.shape[-1])
        if ctx.padding_idx is not None:
            keep = ids != ctx.padding_idx
            ids, rows = ids[keep], rows[keep]
        if weight.grad is None:  # cleared by the optimizer since the last step: start from zero again
            buffer: _Buffer = ctx.buffer
            if buffer.tensor is None or buffer.tensor.shape != weight.shape or buffer.tensor.device != weight.device:
                buffer.tensor = torch.zeros_like(weight)
            else:
                buffer.tensor.zero_()
            weight.grad = buffer.tensor
        weight.grad.index_add_(0, ids, rows.to(weight.grad.dtype))
        return None, None, None, None


def _supported(embedding: nn.Module) -> bool:
    return (
        type(embedding) is nn.Embedding
        and embedding.weight.requires_grad
        and not embedding.sparse
        and embedding.max_norm is None
        and not embedding.scale_grad_by_freq
    )


@contextmanager
def reused_embedding_gradient(embedding: nn.Module) -> Iterator[bool]:
    """Within the block, ``embedding``'s backward accumulates into one reused buffer; yields whether it applies.

    Only a plain trainable `nn.Embedding` is changed (any other module is left as it is). The module's own
    ``forward`` is back when the block ends.
    """
    if not _supported(embedding):
        yield False
        return
    assert isinstance(embedding, nn.Embedding)
    buffer = _Buffer()

    def forward(ids: torch.Tensor) -> torch.Tensor:
        if not torch.is_grad_enabled():
            return nn.functional.embedding(ids, embedding.weight, embedding.padding_idx)
        return _Lookup.apply(ids, embedding.weight, embedding.padding_idx, buffer)

    embedding.forward = forward  # type: ignore[method-assign,assignment]
    try:
        yield True
    finally:
        del embedding.forward
