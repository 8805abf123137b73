"""Config files: settings in YAML or JSON, a recipe that extends another, and paths relative to the file.

``extends: default.yaml`` (relative to the file; ``base:`` is the older spelling of the same key) starts from that
file's settings, so a variant recipe holds only what differs from the one it extends. Lists are replaced as a
whole, not merged, and each file's paths stay relative to the file that names them."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import yaml

from training.config_fields import ConfigError, Setting

EXTENDS_KEYS = ("extends", "base")


def read_config_file(
    path: str | os.PathLike, settings: dict[str, Setting], _chain: tuple[Path, ...] = ()
) -> dict[str, Any]:
    """The settings of a config file and of the files it extends, converted to each setting's type, with relative
    paths (settings marked ``paths``) made relative to the file that names them; `ConfigError` names the file."""
    path = Path(path)
    if path.resolve() in _chain:
        cycle = " -> ".join(str(p) for p in (*_chain, path.resolve()))
        raise ConfigError(f"{path}: config files include each other through 'extends': {cycle}")
    data = _read_mapping(path)
    inherited: dict[str, Any] = {}
    given = [key for key in EXTENDS_KEYS if key in data]
    if len(given) > 1:
        raise ConfigError(f"{path}: give 'extends' or its older spelling 'base', not both")
    if given:
        key = given[0]
        parent = data.pop(key)
        if not isinstance(parent, str) or not parent:
            raise ConfigError(f"{path}: {key}: expected the path of another config file, got {parent!r}")
        parent_path = parent if os.path.isabs(parent) else path.parent / parent
        inherited = read_config_file(parent_path, settings, (*_chain, path.resolve()))
    unknown = sorted(set(data) - set(settings))
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {unknown}; see `stance train --help`")
    try:
        for key in list(data):
            data[key] = settings[key].coerce(data[key])
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    for key in data:
        if settings[key].paths:
            value = data[key]
            data[key] = (
                _rebase(value, path.parent)
                if isinstance(value, str)
                else [_rebase(entry, path.parent) for entry in value or []]
            )
    return {**inherited, **data}


def _read_mapping(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from exc
    is_json = path.suffix.lower() == ".json"
    try:
        data = json.loads(text) if is_json else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: not valid {'JSON' if is_json else 'YAML'} ({exc})") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings")
    return data


def _rebase(entry: Any, folder: Path) -> Any:
    if isinstance(entry, str):
        return entry if os.path.isabs(entry) else os.path.normpath(folder / entry)
    if isinstance(entry, dict) and isinstance(entry.get("path"), str):
        return {**entry, "path": _rebase(entry["path"], folder)}
    return entry
