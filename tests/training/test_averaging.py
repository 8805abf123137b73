"""The learning-rate schedules and SWA start step of `training.averaging` (the callback is tested in test_train)."""

import pytest
import torch
from transformers import get_linear_schedule_with_warmup

from training.averaging import lr_factor_fn, swa_start_step


def test_without_swa_the_schedule_is_the_linear_warmup_and_decay_of_transformers():
    total, warmup = 200, 12
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    reference = get_linear_schedule_with_warmup(optimizer, warmup, total)
    ours = lr_factor_fn(total, warmup, None, 25, 0.0)
    for step in range(total + 1):
        assert ours(step) == pytest.approx(reference.lr_lambdas[0](step))


def test_cyclical_swa_restarts_after_each_evaluation_and_decays_before_the_next():
    total, warmup, every = 400, 20, 50
    begin = swa_start_step(0.5, total, every, cyclic=True)
    assert begin == 201  # first evaluation at or after half of the steps is 200; snapshots after it
    factor = lr_factor_fn(total, warmup, begin - 1, every, 0.4)
    assert factor(0) == 0 and factor(warmup) == pytest.approx(1.0)
    assert factor(199) == pytest.approx(0.4, abs=0.01)  # the linear phase ends at swa_lr x peak
    for eval_step in (200, 250, 300, 350):
        # the optimiser step right after an evaluation restarts the cycle, the one before it is nearly zero
        assert factor(eval_step) == pytest.approx(0.4)
        assert factor(eval_step + every - 1) == pytest.approx(0.4 / every)
    assert all(factor(s) <= 0.4 + 1e-9 for s in range(200, total))


def test_swa_start_without_cycles_is_the_share_of_steps():
    assert swa_start_step(0.5, 401, 50, cyclic=False) == 200
    assert swa_start_step(0.0, 401, 50, cyclic=True) is None
