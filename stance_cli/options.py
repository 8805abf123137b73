"""The options every subcommand spells the same way.

- ``--model DIR`` for one model, ``--models DIR...`` for several: a model directory, or the name of one under the
  models root, found as `stance serve` finds ``STANCE_MODEL`` (which is also the default where a command has one).
- ``--input`` for what a command reads (``--data`` is the older spelling).
- ``--output`` for what it writes; each command's help says whether that is a file or a folder.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path

EXIT_BAD_INPUT = 2
MODEL_ENV = "STANCE_MODEL"  # the model `stance serve` serves and the other commands use by default
MODELS_ROOT_ENV = "STANCE_MODELS_ROOT"


def default_model() -> str:
    """``STANCE_MODEL``, else ``default`` (``models/default``), as `serve.settings.Settings` reads it."""
    return os.environ.get(MODEL_ENV, "default")


def model_path(value: str) -> str:
    """The model directory ``value`` names: itself where it is a directory or a path, else the plain name of a
    directory under the models root (``STANCE_MODELS_ROOT``, default ``models``), as `stance serve` resolves it."""
    from model.model_dir import is_model_name

    return str(Path(os.environ.get(MODELS_ROOT_ENV, "models")) / value) if is_model_name(value) else value


def add_model(parser: argparse.ArgumentParser, help: str, required: bool = False) -> None:
    """``--model``: one model directory; without ``required``, ``STANCE_MODEL`` or ``default``."""
    if required:
        parser.add_argument("--model", type=model_path, required=True, metavar="DIR", help=help)
    else:
        parser.add_argument(
            "--model", type=model_path, default=default_model(), metavar="DIR",
            help=f"{help} (default: ${MODEL_ENV}, else models/default)",
        )  # fmt: skip


def add_models(parser: argparse.ArgumentParser, help: str) -> None:
    """``--models``: several model directories."""
    parser.add_argument("--models", type=model_path, nargs="+", required=True, metavar="DIR", help=help)


def add_backend(parser: argparse.ArgumentParser) -> None:
    """``--backend``: how the network runs (model/backends.py); ``STANCE_BACKEND``, else auto."""
    from model.backends import CHOICES

    parser.add_argument(
        "--backend", choices=CHOICES, default=os.environ.get("STANCE_BACKEND", "auto"),
        help="auto (the fastest backend checked against float32 by `stance export`), torch-fp32 or torch-bf16 "
        "(default: $STANCE_BACKEND, else auto)",
    )  # fmt: skip


def add_batching(parser: argparse.ArgumentParser) -> None:
    """``--batch-size`` and ``--max-batch-tokens``: how inputs share forward passes (model/batching.py)."""
    parser.add_argument(
        "--batch-size", type=at_least(1), default=None,
        help="at most this many inputs per forward pass (default: as many as the token budget allows, up to 256)",
    )  # fmt: skip
    parser.add_argument(
        "--max-batch-tokens", type=at_least(1), default=None,
        help="padded tokens per forward pass, inputs sorted by length (default: 2048 on a CPU, 16384 on a GPU)",
    )  # fmt: skip


def add_input(parser: argparse.ArgumentParser, help: str) -> None:
    """``--input`` (alias ``--data``): one or more files to read."""
    parser.add_argument("--input", "--data", dest="input", nargs="+", required=True, metavar="FILE", help=help)


def at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type: an integer >= ``minimum``."""

    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {value!r}") from None
        if number < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {number}")
        return number

    return parse
