"""`stance serve`: the HTTP API and demo page, with `serve.settings.Settings` read from ``STANCE_*`` variables."""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from stance_cli.options import MODEL_ENV


def add_commands(sub: argparse._SubParsersAction) -> None:
    from model.backends import CHOICES

    serve = sub.add_parser(
        "serve", help="run the HTTP API and demo page", description="Settings come from STANCE_* environment "
        "variables (see serve/settings.py and docs/api.md); these flags override them.",
    )  # fmt: skip
    serve.add_argument(
        "--model", metavar="DIR", help=f"model directory, or a name under the models root (default: ${MODEL_ENV}, "
        "else models/default)",
    )  # fmt: skip
    serve.add_argument("--host", help="interface (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 8000)")
    serve.add_argument("--backend", choices=CHOICES, help="how the network runs (default: $STANCE_BACKEND, else auto)")
    serve.set_defaults(run=_serve)


def _serve(args: argparse.Namespace) -> int:
    from serve.server import run
    from serve.settings import Settings

    # Settings resolve --model (or STANCE_MODEL) themselves: reload by name needs the name, not a path.
    overrides = {
        k: v
        for k, v in {"model": args.model, "host": args.host, "port": args.port, "backend": args.backend}.items()
        if v is not None
    }
    settings = Settings(**overrides)
    logging.getLogger("stance").setLevel(logging.INFO)
    print(
        f"starting on http://{settings.host}:{settings.port} (demo page at /, API docs at /docs); the model loads in "
        "the background and /readyz answers 200 once it is ready",
        file=sys.stderr,
    )
    for sig in (signal.SIGTERM, signal.SIGHUP):  # the server handles them; after it, they end the process as usual
        signal.signal(sig, signal.SIG_DFL)
    run(settings)
    return 0
