"""What each setting of a config dataclass accepts, read once from its declaration.

A field declared with `setting` carries its help text and range in the dataclass metadata; its type annotation
gives the rest (``int``, ``float``, ``bool``, ``str``, ``Literal[...]`` choices, a ``list`` of these, ``X | None``).
From that one description come the conversion of file values, the checks of `TrainConfig.validate`, and the
command-line flags of `stance train`: no second list of choices or ranges anywhere."""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

# A data file entry: a path, or {path, max_rows, repeat, target_repeat} (`training.data.FileSpec`).
DataFile = str | dict[str, Any]

_SCALARS: dict[Any, str] = {int: "int", float: "float", bool: "bool", str: "str"}
_EXPECTED = {
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "str": "a string",
    "list": "a list",
    "dict": "a mapping",
}
_PLURAL = {"str": "strings", "float": "numbers", "int": "integers"}
_TRUE, _FALSE = {"true", "yes", "on", "1"}, {"false", "no", "off", "0"}


class ConfigError(ValueError):
    """A configuration file or override that cannot be used."""


@dataclass(frozen=True)
class Range:
    """The numbers a setting allows: ``low`` and ``high``, each inclusive unless ``*_open`` (None: no bound)."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def __contains__(self, value: float) -> bool:
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return self.high is None or (value < self.high if self.high_open else value <= self.high)

    def __str__(self) -> str:
        if self.low is not None and self.high is not None and not (self.low_open or self.high_open):
            return f"between {self.low:g} and {self.high:g}"
        low = [] if self.low is None else [f"{'above' if self.low_open else 'at least'} {self.low:g}"]
        high = [] if self.high is None else [f"{'below' if self.high_open else 'at most'} {self.high:g}"]
        return " and ".join(low + high)


def setting(
    default: Any,
    help: str,
    *,
    at_least: float | None = None,
    above: float | None = None,
    at_most: float | None = None,
    below: float | None = None,
    choices: tuple[str, ...] = (),
    paths: bool = False,
    expected: str = "",
    flags: tuple[str, ...] = (),
) -> Any:
    """A dataclass field with its help text and what it allows: a range (for a list: of each value), ``choices``
    where the type is not a ``Literal``, ``paths`` (relative paths in a config file are relative to the file),
    ``expected`` (how an error describes a valid value) and extra command-line ``flags``."""
    bounds = None
    if (at_least, above, at_most, below) != (None, None, None, None):
        low, high = (above if above is not None else at_least), (below if below is not None else at_most)
        bounds = Range(low, high, low_open=above is not None, high_open=below is not None)
    metadata = {"help": help, "range": bounds, "choices": choices, "paths": paths, "expected": expected, "flags": flags}
    if isinstance(default, (list, dict)):
        frozen = json.dumps(default)  # each config gets its own copy of a list or dict default
        return dataclasses.field(default_factory=lambda: json.loads(frozen), metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


@dataclass(frozen=True)
class Setting:
    """One field of a config dataclass as files and flags see it."""

    name: str
    kind: str  # int, float, bool, str, list or dict
    item: str | None  # what a list holds: int, float, str or file (a `DataFile`)
    optional: bool  # None is a value
    choices: tuple[str, ...]
    range: Range | None
    help: str
    paths: bool
    expected: str
    flags: tuple[str, ...]
    default: Any

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def coerce(self, value: Any) -> Any:
        """``value`` converted to this setting's type (``"3e-5"`` to a number, one path to a list of one), or
        `ConfigError` naming the setting, the value and the type expected."""
        if value is None and self.optional:
            return None
        if self.kind == "list":
            return self._coerce_list(as_list(value))
        if self.kind == "dict":
            if not isinstance(value, dict):
                raise self._wrong(value, self.kind)
            for key in value:
                if not isinstance(key, str):
                    raise ConfigError(f"{self.name}: the keys must be names (strings), got {key!r}")
            return value
        if value is None:
            raise ConfigError(f"{self.name}: expected {self.expected or _EXPECTED[self.kind]}, got no value (null)")
        return self.convert(value, self.kind)

    def check(self, value: Any) -> None:
        """`ConfigError` unless ``value`` (already converted) is one of the choices and within the range."""
        if self.choices and value not in self.choices:
            raise ConfigError(f"{self.name}: must be one of {', '.join(self.choices)}, not {value!r}")
        if self.range is None or value is None:
            return
        if self.kind == "list":
            for entry in value:
                if entry not in self.range:
                    raise ConfigError(f"{self.name}: each value must be {self.range}, not {entry!r}")
        elif value not in self.range:
            raise ConfigError(f"{self.name}: must be {self.range}, not {value}")

    def _coerce_list(self, value: Any) -> list[Any]:
        if not isinstance(value, list):
            raise self._wrong(value, "list")
        if self.item == "file":
            from training.data import FileSpec  # reads data files; only the check is needed here

            out = []
            for entry in value:
                entry = os.fspath(entry) if isinstance(entry, os.PathLike) else entry
                try:
                    FileSpec.parse(entry)
                except (TypeError, ValueError) as exc:
                    raise ConfigError(f"{self.name}: {exc}") from None
                out.append(entry)
            return out
        if self.item is None:
            return value
        out = []
        for entry in value:
            try:
                out.append(self.convert(entry, self.item))
            except ConfigError:
                raise ConfigError(
                    f"{self.name}: expected a list of {_PLURAL[self.item]}, got {entry!r} in {value!r}"
                ) from None
        return out

    def convert(self, value: Any, kind: str) -> Any:
        """One value (a scalar setting's, or one item of a list's) converted to ``kind``, or `ConfigError`."""
        value = self._scalar(value, kind)
        if self.choices and value not in self.choices and value.lower() in self.choices:
            value = value.lower()  # bf16: True (from YAML or a flag) is 'true'
        return value

    def _wrong(self, value: Any, kind: str) -> ConfigError:
        shown = f"{value!r} ({type(value).__name__})" if not isinstance(value, str) else repr(value)
        return ConfigError(f"{self.name}: expected {self.expected or _EXPECTED[kind]}, got {shown}")

    def _scalar(self, value: Any, kind: str) -> Any:
        if kind == "float":
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                number = float(value)
            elif isinstance(value, str):
                try:
                    number = float(value.strip())  # YAML reads 3e-5 (no dot) as a string
                except ValueError:
                    raise self._wrong(value, kind) from None
            else:
                raise self._wrong(value, kind)
            if not math.isfinite(number):
                raise self._wrong(value, kind)
            return number
        if kind == "int":
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            if isinstance(value, str):
                try:
                    return int(value.strip())
                except ValueError:
                    try:
                        value = float(value.strip())
                    except ValueError:
                        raise self._wrong(value, kind) from None
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise self._wrong(value, kind)
        if kind == "bool":
            if isinstance(value, bool):
                return value
            if isinstance(value, (str, int)) and str(value).strip().lower() in _TRUE | _FALSE:
                return str(value).strip().lower() in _TRUE
            raise self._wrong(value, kind)
        if isinstance(value, str):
            return value
        if isinstance(value, os.PathLike):
            return os.fspath(value)
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return str(value)
        raise self._wrong(value, kind)


def as_list(value: Any) -> Any:
    """A list setting given as one value (a path, a number, a {path, ...} entry): a list of that one value."""
    if value is None:
        return []
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, (str, int, float, dict, os.PathLike)) and not isinstance(value, bool):
        return [value]
    return value


_SETTINGS: dict[type, dict[str, Setting]] = {}


def settings_of(cls: type) -> dict[str, Setting]:
    """Every field of the dataclass ``cls`` as a `Setting`, in declaration order (read once per class)."""
    if cls in _SETTINGS:
        return _SETTINGS[cls]
    hints = get_type_hints(cls)
    out = {}
    for f in dataclasses.fields(cls):
        kind, item, optional, choices = _read_type(hints[f.name])
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        meta = f.metadata
        out[f.name] = Setting(
            name=f.name, kind=kind, item=item, optional=optional, choices=choices or meta.get("choices", ()),
            range=meta.get("range"), help=meta.get("help", ""), paths=meta.get("paths", False),
            expected=meta.get("expected", ""), flags=meta.get("flags", ()), default=default,
        )  # fmt: skip
    _SETTINGS[cls] = out
    return out


def _read_type(hint: Any) -> tuple[str, str | None, bool, tuple[str, ...]]:
    """(kind, list item kind, optional, choices) of a field's type annotation."""
    optional = False
    if get_origin(hint) in (Union, types.UnionType) and type(None) in get_args(hint):
        optional = True
        (hint,) = [a for a in get_args(hint) if a is not type(None)]
    origin = get_origin(hint)
    if origin is Literal:
        return "str", None, optional, tuple(get_args(hint))
    if origin is list:
        (item,) = get_args(hint)
        return "list", "file" if item == DataFile else _SCALARS.get(item), optional, ()
    if origin is dict or hint is dict:
        return "dict", None, optional, ()
    return _SCALARS[hint], None, optional, ()


