"""`stance train` on two CPU processes (gloo) under torchrun and accelerate launch: one complete model directory, the
same files as a one-process run, nothing left beside it, the report printed once (`training.processes`)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from model.model_dir import PROJECT_FILE, load_model_dir
from tests.conftest import stance_rows, write_jsonl
from training import processes
from training.config import ConfigError

REPORT = "model written to"
TIMEOUT = 240  # seconds; a run takes about 10 on the 2-core CPU


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> tuple[Path, Path]:
    work = tmp_path_factory.mktemp("distributed-data")
    train_file = write_jsonl(work / "train.jsonl", stance_rows(48))
    dev_file = write_jsonl(work / "dev.jsonl", [dict(r, id=f"d{i}") for i, r in enumerate(stance_rows(60)[48:])])
    return train_file, dev_file


def train_args(tiny_base: Path, data: tuple[Path, Path], out: Path) -> list[str]:
    train_file, dev_file = data
    return [
        "train", "--train-files", str(train_file), "--dev-files", str(dev_file), "--base-model", str(tiny_base),
        "--output-dir", str(out), "--max-steps", "4", "--batch-size", "8", "--max-length", "48", "--no-progress",
        "--bf16", "false",
    ]  # fmt: skip


def launch(command: list[str]) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "OMP_NUM_THREADS": "1",  # one thread per process: the two share the CPU's cores
        "TOKENIZERS_PARALLELISM": "false",
        "CUDA_VISIBLE_DEVICES": "",  # CPU processes (gloo) on any machine
    }
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    assert result.returncode == 0, f"{command[:4]} exited {result.returncode}:\n{result.stderr[-4000:]}"
    return result


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def single(tiny_base, data, tmp_path_factory) -> Path:
    """The model directory of the same run on one process (`python -m stance_cli`)."""
    out = tmp_path_factory.mktemp("single") / "model"
    result = launch([sys.executable, "-m", "stance_cli", *train_args(tiny_base, data, out)])
    assert result.stdout.count(REPORT) == 1
    return out


def check_one_model_directory(out: Path, single: Path, result: subprocess.CompletedProcess) -> None:
    # Written by one process: a model directory that loads with every file's hash checked, the same files as the
    # one-process run's, and nothing beside it (no checkpoints, no half-built or replaced folders).
    _, _, project = load_model_dir(out, verify=True)
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in single.iterdir())
    assert [p.name for p in out.parent.iterdir()] == [out.name]
    # One report, one set of dev metrics, from the main process.
    assert result.stdout.count(REPORT) == 1, result.stdout
    assert result.stdout.count("dev stance: macro-F1") == 1
    assert result.stderr.count("stance.train: training on") == 1  # the others leave the log to it
    training = project.metrics["training"]
    assert training["processes"] == 2 and training["batch_size_per_process"] == 4
    # The recipe's batch is one optimizer step's, shared by the processes: the same steps as on one process.
    one = json.loads((single / PROJECT_FILE).read_text())["metrics"]["training"]
    assert training["steps"] == one["steps"] == 4 and "processes" not in one
    assert set(project.metrics["dev"]) == {"stance", "sentiment"}


def test_torchrun_two_processes_write_one_model_directory(tiny_base, data, single, tmp_path):
    out = tmp_path / "torchrun" / "model"
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    result = launch([*torchrun, "-m", "stance_cli", *train_args(tiny_base, data, out)])
    check_one_model_directory(out, single, result)


def test_accelerate_launch_two_processes_write_one_model_directory(tiny_base, data, single, tmp_path):
    pytest.importorskip("accelerate.commands.launch")
    out = tmp_path / "accelerate" / "model"
    # --multi_gpu starts the processes through torchrun (on the CPU without GPUs); accelerate's --cpu alone would
    # start one process, as it needs mpirun for more.
    accelerate = [
        sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
        "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
        "--main_process_port", str(free_port()),
    ]  # fmt: skip
    result = launch([*accelerate, "-m", "stance_cli", *train_args(tiny_base, data, out)])
    check_one_model_directory(out, single, result)


def test_the_processes_share_each_batch_and_the_cpu_threads(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "3")
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "3")
    assert processes.batch_per_process(9) == 3
    with pytest.raises(ConfigError, match="batch_size 8 cannot be shared by 3 processes"):
        processes.batch_per_process(8)
    assert [processes.cpu_threads(t) for t in (0, 2, 6)] == [0, 1, 2]  # 0: torch's default
