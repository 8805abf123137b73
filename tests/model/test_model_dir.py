from __future__ import annotations

import json
import re
import shutil

import pytest
import torch

from model.model_dir import (
    PROJECT_FILE,
    WEIGHTS_FILE,
    ModelDirError,
    OutputPathError,
    atomic_directory,
    canonical_safetensors,
    check_output_path,
    load_model_dir,
)


@pytest.fixture
def model_copy(tiny_model, tmp_path):
    target = tmp_path / "copy"
    shutil.copytree(tiny_model, target)
    return target


def test_directory_holds_standard_files_and_project_file(tiny_model):
    names = {p.name for p in tiny_model.iterdir()}
    assert {"config.json", WEIGHTS_FILE, "tokenizer.json", PROJECT_FILE, "README.md"} <= names
    project = json.loads((tiny_model / PROJECT_FILE).read_text())
    assert [t["name"] for t in project["tasks"]] == ["stance", "sentiment"]
    assert project["tasks"][0]["labels"] == ["against", "neutral", "favor"]
    assert project["input_format"]["max_length"] == 48
    assert project["training_data"][0]["sha256"]
    assert "stance" in project["metrics"]["dev"]
    assert "Training data" in (tiny_model / "README.md").read_text()


def test_round_trip_gives_identical_outputs(tiny_model):
    first, tokenizer, _ = load_model_dir(tiny_model)
    second, _, _ = load_model_dir(tiny_model)
    batch = tokenizer(["[E] Ankara [/E] spoke."], ["Turkey"], return_tensors="pt")
    with torch.inference_mode():
        a, b = first(**batch), second(**batch)
    assert torch.equal(a["logits_stance"], b["logits_stance"])


def test_pickle_only_weights_are_refused(model_copy):
    (model_copy / WEIGHTS_FILE).unlink()
    (model_copy / "pytorch_model.bin").write_bytes(b"not loaded")
    with pytest.raises(ModelDirError, match="only pickle weights"):
        load_model_dir(model_copy)


def test_truncated_weights_are_refused(model_copy):
    weights = model_copy / WEIGHTS_FILE
    weights.write_bytes(weights.read_bytes()[:1000])
    with pytest.raises(ModelDirError, match="does not match the hash"):
        load_model_dir(model_copy)
    with pytest.raises(ModelDirError, match="unreadable safetensors"):
        load_model_dir(model_copy, verify=False)


def test_labels_that_do_not_fit_the_heads_are_refused(model_copy):
    project = json.loads((model_copy / PROJECT_FILE).read_text())
    project["tasks"][0]["labels"] = ["a", "b", "c", "d"]
    (model_copy / PROJECT_FILE).write_text(json.dumps(project))
    with pytest.raises(ModelDirError, match=r"config.json: tasks .* differ from stance_model.json's"):
        load_model_dir(model_copy)
    config = json.loads((model_copy / "config.json").read_text())
    config["tasks"][0]["labels"] = ["a", "b", "c", "d"]
    (model_copy / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelDirError, match=r"config\.json: content does not match the hash"):
        load_model_dir(model_copy)
    with pytest.raises(ModelDirError, match="do not fit the tasks and labels"):
        load_model_dir(model_copy, verify=False)


def test_a_malformed_config_is_refused_naming_it(model_copy):
    config = json.loads((model_copy / "config.json").read_text())
    del config["encoder"]["model_type"]
    (model_copy / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelDirError, match=r"config\.json: malformed actor-stance config"):
        load_model_dir(model_copy, verify=False)


def test_missing_project_file(model_copy):
    (model_copy / PROJECT_FILE).unlink()
    with pytest.raises(ModelDirError, match="not a model directory"):
        load_model_dir(model_copy)


def test_atomic_directory_leaves_target_untouched_on_failure(tmp_path):
    target = tmp_path / "model"
    target.mkdir()
    (target / PROJECT_FILE).write_text("{}")  # an earlier model: replaced when the new one is complete
    (target / "keep").write_text("old")
    with pytest.raises(RuntimeError), atomic_directory(target) as building:
        (building / "half").write_text("new")
        raise RuntimeError("crash")
    assert [p.name for p in tmp_path.iterdir()] == ["model"]
    assert (target / "keep").read_text() == "old"
    with atomic_directory(target) as building:
        (building / "new").write_text("new")
    assert [p.name for p in target.iterdir()] == ["new"]


