from __future__ import annotations

import torch
from torch import nn

from training.embedding_grad import reused_embedding_gradient


def _grads(embedding: nn.Embedding, batches: list[torch.Tensor], steps: int = 2) -> list[torch.Tensor]:
    """The embedding's gradient after each step; a step is two accumulated backward passes, then a cleared grad."""
    out = []
    for step in range(steps):
        for ids in batches:
            (embedding(ids) * torch.arange(1.0, 5.0)).pow(2).sum().backward()
        out.append(embedding.weight.grad.clone())
        embedding.weight.grad = None  # what optimizer.zero_grad() does
        with torch.no_grad():
            embedding.weight.add_(0.01 * (step + 1))
    return out


def test_the_reused_gradient_equals_the_default_one():
    torch.manual_seed(0)
    batches = [torch.tensor([[1, 2, 0, 0], [3, 3, 5, 0]]), torch.tensor([[0, 7, 7, 9]])]
    plain = nn.Embedding(10, 4, padding_idx=0)
    reused = nn.Embedding(10, 4, padding_idx=0)
    reused.load_state_dict(plain.state_dict())
    expected = _grads(plain, batches)
    with reused_embedding_gradient(reused) as applied:
        got = _grads(reused, batches)
        with torch.no_grad():
            assert torch.equal(reused(batches[0]), plain(batches[0]))
    assert applied
    for e, g in zip(expected, got, strict=True):
        torch.testing.assert_close(g, e)
    assert not got[0][0].any()  # the padding row gets no gradient
    assert "forward" not in vars(reused)  # the module's own forward is back


def test_other_embeddings_are_left_alone():
    frozen = nn.Embedding(5, 2)
    frozen.weight.requires_grad_(False)
    for module in (nn.Embedding(5, 2, sparse=True), nn.Embedding(5, 2, max_norm=1.0), frozen, nn.Linear(2, 2)):
        with reused_embedding_gradient(module) as applied:
            assert not applied
            assert "forward" not in vars(module)
