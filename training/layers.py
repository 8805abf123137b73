"""The encoder's layers during fine-tuning: re-initialise the top ones, freeze the bottom ones, and give each its
learning rate (layer-wise decay, a separate scale for the task heads)."""

from __future__ import annotations

import re
from typing import Any

import torch

from training.config import ConfigError

_LAYER = re.compile(r"\.layers?\.(\d+)\.")


def _encoder_level(name: str, num_layers: int) -> int:
    """Height of an encoder parameter: 0 for the embeddings, i + 1 for transformer layer i, ``num_layers + 1`` for
    anything above the layers (a pooler)."""
    found = _LAYER.search(f".{name}")
    if found:
        return int(found.group(1)) + 1
    return 0 if "embed" in name else num_layers + 1


def layer_lr_scale(name: str, num_layers: int, decay: float, head_scale: float = 1.0) -> float:
    """Learning-rate factor of the parameter ``name``: ``head_scale`` for the task heads; under layer-wise decay 1
    for the top encoder layer, ``decay`` per layer below it, ``decay ** num_layers`` for the embeddings."""
    if not name.startswith("encoder."):
        return head_scale if name.startswith("heads.") else 1.0
    if decay >= 1.0:
        return 1.0
    return decay ** max(0, num_layers - _encoder_level(name, num_layers))


def _num_layers(encoder: object) -> int:
    """The encoder's number of transformer layers from its config (0 where it does not say)."""
    return int(getattr(getattr(encoder, "config", None), "num_hidden_layers", 0) or 0)


def reinit_top_layers(encoder: torch.nn.Module, count: int) -> None:
    """Draw the weights of the encoder's top ``count`` layers afresh, as BERT-style pre-training starts them
    (linear weights from N(0, initializer_range), biases 0, layer norms 1 and 0), from the current random state."""
    if count <= 0:
        return
    num_layers = _num_layers(encoder)
    stacks = [m for m in encoder.modules() if isinstance(m, torch.nn.ModuleList) and len(m) == num_layers]
    if not num_layers or not stacks:
        raise ConfigError("reinit_layers: cannot find the encoder's stack of layers")
    if count > num_layers:
        raise ConfigError(f"reinit_layers: the encoder has {num_layers} layers, not {count}")
    std = float(getattr(encoder.config, "initializer_range", 0.02))
    # Tensor methods, not torch.nn.init: while any thread is inside from_pretrained, transformers swaps
    # torch.nn.init's functions for ones that skip parameters it loaded, and these were loaded.
    with torch.no_grad():
        for layer in stacks[0][-count:]:
            for module in layer.modules():
                if isinstance(module, torch.nn.Linear):
                    module.weight.normal_(mean=0.0, std=std)
                    if module.bias is not None:
                        module.bias.zero_()
                elif isinstance(module, torch.nn.LayerNorm):
                    module.weight.fill_(1.0)
                    module.bias.zero_()


def freeze_bottom_layers(encoder: torch.nn.Module, count: int) -> int:
    """Keep the encoder's ``count`` lowest layers fixed, the embeddings counting as the lowest: their parameters
    stop requiring gradients, so the backward pass ends above them. Returns how many parameters were frozen."""
    if count <= 0:
        return 0
    num_layers = _num_layers(encoder)
    if not num_layers:
        raise ConfigError("frozen_layers: cannot find the encoder's number of layers in its config")
    if count > num_layers + 1:
        raise ConfigError(
            f"frozen_layers: the encoder has {num_layers + 1} layers counting the embeddings, not {count}"
        )
    frozen = 0
    for name, param in encoder.named_parameters():
        if _encoder_level(name, num_layers) < count:
            param.requires_grad_(False)
            frozen += param.numel()
    if not frozen:
        raise ConfigError("frozen_layers: found no embedding or layer parameters to freeze in the encoder")
    return frozen


def split_by_layer_lr(
    optimizer: torch.optim.Optimizer, model: torch.nn.Module, decay: float, head_scale: float = 1.0
) -> None:
    """Split each parameter group of the fresh ``optimizer`` by `layer_lr_scale`, each part at its own rate."""
    num_layers = _num_layers(getattr(model, "encoder", None))
    names = {id(p): n for n, p in model.named_parameters()}
    groups: list[dict[str, Any]] = []
    for group in optimizer.param_groups:
        settings = {k: v for k, v in group.items() if k != "params"}
        by_scale: dict[float, list] = {}
        for param in group["params"]:
            by_scale.setdefault(layer_lr_scale(names[id(param)], num_layers, decay, head_scale), []).append(param)
        groups += [{**settings, "params": ps, "lr": group["lr"] * scale} for scale, ps in by_scale.items()]
    optimizer.param_groups.clear()  # no optimizer state exists yet
    for group in groups:
        optimizer.add_param_group(group)
