"""The model directory as transformers sees it: refused by plain transformers, loaded with its heads after
``import model`` (model/hf_config.py, model/hf_model.py, model/hf_pipeline.py, model/registration.py)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file, save_file

from model.model_dir import PROJECT_FILE, WEIGHTS_FILE, file_sha256, load_model_dir
from model.predictor import StancePredictor
from model.types import Pair, Span


def run_python(code: str) -> subprocess.CompletedProcess:
    """``code`` in a fresh interpreter: what a user's script sees, without this test process's registrations."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)


def test_plain_transformers_refuses_the_model_directory_instead_of_guessing_a_head(tiny_model):
    for call in (
        f"AutoModel.from_pretrained({str(tiny_model)!r})",
        f"pipeline('text-classification', model={str(tiny_model)!r})",
    ):
        result = run_python(f"from transformers import AutoModel, pipeline\n{call}")
        assert result.returncode != 0, call
        assert "actor-stance" in result.stderr and "does not recognize this architecture" in result.stderr


def test_config_json_has_its_own_model_type_and_the_stance_labels(tiny_model):
    config = json.loads((tiny_model / "config.json").read_text())
    assert config["model_type"] == "actor-stance" and config["architectures"] == ["ActorStanceModel"]
    assert config["id2label"] == {"0": "against", "1": "neutral", "2": "favor"}
    assert [t["name"] for t in config["tasks"]] == ["stance", "sentiment"]
    assert config["encoder"]["model_type"] == "bert"
    assert json.loads((tiny_model / PROJECT_FILE).read_text())["format_version"] == 2


def test_any_transformers_tokenizer_reading_the_folder_gives_the_segment_ids(tiny_model):
    from transformers import AutoTokenizer

    _, ours, _ = load_model_dir(tiny_model)
    theirs = AutoTokenizer.from_pretrained(tiny_model)  # 5.2 picks a generic class for an unknown model type
    assert theirs("Ankara criticised the plan.", "Turkey") == ours("Ankara criticised the plan.", "Turkey")
    assert "token_type_ids" in theirs("Ankara criticised the plan.", "Turkey")


@pytest.mark.parametrize("transformers_first", [False, True])
def test_import_model_registers_the_auto_classes_whichever_is_imported_first(tiny_model, transformers_first):
    # `import model` alone loads neither torch nor transformers.
    imports = ["import model; light = 'torch' not in sys.modules", "from transformers import AutoConfig, AutoModel"]
    code = "\n".join(
        [
            "import sys",
            *(reversed(imports) if transformers_first else imports),
            f"light = light or {transformers_first}",
            f"config = AutoConfig.from_pretrained({str(tiny_model)!r})",
            f"network = AutoModel.from_pretrained({str(tiny_model)!r})",
            "print(light, type(config).__name__, type(network).__name__, config.id2label[0])",
        ]
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "ActorStanceConfig", "ActorStanceModel", "against"]


def test_automodel_gives_the_same_logits_as_the_project_loader(tiny_model):
    from transformers import AutoModel

    import model  # noqa: F401  (registers the classes)

    hf = AutoModel.from_pretrained(tiny_model).eval()
    network, tokenizer, _ = load_model_dir(tiny_model)
    batch = tokenizer(["Ankara criticised the plan.", "Fine."], padding=True, return_tensors="pt")
    with torch.inference_mode():
        ours, theirs = network(**batch), hf(**batch)
    assert torch.equal(ours["logits_stance"], theirs.logits)
    assert torch.equal(ours["logits_sentiment"], theirs.task_logits["sentiment"])


def test_the_pipeline_gives_the_predictors_calibrated_probabilities(tiny_model):
    from transformers import pipeline

    import model  # noqa: F401

    stance = pipeline("actor-stance", model=str(tiny_model), device="cpu")
    predictor = StancePredictor.from_dir(tiny_model, device="cpu", backend="torch-fp32")
    text = "Turkey criticised the plan."
    [expected] = predictor.predict([Pair(text, "Turkey", (Span(0, 6),))])
    one = stance({"text": text, "target": "Turkey"})
    assert one["mentions"] == [{"start": 0, "end": 6, "text": "Turkey"}]
    for task in ("stance", "sentiment"):
        assert one[task]["label"] == expected.tasks[task].label
        assert one[task]["probabilities"] == pytest.approx(expected.tasks[task].probabilities, abs=1e-5)
    many = stance([{"text": text, "target": "Turkey", "spans": [[0, 6]]}, "Just a sentence."])
    assert many[0]["stance"]["probabilities"] == pytest.approx(one["stance"]["probabilities"])
    assert "stance" not in many[1] and "sentiment" in many[1]
    assert [r["text"] for r in stance(item for item in [text, "Another."])] == [text, "Another."]
    with pytest.raises(ValueError, match="input 1: span 0-99 is not inside the text"):
        stance([text, {"text": "Short.", "target": "Turkey", "spans": [[0, 99]]}])
    with pytest.raises(ValueError, match="input 0: give a string or a dict with a 'text' string"):
        stance([{"sentence": text}])


