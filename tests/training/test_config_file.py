from __future__ import annotations

import dataclasses
import json

import pytest
import yaml

from tests.conftest import FIXTURES, REPO
from training.config import ConfigError, build_config, load_config_file

SHIPPED = sorted(p.stem for p in (REPO / "configs").glob("*.yaml"))


def test_a_variant_recipe_holds_only_what_differs_from_its_base(tmp_path):
    (tmp_path / "base.yaml").write_text("train_files: [data/a.jsonl]\nepochs: 2\nlearning_rate: 3.0e-5\n")
    variants = tmp_path / "variants"
    variants.mkdir()
    (variants / "v.yaml").write_text("base: ../base.yaml\nepochs: 5\ndev_files: [d.jsonl]\n")
    config = build_config(str(variants / "v.yaml"))
    assert config.epochs == 5.0 and config.learning_rate == 3e-5
    # Each file's paths stay relative to the file that names them.
    assert config.train_files == [str(tmp_path / "data" / "a.jsonl")]
    assert config.dev_files == [str(variants / "d.jsonl")]


def test_a_base_that_includes_itself_or_is_not_a_path_is_refused(tmp_path):
    (tmp_path / "a.yaml").write_text("base: b.yaml\n")
    (tmp_path / "b.yaml").write_text("base: a.yaml\n")
    with pytest.raises(ConfigError, match="include each other"):
        build_config(str(tmp_path / "a.yaml"))
    (tmp_path / "c.yaml").write_text("base: [a.yaml]\n")
    with pytest.raises(ConfigError, match="base: expected the path"):
        build_config(str(tmp_path / "c.yaml"))


def test_an_extends_chain_across_folders_keeps_each_files_paths_relative_to_it(tmp_path):
    (tmp_path / "recipes" / "variants").mkdir(parents=True)
    (tmp_path / "full.yaml").write_text(
        "train_files: [data/a.jsonl, {path: data/b.jsonl, repeat: 2}]\nsoft_labels: [soft/s.jsonl]\n"
        "distill_weight: 0.5\nepochs: 2\nbatch_size: 8\n"
    )
    (tmp_path / "recipes" / "mid.yaml").write_text("extends: ../full.yaml\ndev_files: [dev.jsonl]\nepochs: 3\n")
    leaf = tmp_path / "recipes" / "variants" / "leaf.json"  # JSON extends YAML alike
    leaf.write_text(json.dumps({"extends": "../mid.yaml", "calibration_files": ["cal.jsonl"], "epochs": 5}))
    config = build_config(str(leaf))
    assert (config.epochs, config.batch_size, config.distill_weight) == (5.0, 8, 0.5)  # the nearest file wins
    assert config.train_files == [str(tmp_path / "data/a.jsonl"), {"path": str(tmp_path / "data/b.jsonl"), "repeat": 2}]
    assert config.soft_labels == [str(tmp_path / "soft/s.jsonl")]
    assert config.dev_files == [str(tmp_path / "recipes/dev.jsonl")]
    assert config.calibration_files == [str(tmp_path / "recipes/variants/cal.jsonl")]
    assert "extends" not in load_config_file(leaf)  # what scripts write back out is a plain, full config


def test_a_cycle_of_extends_is_refused_naming_the_files(tmp_path):
    for name, parent in (("a", "b"), ("b", "c"), ("c", "a")):
        (tmp_path / f"{name}.yaml").write_text(f"extends: {parent}.yaml\nepochs: 2\n")
    with pytest.raises(ConfigError) as info:
        build_config(str(tmp_path / "a.yaml"))
    message = str(info.value)
    assert message.startswith(f"{tmp_path / 'a.yaml'}: ") and "include each other" in message
    assert all(str((tmp_path / f"{n}.yaml").resolve()) in message for n in "abc")


def test_extends_and_its_older_spelling_base_together_are_refused(tmp_path):
    (tmp_path / "a.yaml").write_text("train_files: [x.jsonl]\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\nbase: a.yaml\n")
    with pytest.raises(ConfigError, match=r"b.yaml: give 'extends' or its older spelling 'base', not both"):
        build_config(str(tmp_path / "b.yaml"))


@pytest.mark.parametrize("name", SHIPPED)
def test_each_shipped_config_resolves_to_its_recorded_recipe(name, monkeypatch):
    """The recipes as they resolved before they were shrunk to what differs from the one they extend. After a
    deliberate change to a recipe (or to a default it relies on), record it again in the fixture."""
    monkeypatch.chdir(REPO)
    recorded = json.loads((FIXTURES / "resolved_configs.json").read_text())
    resolved = json.loads(json.dumps(dataclasses.asdict(build_config(f"configs/{name}.yaml"))))
    assert resolved == recorded[name]
    assert set(recorded) == set(SHIPPED)


@pytest.mark.parametrize("name", [n for n in SHIPPED if n != "default"])
def test_each_shipped_variant_extends_another_and_restates_nothing_of_it(name):
    path = REPO / "configs" / f"{name}.yaml"
    own = yaml.safe_load(path.read_text())
    parent = own.pop("extends")  # the documented key, not the older 'base'
    inherited = load_config_file(path.parent / parent)
    mine = load_config_file(path)
    restated = sorted(key for key in own if key in inherited and mine[key] == inherited[key])
    assert not restated, f"{path.name} restates {restated} of {parent}"