def add_setting_arguments(parser: argparse.ArgumentParser, settings: dict[str, Setting]) -> None:
    """One ``--field-name`` option per setting, defaulting to 'not given'; a value of the wrong type, outside the
    range or not among the choices is refused by argparse, naming the flag and what it allows."""
    for s in settings.values():
        flags = [s.flag, *s.flags]
        help_text = _help(s).replace("%", "%%")
        if s.kind == "bool":
            parser.add_argument(*flags, action=argparse.BooleanOptionalAction, default=None, help=help_text)
        elif s.kind == "dict":
            parser.add_argument(*flags, type=_json_value, default=None, metavar="JSON", help=help_text)
        elif s.kind == "list":
            item = s.item if s.item in ("int", "float") else "str"
            parser.add_argument(*flags, nargs="+", type=_flag_type(s, item), default=None, help=help_text)
        else:
            choices = s.choices or None  # shown as {a,b,c}; the type refuses other values first, naming them
            parser.add_argument(*flags, type=_flag_type(s, s.kind), choices=choices, default=None, help=help_text)


def _help(s: Setting) -> str:
    facts = [] if s.kind == "dict" else [f"default: {_shown(s.default)}"]
    if s.range is not None:
        facts.append(("each " if s.kind == "list" else "") + str(s.range))
    return f"{s.help} ({'; '.join(facts)})" if facts else s.help


def _shown(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    return " ".join(map(str, value)) if isinstance(value, list) else str(value)


def _flag_type(s: Setting, kind: str) -> Callable[[str], Any]:
    """An argparse type: one command-line value of ``s`` (of a list setting: one item) converted and checked."""

    def parse(text: str) -> Any:
        try:
            value = s.convert(text, kind)
            s.check([value] if s.kind == "list" else value)
        except ConfigError as exc:
            raise argparse.ArgumentTypeError(str(exc).removeprefix(f"{s.name}: ")) from None
        return value

    return parse


def _json_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"expected JSON ({exc.msg}), got {text!r}") from None
