"""Training step time on the default configuration's data (`make bench-train`).

Builds the default model's training examples and network exactly as `stance train` does, then times the same
length-grouped batches (forward, backward, fused AdamW step, bfloat16 autocast where the CPU supports it) with
PyTorch's own embedding gradient (the baseline) and with the reused gradient buffer of
`training.embedding_grad`, alternating the two in rounds in one process so that machine noise hits both alike.
Prints the median step time of each and their ratio; writes JSON with ``--output``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import statistics
import time
from pathlib import Path

import torch
from transformers import AutoTokenizer, set_seed

from model.base import resolve_base_model
from model.formatting import InputEncoder, add_marker_tokens
from model.model_dir import network_from_base
from training.config import build_config
from training.data import load_training_data
from training.embedding_grad import reused_embedding_gradient
from training.examples import Collator, build_examples, to_dataset
from training.trainer import use_bf16

REPO = Path(__file__).resolve().parents[1]


def length_grouped_batches(lengths: list[int], batch_size: int, seed: int) -> list[list[int]]:
    """Like the Trainer's length-grouped sampler: random mega-batches of 50 batches, sorted by length inside."""
    order = list(range(len(lengths)))
    random.Random(seed).shuffle(order)
    batches = []
    for start in range(0, len(order), 50 * batch_size):
        mega = sorted(order[start : start + 50 * batch_size], key=lambda i: -lengths[i])
        batches += [mega[k : k + batch_size] for k in range(0, len(mega), batch_size)]
    random.Random(seed + 1).shuffle(batches)
    return batches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", default=str(REPO / "configs/default.yaml"))
    parser.add_argument("--rounds", type=int, default=4, help="rounds; each runs both variants")
    parser.add_argument("--steps", type=int, default=15, help="timed steps per variant and round")
    parser.add_argument("--output", help="write the figures as JSON here")
    args = parser.parse_args()

    config = build_config(args.config)
    tasks = config.task_specs()
    fmt = config.input_format()
    train_data, _ = load_training_data(config.train_files, [], tasks)
    tokenizer = AutoTokenizer.from_pretrained(resolve_base_model(config.base_model))
    add_marker_tokens(tokenizer, fmt)
    dataset = to_dataset(build_examples(train_data.rows, tasks), InputEncoder(tokenizer, fmt), tasks)
    batches = length_grouped_batches(list(dataset["length"]), config.batch_size, config.seed)
    collate = Collator(tokenizer.pad_token_id or 0, tasks)
    bf16 = use_bf16(config.bf16)

    set_seed(config.seed)
    network = network_from_base(resolve_base_model(config.base_model), tasks, fmt, config.pooling, tokenizer)
    network.train()
    optimizer = torch.optim.AdamW(network.parameters(), lr=config.learning_rate, fused=True)
    embedding = network.encoder.get_input_embeddings()

    def step(batch_ids: list[int]) -> float:
        batch = collate([dataset[i] for i in batch_ids])
        started = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = network(**batch)["loss"]
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return time.perf_counter() - started

    times: dict[str, list[float]] = {"baseline": [], "reused embedding gradient": []}
    cursor = 0
    for _ in range(args.rounds):
        for name in times:
            reuse = reused_embedding_gradient(embedding) if name != "baseline" else contextlib.nullcontext()
            with reuse:
                step(batches[cursor % len(batches)])  # warm-up, not timed
                for k in range(args.steps):
                    times[name].append(step(batches[(cursor + 1 + k) % len(batches)]))
        cursor += args.steps + 1  # both variants of a round run the same batches

    base = statistics.median(times["baseline"])
    reused = statistics.median(times["reused embedding gradient"])
    result = {
        "config": args.config,
        "bf16": bf16,
        "threads": torch.get_num_threads(),
        "steps_timed_per_variant": len(times["baseline"]),
        "median_step_seconds": {"baseline": round(base, 4), "reused embedding gradient": round(reused, 4)},
        "speedup": round(base / reused, 3),
    }
    print(json.dumps(result, indent=2))
    if args.output:
        Path(args.output).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
