"""`stance train | evaluate ...`: the top-level parser, logging, and error reporting; each group of subcommands is
a module of this package, and the work happens in the packages they call."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from importlib import metadata

from stance_cli import corpus, labelling, modelling, serving
from stance_cli.options import EXIT_BAD_INPUT


def version() -> str:
    """The installed version of the package ("actor-stance"), or a note that it is not installed."""
    try:
        return metadata.version("actor-stance")
    except metadata.PackageNotFoundError:
        return "unknown (not installed; pip install -e .)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stance", description="Stance toward actors and sentiment in news text.")
    parser.add_argument("--version", action="version", version=f"stance {version()}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True)
    for group in (modelling, corpus, labelling, serving):
        group.add_commands(sub)
    return parser


def _exit_on_signal(signum: int, frame: object) -> None:
    """SIGTERM / SIGHUP end a command as Ctrl-C does, through its cleanup (no ``<output>.partial`` left behind)."""
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    from analysis.corpus import CorpusError
    from model.actors import ActorRegistryError
    from model.base import BaseModelMismatch
    from model.model_dir import ModelDirError
    from training.config import ConfigError
    from training.rows import DataValidationError

    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("stance").setLevel(logging.INFO)
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "info" if args.verbose else "error")
    previous = {sig: signal.signal(sig, _exit_on_signal) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        return args.run(args)
    except (
        CorpusError,
        DataValidationError,
        ConfigError,
        ModelDirError,
        BaseModelMismatch,
        ActorRegistryError,
        FileNotFoundError,
        FileExistsError,
        NotADirectoryError,
        IsADirectoryError,
        PermissionError,
        ValueError,
    ) as exc:
        print(f"stance {args.command}: error: {_describe(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ModuleNotFoundError as exc:
        extra = EXTRAS.get((exc.name or "").split(".")[0])
        if extra is None:
            raise
        print(
            f"stance {args.command}: error: this needs the '{extra}' extra ({exc.name} is not installed): "
            f"pip install 'actor-stance[{extra}]'",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


# The optional dependencies (pyproject.toml extras) by the module a command imports.
SERVE_MODULES = ("fastapi", "uvicorn", "pydantic", "pydantic_settings", "prometheus_client", "swagger_ui_bundle")
EXTRAS = {
    **dict.fromkeys(SERVE_MODULES, "serve"),
    **dict.fromkeys(("pandas", "pyarrow", "matplotlib"), "analysis"),
    **dict.fromkeys(("datasets", "accelerate", "krippendorff"), "train"),
    **dict.fromkeys(("onnx", "onnxruntime"), "onnx"),
    "ray": "ray",
}


def _describe(exc: Exception) -> str:
    """``<path>: <reason>`` for an OSError about a file ("[Errno 17] File exists: 'x'" otherwise)."""
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    return str(exc)


if __name__ == "__main__":
    sys.exit(main())
