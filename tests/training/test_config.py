from __future__ import annotations

import argparse

import pytest

from training.config import ConfigError, TrainConfig, add_config_arguments, build_config


def parse(argv):
    parser = argparse.ArgumentParser()
    add_config_arguments(parser)
    return parser.parse_args(argv)


def test_file_then_flags(tmp_path):
    config_file = tmp_path / "c.yaml"
    config_file.write_text("train_files: [data/a.jsonl]\nepochs: 2\nlearning_rate: 3.0e-5\n")
    config = build_config(str(config_file), parse(["--epochs", "5", "--no-mention-markers"]))
    assert config.epochs == 5.0 and config.learning_rate == 3e-5 and config.mention_markers is False
    # Paths in a config file are relative to the file.
    assert config.train_files == [str(tmp_path / "data" / "a.jsonl")]


def test_unknown_setting_is_named(tmp_path):
    config_file = tmp_path / "c.yaml"
    config_file.write_text("train_files: [a.jsonl]\nepoch: 2\n")
    with pytest.raises(ConfigError, match=r"unknown setting\(s\) \['epoch'\]"):
        build_config(str(config_file))


def test_own_label_sets_and_task_subsets():
    config = TrainConfig(
        train_files=["x"], tasks={"stance": ["strongly against", "against", "neutral", "favor", "strongly favor"]}
    )
    (stance,) = config.task_specs()
    assert stance.labels[0] == "strongly against" and stance.input == "pair"
    only = TrainConfig(train_files=["x"], only_tasks=["sentiment"]).task_specs()
    assert [t.name for t in only] == ["sentiment"] and only[0].input == "sentence"
    with pytest.raises(ConfigError, match="distinct labels"):
        TrainConfig(train_files=["x"], tasks={"stance": ["a", "a"]}).task_specs()
