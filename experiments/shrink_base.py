"""Shrink a base model's weights to carry them to a lent GPU machine within its transfer limit (64 MiB a call).

Matrices become int8 with one float16 scale per row (``<name>.q8`` and ``<name>.scale``; relative error about 1 %),
other floating tensors float16; `experiments/gpu_grid.rebuild_base` (``gpu_grid.py --fp16-base DIR``,
``teacher_folds.py --int8-base DIR...``, ``teacher_unlabelled.py --int8-base DIR...``) widens them back to float32.

    python -m experiments.shrink_base --output .gpu/mini                       # the default base: int8 word embeddings
    python -m experiments.shrink_base --base models/teacher-base --int8 all --parts 3 --output .gpu/mpnet

With ``--parts N`` the tensors are spread over N folders (OUTPUT-1 ... OUTPUT-N) of about equal size, one per call;
the config and tokenizer files go with the last. Copy each to /tmp on the machine as it arrives (a carried folder
replaces the one carried before).
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path


def shrink(tensors: dict, int8: str) -> dict:
    import torch

    out = {}
    for name, t in tensors.items():
        if t.is_floating_point() and t.dim() == 2 and (int8 == "all" or "word_embeddings" in name):
            scale = t.abs().amax(dim=1, keepdim=True).clamp(min=1e-12) / 127
            out[name + ".q8"] = (t / scale).round().clamp(-127, 127).to(torch.int8)
            out[name + ".scale"] = scale.half()
        elif t.is_floating_point():
            out[name] = t.half()
        else:
            out[name] = t
    return out


def main() -> None:
    from safetensors.torch import load_file, save_file

    from model.base import resolve_base_model

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", default="default", help="as for stance train --base-model (a local folder)")
    parser.add_argument("--output", required=True)
    parser.add_argument("--int8", choices=("embeddings", "all"), default="embeddings", help="which matrices")
    parser.add_argument("--parts", type=int, default=1)
    args = parser.parse_args()
    source = Path(resolve_base_model(args.base))
    tensors: dict = {}
    for f in sorted(source.glob("*.safetensors")):
        tensors.update(load_file(str(f)))
    small = shrink(tensors, args.int8)
    parts: list[dict] = [{} for _ in range(args.parts)]
    sizes = [0] * args.parts
    for name in sorted(small, key=lambda n: -small[n].numel() * small[n].element_size()):
        i = sizes.index(min(sizes))
        parts[i][name] = small[name]
        sizes[i] += small[name].numel() * small[name].element_size()
    folders = [Path(args.output)] if args.parts == 1 else [Path(f"{args.output}-{i + 1}") for i in range(args.parts)]
    for folder, part, size in zip(folders, parts, sizes, strict=True):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        save_file(part, str(folder / "model16.safetensors"))
        print(f"{folder}: {size / 2**20:.1f} MiB")
    for f in source.iterdir():
        if f.is_file() and f.suffix != ".safetensors":
            shutil.copy(f, folders[-1] / f.name)


if __name__ == "__main__":
    main()
