"""The end of a run or a soup: the model directory, written whole or not at all, with its model card; and the
rewrite of a model directory of an older format in the current one."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from model.model_dir import (
    FORMAT_VERSION,
    ModelProject,
    atomic_directory,
    load_model_dir,
    read_project,
    save_model_dir,
)
from model.network import StanceNetwork
from training.card import write_model_card


def write_model_dir(output_dir: str, network: StanceNetwork, tokenizer: Any, project: ModelProject, work: Path) -> Path:
    """Write the model directory (weights, tokenizer, project, card) atomically at ``output_dir``, then remove the
    ``work`` folder it was made in (checkpoints, a soup's runs). Returns the model directory."""
    with atomic_directory(output_dir) as building:
        save_model_dir(building, network, tokenizer, project)
        write_model_card(building, project, name=Path(output_dir).name)
    shutil.rmtree(work, ignore_errors=True)
    return Path(output_dir)


def upgrade_model_dir(directory: str | Path) -> int | None:
    """Rewrite a model directory written in an older format (model/model_dir.py) in the current one, in place and
    atomically: the same weights, tokenizer, labels, calibration, metrics and everything else in the folder
    (``backends.json``, ``onnx/``), with a current config.json and card. Returns the format it had, or None when it
    is current already. The directory is loaded and checked (every file's hash) first."""
    source = Path(directory)
    found = read_project(source).format_version
    if found >= FORMAT_VERSION:
        return None
    network, tokenizer, project = load_model_dir(source, verify=True)
    with atomic_directory(source) as building:
        save_model_dir(building, network, tokenizer, project)
        write_model_card(building, project, name=source.resolve().name)
        for entry in source.iterdir():  # what `stance export` and people added beside the model
            if not (building / entry.name).exists():
                if entry.is_dir():
                    shutil.copytree(entry, building / entry.name, symlinks=True)
                else:
                    shutil.copy2(entry, building / entry.name)
    return found
