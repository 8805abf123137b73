"""A model soup: several fine-tuning runs that differ only in their seed, their weights averaged (one model).

Runs fine-tuned from the same pre-trained encoder stay in one basin of the loss, so the average of their weights is
itself a good model, and usually a better one than any single run: the seed-to-seed noise (data order, dropout,
head initialisation) averages out, at no cost at inference time. The soup is built greedily on the dev data
(Wortsman et al., 2022, "Model soups"): the runs are ranked by their dev selection score, and each next run joins
the average only if the average does not score lower on dev. Nothing here looks at test data.

Each run is an ordinary `training.train.train` call writing a complete model directory under
``<output_dir>.runs/seed-<seed>``; a finished run is reused on ``--resume``, an interrupted one resumes from its last
checkpoint. The soup's model directory records every run's dev score and which runs were averaged.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

from model.model_dir import PROJECT_FILE, atomic_directory, load_model_dir, save_model_dir
from model.predictor import StancePredictor
from training.card import write_model_card
from training.config import TrainConfig
from training.data import load_training_data
from training.evaluate import evaluate_rows
from training.metrics import selection_score

log = logging.getLogger("stance.train")


def runs_dir(output_dir: str) -> Path:
    path = Path(output_dir)
    return path.with_name(path.name + ".runs")


def dev_select(metrics: dict[str, Any], select_on: str) -> float:
    """The selection score (`training.metrics.selection_score`) from `evaluate_rows` metrics."""
    f1_by_task = {task: m["macro_f1"] for task, m in metrics.items() if isinstance(m, dict) and "macro_f1" in m}
    return selection_score(f1_by_task, select_on)


def average_weights(states: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Element-wise mean of the floating-point entries; other entries (integer buffers) from the first state."""
    out = {}
    for name, first in states[0].items():
        if first.is_floating_point():
            total = torch.stack([s[name].float() for s in states]).mean(0)
            out[name] = total.to(first.dtype)
        else:
            out[name] = first
    return out


def train_soup(config: TrainConfig, resume: bool = False, callbacks: list | None = None) -> Path:
    from training.train import checkpoints_dir, train

    seeds = [int(s) for s in config.soup_seeds]
    work = runs_dir(config.output_dir)
    if not resume:
        shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)

    runs = []
    for seed in seeds:
        run_config = dataclasses.replace(config, seed=seed, soup_seeds=[], output_dir=str(work / f"seed-{seed}"))
        run_dir = Path(run_config.output_dir)
        if (run_dir / PROJECT_FILE).is_file():
            log.info("soup: run with seed %d already finished, reused (%s)", seed, run_dir)
        else:
            interrupted = resume and any(checkpoints_dir(run_config.output_dir).glob("checkpoint-*"))
            log.info("soup: training the run with seed %d (%d of %d)", seed, len(runs) + 1, len(seeds))
            train(run_config, resume=interrupted, callbacks=callbacks)
        network, tokenizer, project = load_model_dir(run_dir, verify=True)
        runs.append(
            {
                "seed": seed,
                "network": network,
                "tokenizer": tokenizer,
                "project": project,
                # a copy: averages are loaded into the best run's network below, which would overwrite its own weights
                "state": {k: v.detach().clone() for k, v in network.state_dict().items()},
                "dev_select": dev_select(project.metrics.get("dev", {}), config.select_on),
            }
        )

    averaging_started = time.monotonic()
    # Greedy soup on dev: best run first, each further run kept in the average only if dev does not drop.
    _, dev_data = load_training_data(config.train_files, config.dev_files, runs[0]["project"].tasks)
    ranked = sorted(runs, key=lambda r: -r["dev_select"])
    best = ranked[0]
    network = best["network"]
    predictor = StancePredictor(network, best["tokenizer"], best["project"], device="cpu")
    members = [best]
    best_score, best_metrics = best["dev_select"], best["project"].metrics.get("dev", {})
    tried = {}
    for candidate in ranked[1:]:
        trial = [*members, candidate]
        network.load_state_dict(average_weights([r["state"] for r in trial]))
        metrics = evaluate_rows(predictor, dev_data.rows, batch_size=config.eval_batch_size)[0]
        score = dev_select(metrics, config.select_on)
        tried["+".join(str(r["seed"]) for r in trial)] = round(score, 4)
        if score >= best_score:
            members, best_score, best_metrics = trial, score, metrics
    network.load_state_dict(average_weights([r["state"] for r in members]))
    log.info(
        "soup: dev selection score per run %s, per average %s; kept the average of seeds %s",
        {r["seed"]: round(r["dev_select"], 4) for r in runs},
        tried,
        [r["seed"] for r in members],
    )

    averaging = time.monotonic() - averaging_started
    training = dict(best["project"].metrics.get("training", {}))
    training.update(
        {
            # the runs' own training time (also when a finished run was reused on --resume) plus the averaging
            "seconds": round(
                sum(r["project"].metrics.get("training", {}).get("seconds", 0) for r in runs) + averaging, 1
            ),
            "steps": sum(r["project"].metrics.get("training", {}).get("steps", 0) for r in runs),
            "soup": {
                "runs": [
                    {
                        "seed": r["seed"],
                        "dev_select": round(r["dev_select"], 4),
                        "seconds": r["project"].metrics.get("training", {}).get("seconds"),
                        "weights_sha256": r["project"].weights_sha256,
                    }
                    for r in runs
                ],
                "averages_tried": tried,
                "kept_seeds": [r["seed"] for r in members],
                "dev_select": round(best_score, 4),
            },
        }
    )
    training.pop("best_checkpoint", None)
    project = dataclasses.replace(
        best["project"],
        training_config={**config.to_dict(), "init_from_model": best["project"].training_config.get("init_from_model")},
        metrics={"dev": best_metrics, "training": training},
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        weights_sha256="",
    )
    with atomic_directory(config.output_dir) as building:
        save_model_dir(building, network, best["tokenizer"], project)
        write_model_card(building, project)
    shutil.rmtree(work, ignore_errors=True)
    return Path(config.output_dir)
