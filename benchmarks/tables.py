"""What every benchmark writes: its report as JSON, and its table between two markers of a Markdown file."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any


def write_report(path: str | os.PathLike, report: dict[str, Any]) -> None:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")


def replace_block(path: str | os.PathLike, start: str, end: str, block: str) -> None:
    """Replace the text from ``start`` to ``end`` in the file (markers included) with ``block``, which begins and
    ends with the markers again; exits naming the file when it lacks them."""
    target = Path(path)
    text = target.read_text()
    if start not in text or end not in text:
        sys.exit(f"{target}: no {start} ... {end} markers to replace")
    before, rest = text.split(start, 1)
    target.write_text(before + block + rest.split(end, 1)[1])
