from __future__ import annotations

import re

import pytest

from model.actors import ActorRegistry, ActorRegistryError
from tests.conftest import REPO


def test_example_article_mentions_all_default_actors():
    text = (REPO / "data" / "examples" / "lavrov_idlib.txt").read_text()
    found = {
        name: [text[s.start : s.end] for s in spans]
        for name, spans in ActorRegistry.default().find_mentions(text).items()
    }
    assert {"Damascus", "the Syrian Arab Republic"} <= set(found["Syria"])
    assert "the American side" in found["United States"]
    assert "al-Nusra Front" in found["al-Nusra Front"]
    assert "Turkey" in found["Turkey"]


def test_case_rules_and_exclusions():
    registry = ActorRegistry.default()
    assert "United States" not in registry.find_mentions("Let us talk about us.")
    assert "United States" in registry.find_mentions("The US said so.")
    assert registry.find_mentions("The Syrian Observatory for Human Rights said the Free Syrian Army advanced.") == {}
    assert "Turkey" not in registry.find_mentions("Turkish-backed rebels advanced.")


def test_registry_errors_name_the_entry():
    with pytest.raises(ActorRegistryError, match=r"actors\[0\]: unknown field"):
        ActorRegistry.from_records([{"name": "X", "alias": ["y"]}], source="mine.yaml")
    with pytest.raises(ActorRegistryError, match="also an alias of 'A'"):
        ActorRegistry.from_records([{"name": "A", "aliases": ["Zed"]}, {"name": "B", "aliases": ["zed"]}])


def test_user_patterns_and_their_errors(tmp_path):
    registry = ActorRegistry.from_records([{"name": "Nusra", "patterns": [r"(?i)\bjabhat\s+f[a-z]+h\s+al-sham\b"]}])
    assert registry.find_mentions("Fighters of Jabhat Fateh al-Sham withdrew.")["Nusra"][0].start == 12
    bad = tmp_path / "actors.yaml"
    bad.write_text("actors:\n  - name: X\n    patterns: ['(a)\\1']\n")
    with pytest.raises(ActorRegistryError, match=r"actors.yaml: actors\[0\] \(X\): patterns\[0\] .* not a valid RE2"):
        ActorRegistry.from_file(bad)
    bad.write_text("actors: [{name: X, aliases: [y]}\n")
    with pytest.raises(ActorRegistryError, match="not valid YAML"):
        ActorRegistry.from_file(bad)


@pytest.fixture
def no_hang():
    import signal

    def alarm(*_):
        raise TimeoutError("matching did not finish: not linear time")

    # A guard against catastrophic backtracking, not a speed target (see benchmarks/): 60 s of this process's CPU
    # time, so that a machine busy with other work cannot trip it.
    previous = signal.signal(signal.SIGPROF, alarm)
    signal.setitimer(signal.ITIMER_PROF, 60)
    yield
    signal.setitimer(signal.ITIMER_PROF, 0)
    signal.signal(signal.SIGPROF, previous)


def test_matching_finishes_on_adversarial_megabyte_inputs(no_hang):
    registry = ActorRegistry.from_records(
        [
            {"name": "A", "aliases": ["a a a a b", "a" * 50], "patterns": [r"(a+)+b", r"(a|aa)*c"]},
            *[
                {"name": a.name, "aliases": list(a.aliases), "exclude": list(a.exclude)}
                for a in ActorRegistry.default().actors
            ],
        ]
    )
    for text in ("a " * 500_000, "a" * 1_000_000, "Syrian " * 150_000, "U.S." * 250_000):
        registry.find_mentions(text)


def test_a_registry_file_adds_to_the_defaults_unless_it_replaces_them(tmp_path):
    mine = tmp_path / "mine.yaml"
    mine.write_text("actors:\n  - name: Russia\n    aliases: [Moscow, the Kremlin]\n", encoding="utf-8")
    added = ActorRegistry.from_file(mine)
    assert added.names == ["Syria", "Turkey", "United States", "al-Nusra Front", "Russia"]
    assert set(added.find_mentions("Moscow and Damascus talked.")) == {"Russia", "Syria"}
    mine.write_text("replace_defaults: true\nactors:\n  - name: Russia\n    aliases: [Moscow]\n", encoding="utf-8")
    assert ActorRegistry.from_file(mine).names == ["Russia"]


def test_an_actor_named_like_a_default_replaces_it(tmp_path):
    mine = tmp_path / "mine.yaml"
    mine.write_text("actors:\n  - name: Syria\n    aliases: [Sham]\n", encoding="utf-8")
    registry = ActorRegistry.from_file(mine)
    assert registry.names == ["Syria", "Turkey", "United States", "al-Nusra Front"]  # in its place
    assert "Syria" in registry.find_mentions("Sham spoke.")
    assert "Syria" not in registry.find_mentions("Damascus spoke.")  # the default's aliases went with it


@pytest.mark.parametrize(
    "text,message",
    [
        ("actors:\n  - name: Hezbollah\n    aliases: [Damascus]\n", "'damascus' is already a phrase of 'Syria'"),
        ("replace_defaults: yes please\nactors: []\n", "replace_defaults must be true or false"),
        ("actor: []\nactors: []\n", "unknown key(s) ['actor']"),
    ],
)
def test_registry_file_errors_say_what_and_how_out(tmp_path, text, message):
    mine = tmp_path / "mine.yaml"
    mine.write_text(text, encoding="utf-8")
    with pytest.raises(ActorRegistryError, match=re.escape(message)):
        ActorRegistry.from_file(mine)
