from __future__ import annotations

from pathlib import Path

import pytest

from stance_cli.main import build_parser, main

READS_FILES = {
    "evaluate": [],
    "calibrate": ["--model", "m"],
    "soft-labels": ["--model", "m", "--output", "soft.jsonl"],
    "compare": ["--models", "a", "b"],
}


@pytest.mark.parametrize("command", sorted(READS_FILES))
def test_input_is_spelled_input_and_data_still_works(command):
    parser = build_parser()
    new = parser.parse_args([command, *READS_FILES[command], "--input", "a.jsonl", "b.jsonl"])
    old = parser.parse_args([command, *READS_FILES[command], "--data", "a.jsonl", "b.jsonl"])
    assert new.input == old.input == ["a.jsonl", "b.jsonl"]


@pytest.mark.parametrize(
    ("command", "kind"),
    [
        ("train", "OUTPUT_DIR"),
        ("evaluate", "FOLDER"),
        ("soft-labels", "FILE"),
        ("analyze", "FILE"),
        ("summarize", "FOLDER"),
        ("suggest", "FILE"),
        ("agreement", "FOLDER"),
        ("compare", "FOLDER"),
        ("labelstudio-import", "PATH"),
    ],
)
def test_each_commands_output_help_says_what_kind_of_path_it_is(command, kind, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    assert f"--output {kind}" in capsys.readouterr().out


@pytest.fixture
def models_root(tmp_path, monkeypatch):
    """A working folder with a models root holding 'mine', named by STANCE_MODEL and STANCE_MODELS_ROOT."""
    root = tmp_path / "store"
    (root / "mine").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STANCE_MODELS_ROOT", str(root))
    monkeypatch.setenv("STANCE_MODEL", "mine")
    return root


def test_stance_model_names_the_model_serve_would_serve_for_every_command(models_root):
    from serve.settings import Settings
    from serve.state import resolve_model_name

    settings = Settings()
    served = resolve_model_name(Path(settings.models_root), settings.model)
    parser = build_parser()
    for argv in (["evaluate", "--input", "t.jsonl"], ["analyze", "--input", "c.txt"], ["suggest", "--input", "c.txt",
                 "--n", "3", "--output", "s.jsonl"]):  # fmt: skip
        assert Path(parser.parse_args(argv).model).resolve() == served
    given = parser.parse_args(["calibrate", "--model", "mine", "--input", "d.jsonl"])
    assert Path(given.model).resolve() == served


def test_a_model_path_or_a_directory_here_is_taken_as_given(models_root, tmp_path):
    (tmp_path / "local").mkdir()
    parser = build_parser()
    for value in ("local", "models/other", str(tmp_path / "elsewhere")):
        assert parser.parse_args(["evaluate", "--model", value, "--input", "t.jsonl"]).model == value
    compared = parser.parse_args(["compare", "--models", "mine", "local", "--input", "t.jsonl"]).models
    assert compared == [str(models_root / "mine"), "local"]


def test_without_stance_model_the_default_is_models_default(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STANCE_MODEL", raising=False)
    monkeypatch.delenv("STANCE_MODELS_ROOT", raising=False)
    assert build_parser().parse_args(["evaluate", "--input", "t.jsonl"]).model == str(Path("models/default"))


@pytest.mark.parametrize(
    "argv",
    [
        ["agreement", "--output", "out"],
        ["agreement", "a.jsonl", "--input", "b.jsonl"],
        ["labelstudio-import", "--output", "out"],
        ["labelstudio-import", "e.json", "--input", "e.json", "--output", "out"],
    ],
)
def test_an_input_given_as_argument_or_input_must_be_given_once(argv, capsys):
    assert main(argv) == 2
    assert "give it as an argument or as --input" in capsys.readouterr().err
