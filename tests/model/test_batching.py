from __future__ import annotations

import random

import pytest

from model.batching import default_max_tokens, length_batches


def test_every_input_once_longest_first_within_both_limits():
    rng = random.Random(0)
    lengths = [rng.randint(3, 128) for _ in range(500)]
    batches = length_batches(lengths, batch_size=64, max_tokens=1024)
    flat = [i for b in batches for i in b]
    assert sorted(flat) == list(range(len(lengths)))
    assert [lengths[i] for i in flat] == sorted(lengths, reverse=True)
    for batch in batches:
        assert len(batch) <= 64
        assert len(batch) * max(lengths[i] for i in batch) <= 1024


def test_short_inputs_go_many_to_a_batch_and_long_ones_few():
    batches = length_batches([10] * 100 + [128] * 20, batch_size=256, max_tokens=2048)
    sizes = {len(b) for b in batches}
    assert max(sizes) >= 88 and 16 in sizes  # 16 x 128 tokens; the short ones fill what is left


def test_an_input_longer_than_the_budget_is_a_batch_of_its_own():
    assert length_batches([500, 5, 5], batch_size=8, max_tokens=100) == [[0], [1, 2]]


def test_nothing_to_batch():
    assert length_batches([], batch_size=8, max_tokens=100) == []


@pytest.mark.parametrize("batch_size,max_tokens", [(0, 100), (8, 0)])
def test_limits_below_one_are_refused(batch_size, max_tokens):
    with pytest.raises(ValueError, match="must be 1 or more"):
        length_batches([3], batch_size=batch_size, max_tokens=max_tokens)


def test_a_gpu_gets_a_larger_budget():
    assert default_max_tokens("cuda") > default_max_tokens("cpu")