def test_only_a_model_directory_is_replaced(tmp_path):
    check_output_path(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    check_output_path(tmp_path / "empty")
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / PROJECT_FILE).write_text("{}")
    check_output_path(tmp_path / "model")

    papers = tmp_path / "papers"
    papers.mkdir()
    (papers / "thesis.tex").write_text("years of work")
    with (
        pytest.raises(OutputPathError, match=f"{papers}: exists and is not a model directory"),
        atomic_directory(papers) as building,
    ):
        (building / "x").write_text("never")
    assert [p.name for p in papers.iterdir()] == ["thesis.tex"]
    notes = tmp_path / "notes.txt"
    notes.write_text("keep me")
    with pytest.raises(OutputPathError, match=f"{notes}: exists and is a file, not a model directory"):
        check_output_path(notes)
    assert notes.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "model", "notes.txt", "papers"]


def test_the_same_weights_give_the_same_file_whatever_order_safetensors_wrote_the_metadata_in():
    from safetensors.torch import load, save

    data = save({"b": torch.ones(3), "a": torch.zeros(2)}, metadata={"format": "pt", "producer": "actor-stance"})
    length = int.from_bytes(data[:8], "little")
    header = data[8 : 8 + length]
    forward, backward = b'{"format":"pt","producer":"actor-stance"}', b'{"producer":"actor-stance","format":"pt"}'
    assert forward in header or backward in header
    one = data[:8] + header.replace(backward, forward) + data[8 + length :]
    other = data[:8] + header.replace(forward, backward) + data[8 + length :]
    assert one != other
    assert canonical_safetensors(one) == canonical_safetensors(other) == one
    assert torch.equal(load(canonical_safetensors(other))["b"], torch.ones(3))


def test_the_project_file_lists_every_file_the_model_needs(tiny_model):
    listed = json.loads((tiny_model / PROJECT_FILE).read_text())["files_sha256"]
    assert {"config.json", "tokenizer.json", "tokenizer_config.json"} <= set(listed)
    assert PROJECT_FILE not in listed and WEIGHTS_FILE not in listed and "README.md" not in listed


@pytest.mark.parametrize("missing", [["tokenizer.json"], ["tokenizer.json", "tokenizer_config.json"], ["config.json"]])
def test_a_missing_file_is_refused_naming_the_folder_and_the_file(model_copy, missing):
    for name in missing:
        (model_copy / name).unlink()
    with pytest.raises(ModelDirError, match=re.escape(f"{model_copy}: {missing[0]} is missing")):
        load_model_dir(model_copy)


def test_a_changed_tokenizer_is_refused(model_copy):
    path = model_copy / "tokenizer.json"
    path.write_text(path.read_text().replace('"[UNK]"', '"[UNKNOWN]"'))
    with pytest.raises(ModelDirError, match=r"tokenizer\.json: content does not match the hash"):
        load_model_dir(model_copy)


def test_a_model_written_before_the_manifest_needs_a_tokenizer_vocabulary(model_copy):
    project = json.loads((model_copy / PROJECT_FILE).read_text())
    del project["files_sha256"]
    (model_copy / PROJECT_FILE).write_text(json.dumps(project))
    load_model_dir(model_copy)  # an older model directory that is complete still loads
    for name in ("tokenizer.json", "vocab.txt"):
        if (model_copy / name).exists():
            (model_copy / name).unlink()
    with pytest.raises(ModelDirError, match="no tokenizer vocabulary"):
        load_model_dir(model_copy)


def test_a_manifest_cannot_point_outside_the_folder(model_copy):
    project = json.loads((model_copy / PROJECT_FILE).read_text())
    project["files_sha256"]["../secret"] = "0" * 64
    (model_copy / PROJECT_FILE).write_text(json.dumps(project))
    with pytest.raises(ModelDirError, match="only name files of the model directory"):
        load_model_dir(model_copy)


def test_remote_code_is_refused_without_suggesting_to_trust_it(model_copy):
    config = json.loads((model_copy / "config.json").read_text())
    config["model_type"] = "evil"
    config["auto_map"] = {"AutoConfig": "evil.EvilConfig", "AutoModel": "evil.EvilModel"}
    (model_copy / "config.json").write_text(json.dumps(config))
    project = json.loads((model_copy / PROJECT_FILE).read_text())
    del project["files_sha256"]["config.json"]
    (model_copy / PROJECT_FILE).write_text(json.dumps(project))
    (model_copy / "evil.py").write_text("raise SystemExit('remote code ran')\n")
    with pytest.raises(ModelDirError) as error:
        load_model_dir(model_copy)
    assert "never runs" in str(error.value) and "trust_remote_code=True" not in str(error.value)
