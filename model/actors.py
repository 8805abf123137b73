"""The actor registry and mention matching: which words in a sentence refer to which actor.

Aliases are matched as one compiled alternation of escaped literal phrases per actor, anchored on word
boundaries; user-supplied regular expressions (``patterns``) are compiled with RE2, which guarantees linear-time
matching. So matching time is linear in the text for any input, adversarial ones included.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path

import yaml

from model.types import Pair, Span

_ACTOR_FIELDS = {"name", "aliases", "case_sensitive", "patterns", "exclude"}


def _phrase_keys(actor: Actor) -> list[str]:
    """The phrases that name an actor, in order, as matching compares them (case-folded but case-sensitive ones)."""
    return list(dict.fromkeys([actor.name.casefold(), *(a.casefold() for a in actor.aliases), *actor.case_sensitive]))


class ActorRegistryError(ValueError):
    """A registry file or entry that cannot be used, naming the file and the entry."""


@dataclass(frozen=True)
class Actor:
    """A named actor with the phrases that refer to it and the phrases that look like it but are not it."""

    name: str
    aliases: tuple[str, ...] = ()
    case_sensitive: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


def _phrase_pattern(phrases: list[str], flags: int) -> re.Pattern[str] | None:
    if not phrases:
        return None
    alternation = "|".join(re.escape(p) for p in sorted(set(phrases), key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternation})(?!\w)", flags)


def _compile_user_pattern(pattern: str):
    """A user regular expression, compiled with RE2 (linear time; no backreferences or lookaround)."""
    import re2

    options = re2.Options()
    options.log_errors = False
    return re2.compile(pattern, options)


@dataclass
class _CompiledActor:
    actor: Actor
    folded: re.Pattern[str] | None
    exact: re.Pattern[str] | None
    excluded: re.Pattern[str] | None
    user: tuple = ()

    def find(self, text: str) -> list[Span]:
        spans = [
            Span(m.start(), m.end())
            for pattern in (self.folded, self.exact, *self.user)
            if pattern is not None
            for m in pattern.finditer(text)
            if m.end() > m.start()
        ]
        if self.excluded is not None and spans:
            blocked = [(m.start(), m.end()) for m in self.excluded.finditer(text)]
            spans = [s for s in spans if not any(a <= s.start and s.end <= b for a, b in blocked)]
        # Longest match wins where two phrases overlap ("the Syrian army" over "Syria").
        kept: list[Span] = []
        for span in sorted(spans, key=lambda s: (s.start, -(s.end - s.start))):
            if kept and span.start < kept[-1].end:
                continue
            kept.append(span)
        return kept


@dataclass
class ActorRegistry:
    """Actors by canonical name, with mention matching.

    >>> registry = ActorRegistry.default()
    >>> registry.find_mentions("He added that Damascus has every right.")["Syria"]
    [Span(start=14, end=22)]
    """

    actors: list[Actor] = field(default_factory=list)
    source: str = "<inline>"

    def __post_init__(self) -> None:
        self._compiled = {
            a.name: _CompiledActor(
                a,
                _phrase_pattern([a.name, *a.aliases], re.IGNORECASE),
                _phrase_pattern(list(a.case_sensitive), 0),
                _phrase_pattern(list(a.exclude), re.IGNORECASE),
                tuple(_compile_user_pattern(p) for p in a.patterns),
            )
            for a in self.actors
        }

    @classmethod
    def default(cls) -> ActorRegistry:
        text = resources.files("model.resources").joinpath("actors.yaml").read_text(encoding="utf-8")
        return cls.from_yaml_text(text, source="model/resources/actors.yaml")

    @classmethod
    def from_file(cls, path: str | os.PathLike) -> ActorRegistry:
        """A registry YAML's actors added to the default actors (an actor of the same name replaces the default
        one), or only its actors when the file says ``replace_defaults: true``."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ActorRegistryError(f"{path}: cannot read actor registry ({exc})") from exc
        return cls.from_yaml_text(text, source=str(path), defaults=cls.default())

    @classmethod
    def from_yaml_text(cls, text: str, source: str, defaults: ActorRegistry | None = None) -> ActorRegistry:
        """The registry a YAML text describes; with ``defaults``, its actors are added to those unless the text
        says ``replace_defaults: true``."""
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ActorRegistryError(f"{source}: not valid YAML ({exc})") from exc
        if not isinstance(data, dict) or not isinstance(data.get("actors"), list):
            raise ActorRegistryError(f"{source}: expected a mapping with an 'actors' list")
        unknown = set(data) - {"actors", "replace_defaults"}
        if unknown:
            raise ActorRegistryError(f"{source}: unknown key(s) {sorted(unknown)}; allowed: actors, replace_defaults")
        replace = data.get("replace_defaults", False)
        if not isinstance(replace, bool):
            raise ActorRegistryError(f"{source}: replace_defaults must be true or false, not {replace!r}")
        own = cls.from_records(data["actors"], source=source)
        return own if defaults is None or replace else defaults.plus(own)

    def plus(self, other: ActorRegistry) -> ActorRegistry:
        """This registry with ``other``'s actors added; an actor of ``other`` replaces one of the same name here.
        A phrase that would name two actors is refused, naming both and the way out."""
        theirs = {a.name: a for a in other.actors}
        owner = {key: a.name for a in self.actors if a.name not in theirs for key in _phrase_keys(a)}
        for actor in other.actors:
            for key in _phrase_keys(actor):
                if key in owner:
                    raise ActorRegistryError(
                        f"{other.source} ({actor.name}): {key!r} is already a phrase of {owner[key]!r} in "
                        f"{self.source}; drop it, name your actor {owner[key]!r} to replace that one, or use only "
                        "your actors (replace_defaults: true in the file, replace_actors in a request)"
                    )
        ours = {a.name for a in self.actors}
        merged = [theirs.get(a.name, a) for a in self.actors]  # a replaced actor keeps its place
        merged += [a for a in other.actors if a.name not in ours]
        return ActorRegistry(actors=merged, source=f"{self.source} + {other.source}")

    @classmethod
    def from_records(cls, records: list, source: str = "<inline>") -> ActorRegistry:
        actors: list[Actor] = []
        owner: dict[str, str] = {}
        for index, record in enumerate(records):
            where = f"{source}: actors[{index}]"
            if not isinstance(record, dict):
                raise ActorRegistryError(f"{where}: expected a mapping with a 'name'")
            unknown = set(record) - _ACTOR_FIELDS
            if unknown:
                raise ActorRegistryError(
                    f"{where}: unknown field(s) {sorted(unknown)}; allowed {sorted(_ACTOR_FIELDS)}"
                )
            name = record.get("name")
            if not isinstance(name, str) or not name.strip():
                raise ActorRegistryError(f"{where}: 'name' must be a non-empty string")
            lists = {}
            for key in ("aliases", "case_sensitive", "patterns", "exclude"):
                value = record.get(key) or []
                if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
                    raise ActorRegistryError(f"{where} ({name}): '{key}' must be a list of non-empty strings")
                lists[key] = tuple(v.strip() for v in value)
            for number, pattern in enumerate(lists["patterns"]):
                try:
                    _compile_user_pattern(pattern)
                except Exception as exc:  # re2 raises its own error type
                    reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
                    raise ActorRegistryError(
                        f"{where} ({name}): patterns[{number}] {pattern!r} is not a valid RE2 expression ({reason})"
                    ) from exc
            for phrase in (name, *lists["aliases"], *lists["case_sensitive"]):
                key = phrase if phrase in lists["case_sensitive"] else phrase.casefold()
                if key in owner and owner[key] != name:
                    raise ActorRegistryError(f"{where} ({name}): alias {phrase!r} is also an alias of {owner[key]!r}")
                owner[key] = name
            actors.append(Actor(name=name.strip(), **lists))
        return cls(actors=actors, source=source)

    def fingerprint(self) -> str:
        """sha256 of the actors and their phrases: two registries with one fingerprint find the same mentions."""
        return hashlib.sha256(json.dumps([asdict(a) for a in self.actors], sort_keys=True).encode()).hexdigest()

    def get(self, name: str) -> Actor | None:
        compiled = self._compiled.get(name)
        return compiled.actor if compiled else None

    @property
    def names(self) -> list[str]:
        return [a.name for a in self.actors]

    def find_mentions(self, text: str) -> dict[str, list[Span]]:
        """Mention spans per actor, only for actors the text mentions."""
        found = {}
        for name, compiled in self._compiled.items():
            spans = compiled.find(text)
            if spans:
                found[name] = spans
        return found

    def pair_for(self, text: str, target: str) -> Pair:
        """The pair of ``text`` and ``target`` with the target's mentions marked (`find_actor`), as `/v1/classify`,
        `analyze_frame` and `StancePredictor.predict_texts` build it when no spans are given."""
        return Pair(text, target, tuple(self.find_actor(text, target)))

    def find_actor(self, text: str, name: str) -> list[Span]:
        """Spans of one actor's mentions; an unknown name is looked up as a literal phrase."""
        compiled = self._compiled.get(name)
        if compiled is None:
            compiled = _CompiledActor(Actor(name), _phrase_pattern([name], re.IGNORECASE), None, None)
        return compiled.find(text)