def test_the_pipeline_refuses_a_changed_weights_file(tiny_model, tmp_path):
    from transformers import pipeline

    import model  # noqa: F401
    from model.model_dir import ModelDirError

    copy = shutil.copytree(tiny_model, tmp_path / "copy")
    state = load_file(str(copy / WEIGHTS_FILE))
    state["heads.stance.1.bias"] = state["heads.stance.1.bias"] + 1.0
    save_file(state, str(copy / WEIGHTS_FILE))
    with pytest.raises(ModelDirError, match="does not match the hash"):
        pipeline("actor-stance", model=str(copy))


def as_format_1(directory) -> None:
    """Rewrite a model directory as format 1 wrote it: the encoder's own config.json, encoder weights without the
    ``encoder.`` prefix."""
    config = json.loads((directory / "config.json").read_text())
    (directory / "config.json").write_text(json.dumps(config["encoder"]))
    state = {k.removeprefix("encoder."): v for k, v in load_file(str(directory / WEIGHTS_FILE)).items()}
    save_file(state, str(directory / WEIGHTS_FILE), metadata={"format": "pt"})
    project = json.loads((directory / PROJECT_FILE).read_text())
    project["format_version"] = 1
    project["weights_sha256"] = file_sha256(directory / WEIGHTS_FILE)
    project["files_sha256"]["config.json"] = file_sha256(directory / "config.json")
    (directory / PROJECT_FILE).write_text(json.dumps(project))


def test_stance_upgrade_rewrites_a_format_1_directory_keeping_everything(tiny_model, tmp_path, capsys):
    from stance_cli.main import main

    old = shutil.copytree(tiny_model, tmp_path / "old")
    as_format_1(old)
    (old / "backends.json").write_text('{"checks": []}')
    (old / "notes").mkdir()
    (old / "notes" / "why.txt").write_text("kept")
    pairs = [Pair("Turkey criticised the plan.", "Turkey", (Span(0, 6),)), Pair("Fine.", "Syria")]
    before = StancePredictor.from_dir(old, device="cpu", backend="torch-fp32").predict(pairs)  # format 1 still loads
    assert main(["upgrade", "--model", str(old)]) == 0
    assert "format 1 -> 2" in capsys.readouterr().out
    assert json.loads((old / "config.json").read_text())["model_type"] == "actor-stance"
    assert (old / "backends.json").read_text() == '{"checks": []}' and (old / "notes" / "why.txt").read_text() == "kept"
    assert StancePredictor.from_dir(old, device="cpu", backend="torch-fp32").predict(pairs) == before
    assert main(["upgrade", "--model", str(old)]) == 0
    assert "nothing to do" in capsys.readouterr().out


def test_the_card_has_hugging_face_front_matter_with_the_measured_scores(tiny_model):
    import yaml

    card = (tiny_model / "README.md").read_text()
    assert card.startswith("---\n")
    meta = yaml.safe_load(card.split("---\n")[1])
    assert meta["library_name"] == "actor-stance" and meta["license"] and "stance-detection" in meta["tags"]
    assert "base_model" not in meta  # the tiny base is a local folder: no hub id to cite
    [entry] = meta["model-index"]
    assert entry["name"] == tiny_model.name
    dev = json.loads((tiny_model / PROJECT_FILE).read_text())["metrics"]["dev"]
    figures = {(r["task"]["name"], m["name"]): m["value"] for r in entry["results"] for m in r["metrics"]}
    assert figures[("Stance toward a named target", "macro-F1 (dev)")] == round(dev["stance"]["macro_f1"], 4)
    assert figures[("Sentence sentiment", "accuracy (dev)")] == round(dev["sentiment"]["accuracy"], 4)
    assert 'pipeline("actor-stance"' in card and "import model" in card
