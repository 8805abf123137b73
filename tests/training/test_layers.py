"""Layer-wise learning rates, re-initialised top layers and frozen bottom layers of `training.layers` (their effect
on a whole run is tested in test_train)."""

from __future__ import annotations

import pytest
import torch

from training.config import ConfigError
from training.layers import freeze_bottom_layers, layer_lr_scale, reinit_top_layers


def test_layer_lr_scale_leaves_heads_and_other_names_alone():
    assert layer_lr_scale("heads.stance.1.weight", 6, 0.8) == 1.0
    assert layer_lr_scale("heads.stance.1.weight", 6, 0.8, head_scale=5.0) == 5.0
    assert layer_lr_scale("encoder.encoder.layer.5.output.dense.weight", 6, 1.0, head_scale=5.0) == 1.0
    assert layer_lr_scale("encoder.encoder.layer.5.output.dense.weight", 6, 0.8) == 1.0
    assert layer_lr_scale("encoder.encoder.layer.0.output.dense.weight", 6, 0.8) == pytest.approx(0.8**5)
    assert layer_lr_scale("encoder.embeddings.word_embeddings.weight", 6, 0.8) == pytest.approx(0.8**6)
    assert layer_lr_scale("encoder.encoder.layer.0.output.dense.weight", 6, 1.0) == 1.0


def test_reinit_layers_draws_only_the_top_layers_afresh(tiny_base, tmp_path):
    from transformers import AutoModel

    def weights(encoder, layer):
        return torch.cat([p.flatten() for p in encoder.encoder.layer[layer].parameters()])

    pretrained = AutoModel.from_pretrained(tiny_base)
    encoder = AutoModel.from_pretrained(tiny_base)
    top = len(encoder.encoder.layer) - 1
    reinit_top_layers(encoder, 1)
    assert torch.equal(weights(encoder, 0), weights(pretrained, 0))
    assert not torch.equal(weights(encoder, top), weights(pretrained, top))
    norm = encoder.encoder.layer[top].output.LayerNorm
    assert torch.equal(norm.weight, torch.ones_like(norm.weight)) and not norm.bias.any()
    with pytest.raises(ConfigError, match="has 2 layers, not 3"):
        reinit_top_layers(encoder, 3)


def test_reinit_layers_works_while_another_thread_loads_a_model(tiny_base):
    """CI once saw the top layer unchanged: another thread's from_pretrained had swapped torch.nn.init's
    functions for ones that skip loaded parameters."""
    from transformers import AutoModel

    initialization = pytest.importorskip("transformers.initialization")
    encoder = AutoModel.from_pretrained(tiny_base)
    before = encoder.encoder.layer[-1].output.dense.weight.clone()
    with initialization.guard_torch_init_functions():
        reinit_top_layers(encoder, 1)
    assert not torch.equal(encoder.encoder.layer[-1].output.dense.weight, before)


def test_frozen_layers_counts_the_embeddings_as_the_lowest(tiny_base):
    from transformers import AutoModel

    encoder = AutoModel.from_pretrained(tiny_base)
    assert freeze_bottom_layers(encoder, 0) == 0
    frozen = freeze_bottom_layers(encoder, 2)
    fixed = {n for n, p in encoder.named_parameters() if not p.requires_grad}
    assert fixed and all(n.startswith(("embeddings.", "encoder.layer.0.")) for n in fixed)
    assert {n for n, p in encoder.named_parameters() if n.startswith("embeddings.")} <= fixed
    assert frozen == sum(p.numel() for n, p in encoder.named_parameters() if n in fixed)
    assert all(p.requires_grad for n, p in encoder.named_parameters() if n.startswith("encoder.layer.1."))
    with pytest.raises(ConfigError, match="3 layers counting the embeddings, not 4"):
        freeze_bottom_layers(AutoModel.from_pretrained(tiny_base), 4)
