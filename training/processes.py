"""Training on several processes (``torchrun``, ``accelerate launch``): which process writes, and waiting for it.

The Hugging Face Trainer trains data-parallel by itself once a launcher has started the processes (it reads RANK,
WORLD_SIZE and LOCAL_RANK; gloo on the CPU, nccl on GPUs). Everything a run does around the Trainer that touches
shared folders or reports (the checkpoints folder, dev scoring and calibration, the model directory and its card,
a soup's runs and average, the printed report) is the main process's alone; the others wait for it at a barrier
(`wait`). Without a launcher there is one process, the main one, and nothing waits.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import torch
from accelerate import PartialState
from accelerate.utils import get_cpu_distributed_information

from training.config import ConfigError

# The others wait while the main process alone scores dev, calibrates, or tries a soup's averages: minutes, or tens
# of minutes for a large model on a CPU (torch's own limit is 10 minutes for nccl, which would end the run).
WAIT_LIMIT = timedelta(hours=2)


def count() -> int:
    """How many processes train together (1 without a launcher)."""
    # The variables of torchrun, accelerate launch and mpirun, read as accelerate reads them.
    return get_cpu_distributed_information().world_size


def on_this_machine() -> int:
    """How many of them run on this machine, sharing its CPU cores."""
    return max(1, get_cpu_distributed_information().local_world_size)


def is_main() -> bool:
    """Whether this process writes and reports: the first one, or the only one."""
    return get_cpu_distributed_information().rank == 0


def join() -> None:
    """Join the launcher's process group now rather than when the Trainer is built, so that the main process can be
    waited for before training (the checkpoints folder is emptied and created first). One process: nothing to do."""
    if count() > 1 and not torch.distributed.is_initialized():
        # The state the Trainer's arguments then find, with the backend they would choose (use_cpu without CUDA).
        PartialState(cpu=not torch.cuda.is_available(), timeout=WAIT_LIMIT)


def wait() -> None:
    """Block until every process has come here (after `join`); returns at once with one process."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.barrier()


def batch_per_process(batch_size: int) -> int:
    """Each process's share of a training batch: ``batch_size`` stays the batch of one optimizer step, so a recipe
    (learning rate, steps per epoch, evaluations) trains the same on any number of processes."""
    processes = count()
    if batch_size % processes:
        raise ConfigError(
            f"batch_size {batch_size} cannot be shared by {processes} processes (each takes an equal part of every "
            f"batch): choose a multiple of {processes}, or another number of processes"
        )
    return batch_size // processes


def cpu_threads(threads: int) -> int:
    """This process's share of ``threads`` CPU threads (the ``threads`` setting is the run's, not each process's);
    0: torch's default (1 per process under torchrun, which sets OMP_NUM_THREADS=1 unless it is set)."""
    return max(1, threads // on_this_machine()) if threads else 0


def quiet_replicas() -> None:
    """Leave the logs and progress bars to the main process: the others would repeat each line."""
    if is_main():
        return
    from transformers.utils import logging as hf_logging

    logging.getLogger("stance").setLevel(logging.ERROR)
    hf_logging.disable_progress_bar()
