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


@pytest.mark.parametrize(
    ("yaml_text", "field", "expected"),
    [
        ("learning_rate: 3e-5", "learning_rate", 3e-5),  # YAML 1.1 reads 3e-5 (no dot) as a string
        ('batch_size: "8"', "batch_size", 8),
        ("max_steps: 5.0", "max_steps", 5),
        ("epochs: 3", "epochs", 3.0),
        ('group_by_length: "no"', "group_by_length", False),
        ("bf16: false", "bf16", "false"),
        ("only_tasks: stance", "only_tasks", ["stance"]),
        ("ema_decays: 0.999", "ema_decays", [0.999]),
        ('soup_seeds: [1, "2"]\ndev_files: [b.jsonl]', "soup_seeds", [1, 2]),
        ("dev_files:", "dev_files", []),
    ],
)
def test_values_are_converted_to_the_declared_type(tmp_path, yaml_text, field, expected):
    config_file = tmp_path / "c.yaml"
    config_file.write_text(f"train_files: [a.jsonl]\n{yaml_text}\n")
    value = getattr(build_config(str(config_file)), field)
    assert value == expected and type(value) is type(expected)


def test_a_single_file_where_a_list_is_expected_is_a_list_of_one(tmp_path):
    config_file = tmp_path / "c.yaml"
    config_file.write_text("train_files: data/a.jsonl\ndev_files: {path: b.jsonl, max_rows: 5}\n")
    config = build_config(str(config_file))
    assert config.train_files == [str(tmp_path / "data" / "a.jsonl")]
    assert config.dev_files == [{"path": str(tmp_path / "b.jsonl"), "max_rows": 5}]


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("epochs: three", "epochs: expected a number, got 'three'"),
        ("max_length: 8.5", "max_length: expected an integer, got 8.5"),
        ("batch_size: [8]", "batch_size: expected an integer, got [8]"),
        ("tasks: [stance]", "tasks: expected a mapping of task name -> labels"),
        ("group_by_length: maybe", "group_by_length: expected true or false, got 'maybe'"),
        ("ema_decays: [0.9, fast]", "ema_decays: expected a list of numbers, got 'fast'"),
        ("soup_seeds: [1, 2.5]", "soup_seeds: expected a list of integers, got 2.5"),
        ("train_files: [{path: a.jsonl, rows: 3}]", "train_files: a data file is a path or"),
        ("learning_rate: .nan", "learning_rate: expected a number"),
        ("threads:", "threads: expected an integer, got no value"),
    ],
)
def test_values_of_the_wrong_type_are_named(tmp_path, yaml_text, message):
    config_file = tmp_path / "c.yaml"
    config_file.write_text(f"train_files: [a.jsonl]\n{yaml_text}\n")
    with pytest.raises(ConfigError) as info:
        build_config(str(config_file))
    assert str(info.value).startswith(f"{config_file}: ") and message in str(info.value)


def test_types_are_checked_however_the_config_is_made():
    with pytest.raises(ConfigError, match="epochs: expected a number, got 'three'"):
        TrainConfig(train_files=["x"], epochs="three")
    config = TrainConfig(train_files="x", learning_rate="3e-5")
    assert config.train_files == ["x"] and config.learning_rate == 3e-5
    config.batch_size = "nine"  # set after the config was made: validate() checks again
    with pytest.raises(ConfigError, match="batch_size: expected an integer"):
        config.validate()
    with pytest.raises(ConfigError, match=r"tasks.stance.labels: expected a list of labels, got 'against'"):
        TrainConfig(train_files=["x"], tasks={"stance": {"labels": "against"}}).task_specs()


def test_a_wrong_type_stops_the_cli_before_anything_is_written(tmp_path, capsys):
    from stance_cli.main import main

    config_file = tmp_path / "c.yaml"
    config_file.write_text("train_files: [a.jsonl]\nepochs: three\n")
    out = tmp_path / "model"
    assert main(["train", "--config", str(config_file), "--output-dir", str(out)]) == 2
    assert "epochs: expected a number, got 'three'" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml"]


def test_every_range_and_choice_in_the_metadata_is_enforced_by_validate_and_named():
    for name, s in TrainConfig.settings().items():
        bad = _outside(s)
        if bad is None:
            continue
        with pytest.raises(ConfigError) as info:
            TrainConfig(train_files=["x"], **{name: bad}).validate()
        allowed = ", ".join(s.choices) if s.choices else str(s.range)
        assert str(info.value).startswith(f"{name}: ") and allowed in str(info.value)


def test_the_train_flags_refuse_values_outside_the_metadata_naming_the_flag_and_what_it_allows(capsys):
    for s in TrainConfig.settings().values():
        bad = _outside(s)
        if bad is None:
            continue
        values = [str(v) for v in bad] if isinstance(bad, list) else [str(bad)]
        with pytest.raises(SystemExit):
            parse([s.flag, *values])
        err = capsys.readouterr().err
        allowed = ", ".join(s.choices) if s.choices else str(s.range)
        assert f"argument {s.flag}" in err and allowed in err


def test_train_help_lists_each_settings_choices_range_and_default(capsys):
    from stance_cli.main import main

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--pooling {mean+marker,mean+markers,mean,cls}" in text
    assert "--class-weighting {none,balanced}" in text and "--bf16 {auto,true,false}" in text
    assert "--prior-correction {off,auto,on}" in text
    assert "(default: 0.1; above 0 and below 1)" in text  # dev_fraction
    assert "(default: none; each above 0 and below 1)" in text  # ema_decays
    assert "--output-dir OUTPUT_DIR, --output OUTPUT_DIR" in text


def test_bf16_is_one_of_its_choices_however_true_is_spelled(tmp_path):
    assert parse(["--bf16", "True"]).bf16 == "true"
    config_file = tmp_path / "c.yaml"
    config_file.write_text("train_files: [a.jsonl]\nbf16: True\n")
    assert build_config(str(config_file)).bf16 == "true"


def _outside(s):
    """A value of the setting's type just outside what its metadata allows (None: it allows every value)."""
    if s.choices:
        return "bogus"
    if s.range is None:
        return None
    value = s.range.low - 1 if s.range.low is not None else s.range.high + 1
    if s.kind == "list":
        return [value]
    return int(value) if s.kind == "int" else float(value)
