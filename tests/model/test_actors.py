from __future__ import annotations

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
