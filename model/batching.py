"""Length-sorted batches under a token budget: which inputs share a forward pass.

Inputs are sorted longest first and cut into batches whose padded size (items x the longest item's tokens) stays
within ``max_tokens`` and whose item count stays within ``batch_size``: short sentences go many to a batch, long
ones few, so a forward pass costs about the same whatever the lengths, padding is near zero, and memory per pass is
bounded. On a GPU a large budget keeps the device busy; on this 2-core CPU every budget from 1,024 to 3,072 tokens ran
the FA-KES pairs and sentences within noise of fixed batches of 32 (`make bench-speed` reports both).
"""

from __future__ import annotations

from collections.abc import Sequence

MAX_BATCH_ITEMS = 256  # inputs per forward pass when no batch size is given
CPU_MAX_TOKENS = 2048
GPU_MAX_TOKENS = 16384


def default_max_tokens(device_type: str) -> int:
    """The token budget per forward pass for a device type ("cpu", "cuda", ...)."""
    return GPU_MAX_TOKENS if device_type == "cuda" else CPU_MAX_TOKENS


def length_batches(lengths: Sequence[int], batch_size: int, max_tokens: int) -> list[list[int]]:
    """Indices into ``lengths``, longest first, in batches of at most ``batch_size`` items and ``max_tokens`` padded
    tokens; an input longer than the budget forms a batch of its own.

    >>> length_batches([3, 10, 4, 9], batch_size=8, max_tokens=20)
    [[1, 3], [2, 0]]
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be 1 or more, not {batch_size}")
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be 1 or more, not {max_tokens}")
    order = sorted(range(len(lengths)), key=lambda i: lengths[i], reverse=True)
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        width = lengths[current[0]] if current else lengths[i]  # the first item is the batch's longest
        if current and (len(current) >= batch_size or (len(current) + 1) * width > max_tokens):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches
