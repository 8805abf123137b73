"""A model soup: several fine-tuning runs that differ only in their seed, their weights averaged (one model).

Runs fine-tuned from the same pre-trained encoder stay in one basin of the loss, so the average of their weights is
itself a good model, and usually a better one than any single run: the seed-to-seed noise (data order, dropout,
head initialisation) averages out, at no cost at inference time. The soup is built greedily on the dev data
(Wortsman et al., 2022, "Model soups"): the runs are ranked by their dev selection score, and each next run joins
the average only if the average does not score lower on dev. Nothing here looks at test data.

Each run is an ordinary run of `stance train` (the ``train_one`` that `training.train.train` passes in) writing a
complete model directory under ``<output_dir>.runs/seed-<seed>``; a finished run is reused on ``--resume``, an
interrupted one resumes from its last checkpoint. The soup's model directory records every run's dev score and
which runs were averaged.
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import shutil
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

from model.model_dir import PROJECT_FILE, ModelProject, load_model_dir
from model.network import StanceNetwork
from model.predictor import StancePredictor
from training import processes
from training.checkpoints import checkpoints_dir
from training.config import TrainConfig
from training.data import load_training_data
from training.evaluate import evaluate_rows
from training.export import write_model_dir
from training.rows import LabelledRow
from training.selection import dev_select, keep_best_on_dev

log = logging.getLogger("stance.train")
# Trains one run's settings into its model directory: `training.train.train(config, resume=..., callbacks=...)`.
TrainOne = Callable[..., Path]


def runs_dir(output_dir: str) -> Path:
    """The folder of a soup's runs, beside its output directory; removed once the soup is written."""
    path = Path(output_dir)
    return path.with_name(path.name + ".runs")


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


@dataclass(frozen=True)
class SoupRun:
    """A finished run read back from its model directory."""

    seed: int
    network: StanceNetwork
    tokenizer: Any
    project: ModelProject
    state: dict[str, torch.Tensor]  # a copy: averages are loaded into the best run's network, over its own weights
    dev_select: float

    @property
    def training(self) -> dict[str, Any]:
        return self.project.metrics.get("training", {})


@dataclass(frozen=True)
class Soup:
    """The runs kept in the average, its dev score and metrics, and the dev score of every average tried."""

    members: list[SoupRun]
    dev_select: float
    dev_metrics: dict[str, Any]
    tried: dict[str, float]


def _train_run(train_one: TrainOne, config: TrainConfig, resume: bool) -> None:
    """One run in its own process (the soup's parallel mode)."""
    logging.basicConfig(level=logging.WARNING, format=f"%(levelname)s %(name)s [seed {config.seed}]: %(message)s")
    logging.getLogger("stance").setLevel(logging.INFO)
    train_one(config, resume=resume)


def _train_in_parallel(train_one: TrainOne, configs: list[TrainConfig], resumes: list[bool]) -> None:
    """Train the runs at the same time, one process each, the CPU threads split between them.

    On a small CPU this is faster than one run after the other: small matrices use one thread better than two.
    Only the first run shows a progress bar. A run that fails raises here once the others have finished, and
    the finished ones are reused by ``--resume``.
    """
    threads = configs[0].threads or torch.get_num_threads()
    per_run = max(1, threads // len(configs))
    configs = [dataclasses.replace(c, threads=per_run, progress=c.progress and i == 0) for i, c in enumerate(configs)]
    log.info(
        "soup: training the runs with seeds %s at the same time, %d CPU thread(s) each",
        [c.seed for c in configs],
        per_run,
    )
    context = multiprocessing.get_context("spawn")  # no fork of a process that has started torch's threads
    with ProcessPoolExecutor(max_workers=len(configs), mp_context=context) as pool:
        futures = [pool.submit(_train_run, train_one, c, r) for c, r in zip(configs, resumes, strict=True)]
        wait(futures)
    for future in futures:
        future.result()  # re-raises a run's error


def _load_run(seed: int, output_dir: str, select_on: str) -> SoupRun:
    network, tokenizer, project = load_model_dir(output_dir, verify=True)
    state = {k: v.detach().clone() for k, v in network.state_dict().items()}
    return SoupRun(seed, network, tokenizer, project, state, dev_select(project.metrics.get("dev", {}), select_on))


def _name(runs: Sequence[SoupRun]) -> str:
    return "+".join(str(r.seed) for r in runs)


def greedy_soup(ranked: list[SoupRun], dev_rows: list[LabelledRow], config: TrainConfig) -> Soup:
    """Best run first, each further run kept in the average if dev does not drop (a tie keeps it). The best run's
    network is left holding the kept average."""
    best = ranked[0]
    network = best.network
    predictor = StancePredictor(network, best.tokenizer, best.project, device="cpu")
    scored = {_name([best]): (best.dev_select, best.project.metrics.get("dev", {}))}  # name -> (score, metrics)

    def dev_score(members: tuple[SoupRun, ...]) -> float:
        name = _name(members)
        if name not in scored:
            network.load_state_dict(average_weights([r.state for r in members]))
            metrics = evaluate_rows(predictor, dev_rows, batch_size=config.eval_batch_size)[0]
            scored[name] = (dev_select(metrics, config.select_on), metrics)
        return scored[name][0]

    members: tuple[SoupRun, ...] = (best,)
    tried = {}
    for candidate in ranked[1:]:
        trial = (*members, candidate)
        # The larger soup first: it is kept when it scores as well as the smaller one.
        choice = keep_best_on_dev({_name(trial): trial, _name(members): members}, dev_score)
        tried[_name(trial)] = round(choice.scores[_name(trial)], 4)
        members = choice.kept
    network.load_state_dict(average_weights([r.state for r in members]))
    score, metrics = scored[_name(members)]
    return Soup(list(members), score, metrics, tried)


def train_soup(config: TrainConfig, train_one: TrainOne, resume: bool = False, callbacks: list | None = None) -> Path:
    """Train a run per seed of ``config.soup_seeds`` with ``train_one``, average them greedily on dev, and write the
    soup's model directory; returns it."""
    started = time.monotonic()

    seeds = [int(s) for s in config.soup_seeds]
    work = runs_dir(config.output_dir)
    if processes.is_main():
        _start_runs_dir(work, resume)
    processes.wait()

    # Every run starts from the same new weights (heads, marker tokens: the first seed's) and differs only in data
    # order and dropout, so that the runs stay close enough for their average to be a good model.
    init_seed = seeds[0] if config.init_seed < 0 else config.init_seed
    run_configs = {
        seed: dataclasses.replace(
            config, seed=seed, init_seed=init_seed, soup_seeds=[], output_dir=str(work / f"seed-{seed}")
        )
        for seed in seeds
    }
    todo = {}
    for seed, run_config in run_configs.items():
        if (Path(run_config.output_dir) / PROJECT_FILE).is_file():
            log.info("soup: run with seed %d already finished, reused (%s)", seed, run_config.output_dir)
        else:
            todo[seed] = resume and any(checkpoints_dir(run_config.output_dir).glob("checkpoint-*"))
    if todo:
        # The data is checked here once, so that a problem is reported before any run starts.
        load_training_data(config.train_files, config.dev_files, config.task_specs())
    # Under a launcher (several processes) the runs are already spread over them: one run after the other.
    parallel = config.soup_parallel and len(todo) > 1 and not callbacks and processes.count() == 1
    if parallel:
        _train_in_parallel(train_one, [run_configs[seed] for seed in todo], list(todo.values()))
    else:
        for number, (seed, interrupted) in enumerate(todo.items(), start=1):
            log.info("soup: training the run with seed %d (%d of %d)", seed, number, len(todo))
            train_one(run_configs[seed], resume=interrupted, callbacks=callbacks)

    # The averaging scores dev and writes the model directory: the main process alone, the others wait for it.
    if processes.is_main():
        _write_soup(config, run_configs, work, init_seed, parallel, started)
    processes.wait()
    return Path(config.output_dir)


def _start_runs_dir(work: Path, resume: bool) -> None:
    """The runs folder, emptied first unless resuming."""
    if not resume and work.is_dir():
        finished = sorted(d.name for d in work.iterdir() if (d / PROJECT_FILE).is_file())
        if finished:
            log.warning("soup: starting afresh without --resume; discarding the finished runs %s in %s "
                        "(pass --resume to reuse them)", finished, work)  # fmt: skip
        shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)


def _write_soup(
    config: TrainConfig,
    run_configs: dict[int, TrainConfig],
    work: Path,
    init_seed: int,
    parallel: bool,
    started: float,
) -> Path:
    """Average the finished runs greedily on dev and write the soup's model directory."""
    runs = [_load_run(seed, run_config.output_dir, config.select_on) for seed, run_config in run_configs.items()]
    averaging_started = time.monotonic()
    _, dev_data = load_training_data(config.train_files, config.dev_files, runs[0].project.tasks)
    soup = greedy_soup(sorted(runs, key=lambda r: -r.dev_select), dev_data.rows, config)
    log.info(
        "soup: dev selection score per run %s, per average %s; kept the average of seeds %s",
        {r.seed: round(r.dev_select, 4) for r in runs},
        soup.tried,
        [r.seed for r in soup.members],
    )
    averaging = time.monotonic() - averaging_started

    best = soup.members[0]
    training = _soup_training(runs, soup, averaging, init_seed, parallel, started)
    project = dataclasses.replace(
        best.project,
        training_config={**config.to_dict(), "init_from_model": best.project.training_config.get("init_from_model")},
        metrics={"dev": soup.dev_metrics, "training": training},
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        weights_sha256="",
    )
    return write_model_dir(config.output_dir, best.network, best.tokenizer, project, work)


def _soup_training(
    runs: list[SoupRun], soup: Soup, averaging: float, init_seed: int, parallel: bool, started: float
) -> dict[str, Any]:
    """The soup's training metrics: the best run's, with the time and steps of all runs and how they were averaged."""
    training = dict(soup.members[0].training)
    training.update(
        {
            # the runs' own training time (also when a finished run was reused on --resume) plus the averaging
            "seconds": round(sum(r.training.get("seconds", 0) for r in runs) + averaging, 1),
            # this command's wall-clock time (less than the sum when the runs trained in parallel or were reused)
            "wall_seconds": round(time.monotonic() - started, 1),
            "steps": sum(r.training.get("steps", 0) for r in runs),
            "soup": {
                "runs": [
                    {
                        "seed": r.seed,
                        "dev_select": round(r.dev_select, 4),
                        "seconds": r.training.get("seconds"),
                        "weights_sha256": r.project.weights_sha256,
                    }
                    for r in runs
                ],
                "averages_tried": soup.tried,
                "init_seed": init_seed,
                "parallel": parallel,
                "kept_seeds": [r.seed for r in soup.members],
                "dev_select": round(soup.dev_select, 4),
            },
        }
    )
    training.pop("best_checkpoint", None)
    return training
