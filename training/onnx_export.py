"""The network exported to ONNX (float32, and int8 weights by dynamic quantization) into ``DIR/onnx/``, for the
ONNX Runtime backends of model/backends.py. `stance export` writes them, then checks them against float32."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from model.backends import INPUTS, onnx_file
from model.formatting import pad_encoded
from model.predictor import StancePredictor
from model.types import Pair, Span

OPSET = 17


class _Outputs(torch.nn.Module):
    """The network with its logits as a tuple in name order (ONNX outputs are positional)."""

    def __init__(self, network: torch.nn.Module, inputs: list[str], names: list[str]) -> None:
        super().__init__()
        self.network, self.inputs, self.names = network, inputs, names

    def forward(self, *tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = self.network(**dict(zip(self.inputs, tensors, strict=True)))
        return tuple(out[name] for name in self.names)


def export_onnx(predictor: StancePredictor, directory: str | os.PathLike) -> dict[str, Path]:
    """Write the float32 and int8 ONNX files of ``predictor``'s network into ``directory``; returns them by backend."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    sample = Pair("He added that Damascus has every right to expel terrorists.", "Syria", (Span(14, 22),))
    encoded = predictor.encoder.encode([sample, Pair("Talks went on.", "Turkey")], "pair")
    batch = pad_encoded(encoded, predictor.tokenizer.pad_token_id or 0)
    network = predictor.network.cpu().eval()
    inputs = [k for k in INPUTS if k in batch]  # a tokenizer without token types has two
    with torch.no_grad():
        names = sorted(network(**batch))
    fp32, int8 = onnx_file(directory, "onnx-fp32"), onnx_file(directory, "onnx-int8")
    fp32.parent.mkdir(parents=True, exist_ok=True)
    partial = fp32.with_suffix(".onnx.partial")
    torch.onnx.export(
        _Outputs(network, inputs, names), tuple(batch[k] for k in inputs), str(partial), input_names=inputs,
        output_names=names, dynamic_axes={k: {0: "batch", 1: "tokens"} for k in inputs}, opset_version=OPSET,
        dynamo=False,
    )  # fmt: skip
    os.replace(partial, fp32)
    partial = int8.with_suffix(".onnx.partial")
    # Per-channel weights of the matrix products only (not the embeddings' lookup): the variant that kept stance
    # macro-F1 closest to float32 on the default model's dev pairs; the check decides whether it is used.
    quantize_dynamic(
        str(fp32), str(partial), weight_type=QuantType.QInt8, per_channel=True, op_types_to_quantize=["MatMul"]
    )
    os.replace(partial, int8)
    return {"onnx-fp32": fp32, "onnx-int8": int8}
