"""Weight averaging and the dev score of `training.soup` (the training path is tested in test_train)."""

import torch

from training.soup import average_weights, dev_select


def test_average_weights_means_float_entries_and_keeps_integer_buffers():
    a = {"w": torch.tensor([1.0, 3.0], dtype=torch.bfloat16), "ids": torch.tensor([0, 1])}
    b = {"w": torch.tensor([3.0, 5.0], dtype=torch.bfloat16), "ids": torch.tensor([0, 1])}
    out = average_weights([a, b])
    assert out["w"].dtype == torch.bfloat16 and out["w"].tolist() == [2.0, 4.0]
    assert out["ids"].tolist() == [0, 1]
    assert a["w"].tolist() == [1.0, 3.0]  # inputs untouched


def test_dev_select_is_a_task_score_or_the_mean_over_tasks():
    metrics = {"stance": {"macro_f1": 0.7}, "sentiment": {"macro_f1": 0.5}}
    assert dev_select(metrics, "stance") == 0.7
    assert abs(dev_select(metrics, "mean") - 0.6) < 1e-9
    assert dev_select({}, "stance") == 0.0
