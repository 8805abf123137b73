"""Weight averaging of `training.soup` (the training path is tested in test_train, the dev score in test_selection)."""

import torch

from training.soup import average_weights


def test_average_weights_means_float_entries_and_keeps_integer_buffers():
    a = {"w": torch.tensor([1.0, 3.0], dtype=torch.bfloat16), "ids": torch.tensor([0, 1])}
    b = {"w": torch.tensor([3.0, 5.0], dtype=torch.bfloat16), "ids": torch.tensor([0, 1])}
    out = average_weights([a, b])
    assert out["w"].dtype == torch.bfloat16 and out["w"].tolist() == [2.0, 4.0]
    assert out["ids"].tolist() == [0, 1]
    assert a["w"].tolist() == [1.0, 3.0]  # inputs untouched
