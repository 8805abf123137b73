"""How far does bfloat16 autocast move the training gradient on this CPU? (`make bench-bf16`)

Builds the default configuration's network twice (fresh from the base encoder, and the trained default model when
it exists), takes batches of NewsMTSC training pairs, and computes the gradient of one training step in float32
and under bfloat16 autocast with the same dropout masks. Prints, per batch, the cosine similarity of the two
gradients and the relative error ``|g_bf16 - g_fp32| / |g_fp32|`` (the word-embedding gradient left out: its rows
are mostly zero), against the baseline of SGD's own noise: the relative distance between the float32 gradients of
two successive batches. A relative error far below that baseline is the check behind the statement in
experiments/EXPERIMENTS.md that bfloat16 autocast does not explain the gap between CPU and GPU runs.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import torch
from transformers import AutoTokenizer, set_seed

from model.base import resolve_base_model
from model.formatting import InputEncoder, add_marker_tokens
from model.model_dir import load_model_dir, network_from_base
from training.config import build_config
from training.data import load_training_data
from training.examples import Collator, build_examples, to_dataset

REPO = Path(__file__).resolve().parents[1]


def gradient(network, batch, bf16: bool, dropout_seed: int) -> torch.Tensor:
    network.zero_grad(set_to_none=True)
    torch.manual_seed(dropout_seed)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        loss = network(**batch)["loss"]
    loss.backward()
    return torch.cat(
        [p.grad.double().flatten() for n, p in network.named_parameters() if p.grad is not None and "word_emb" not in n]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", default=str(REPO / "configs/default.yaml"))
    parser.add_argument("--model", default=str(REPO / "models/default"), help="a trained model (skipped if absent)")
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--output", help="write the figures as JSON here")
    args = parser.parse_args()

    config = build_config(args.config)
    tasks = config.task_specs()
    fmt = config.input_format()
    newsmtsc = [f for f in config.train_files if "newsmtsc" in str(f.get("path") if isinstance(f, dict) else f)]
    data, _ = load_training_data(newsmtsc or config.train_files[:1], [], tasks)

    networks = {}
    base = resolve_base_model(config.base_model)
    tokenizer = AutoTokenizer.from_pretrained(base)
    add_marker_tokens(tokenizer, fmt)
    set_seed(config.seed)
    networks["fresh"] = (network_from_base(base, tasks, fmt, config.pooling, tokenizer), tokenizer)
    if Path(args.model, "stance_model.json").is_file():
        network, trained_tokenizer, _ = load_model_dir(args.model)
        networks["trained"] = (network, trained_tokenizer)

    result: dict[str, dict] = {}
    for name, (network, tok) in networks.items():
        network.train()
        dataset = to_dataset(build_examples(data.rows[: 32 * args.batches], tasks), InputEncoder(tok, fmt), tasks)
        collate = Collator(tok.pad_token_id or 0, tasks)
        cosines, errors, between = [], [], []
        previous = None
        for b in range(args.batches):
            batch = collate([dataset[i] for i in range(32 * b, min(32 * (b + 1), len(dataset)))])
            full = gradient(network, batch, bf16=False, dropout_seed=b)
            half = gradient(network, batch, bf16=True, dropout_seed=b)
            cosines.append(float(torch.nn.functional.cosine_similarity(full, half, dim=0)))
            errors.append(float((half - full).norm() / full.norm()))
            if previous is not None:
                between.append(float((full - previous).norm() / full.norm()))
            previous = full
        result[name] = {
            "cosine_median": round(statistics.median(cosines), 6),
            "relative_error_median": round(statistics.median(errors), 4),
            "relative_error_max": round(max(errors), 4),
            # The baseline: how far the float32 gradients of two successive batches lie apart (SGD's own noise).
            "between_batches_median": round(statistics.median(between), 4) if between else None,
            "batches": len(errors),
        }
    print(json.dumps(result, indent=2))
    if args.output:
        Path(args.output).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
