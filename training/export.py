"""The end of a run or a soup: the model directory, written whole or not at all, with its model card."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from model.model_dir import ModelProject, atomic_directory, save_model_dir
from model.network import StanceNetwork
from training.card import write_model_card


def write_model_dir(output_dir: str, network: StanceNetwork, tokenizer: Any, project: ModelProject, work: Path) -> Path:
    """Write the model directory (weights, tokenizer, project, card) atomically at ``output_dir``, then remove the
    ``work`` folder it was made in (checkpoints, a soup's runs). Returns the model directory."""
    with atomic_directory(output_dir) as building:
        save_model_dir(building, network, tokenizer, project)
        write_model_card(building, project)
    shutil.rmtree(work, ignore_errors=True)
    return Path(output_dir)
