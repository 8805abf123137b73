from __future__ import annotations

import itertools
import json
import logging
import re

import pytest
import torch
from transformers import TrainerCallback

from model import Pair
from model.model_dir import PROJECT_FILE, load_model_dir
from model.network import marker_states
from model.predictor import StancePredictor
from model.types import Span
from stance_cli.main import main
from tests.conftest import FIXTURES, stance_rows, write_jsonl
from training.checkpoints import checkpoints_dir
from training.config import ConfigError, TrainConfig
from training.train import train


@pytest.fixture
def data(tmp_path):
    train_file = write_jsonl(tmp_path / "train.jsonl", stance_rows(40))
    dev_file = write_jsonl(tmp_path / "dev.jsonl", [dict(r, id=f"d{i}") for i, r in enumerate(stance_rows(52)[40:])])
    return train_file, dev_file


def cli_args(tiny_base, train_file, out, *extra):
    return [
        "train", "--train-files", str(train_file), "--base-model", str(tiny_base), "--output-dir", str(out),
        "--max-steps", "3", "--batch-size", "8", "--max-length", "48", "--no-progress", "--bf16", "false", *extra,
    ]  # fmt: skip


def test_cli_trains_from_a_config_file_with_overrides(tiny_base, data, tmp_path, capsys):
    train_file, dev_file = data
    config = tmp_path / "config.yaml"
    config.write_text(f"train_files: [{train_file.name}]\ndev_files: [{dev_file.name}]\nepochs: 1\n")
    out = tmp_path / "model"
    assert main(["train", "--config", str(config), *cli_args(tiny_base, train_file, out)[1:]]) == 0
    assert (out / PROJECT_FILE).is_file() and not checkpoints_dir(str(out)).exists()
    assert "dev stance: macro-F1" in capsys.readouterr().out
    project = json.loads((out / PROJECT_FILE).read_text())
    assert project["training_config"]["max_steps"] == 3 and project["metrics"]["training"]["steps"] == 3


def test_only_stance_with_own_labels_and_no_dev_file(tiny_base, tmp_path):
    rows = stance_rows(40)
    for i, row in enumerate(rows):
        row.pop("sentiment")
        row["stance"] = ["pro", "anti", "meh", "unsure", "both"][i % 5]
    train_file = write_jsonl(tmp_path / "five.jsonl", rows)
    config = TrainConfig(
        train_files=[str(train_file)],
        tasks={"stance": ["pro", "anti", "meh", "unsure", "both"]},
        base_model=str(tiny_base),
        output_dir=str(tmp_path / "five"),
        max_steps=2,
        batch_size=8,
        max_length=48,
        progress=False,
        bf16="false",
    )
    path = train(config)
    predictor = StancePredictor.from_dir(path)
    assert [t.name for t in predictor.tasks] == ["stance"]
    (prediction,) = predictor.predict([Pair("Ankara spoke.", "Turkey")])
    assert set(prediction.tasks["stance"].probabilities) == {"pro", "anti", "meh", "unsure", "both"}
    training = json.loads((path / PROJECT_FILE).read_text())["metrics"]["training"]
    assert training["train_rows"] + training["dev_rows"] == 40 and 3 <= training["dev_rows"] <= 6


def test_invalid_data_exits_non_zero_and_writes_no_model(tiny_base, tmp_path, capsys):
    out = tmp_path / "never"
    code = main(cli_args(tiny_base, FIXTURES / "data" / "bad_train.jsonl", out))
    assert code == 2
    err = capsys.readouterr().err
    assert "bad_train.jsonl:2: invalid JSON" in err and "bad_train.jsonl:12: conflicting stance labels" in err
    assert not out.exists() and not checkpoints_dir(str(out)).exists()


@pytest.mark.parametrize("kind", ["folder", "file"])
def test_an_output_path_that_is_not_a_model_is_refused_before_training(
    tiny_base, data, tmp_path, capsys, monkeypatch, kind
):
    import training.train as train_module

    def never(*args, **kwargs):
        raise AssertionError("the output path must be checked before the data or a model is read")

    monkeypatch.setattr(train_module, "load_training_data", never)
    monkeypatch.setattr(train_module, "read_project", never)
    out = tmp_path / "papers"
    if kind == "folder":
        out.mkdir()
        (out / "thesis.tex").write_text("years of work")
    else:
        out.write_text("years of work")
    assert main(cli_args(tiny_base, data[0], out)) == 2
    err = capsys.readouterr().err
    assert f"output path {out}: exists and is" in err and "choose another output directory (--output-dir)" in err
    assert ("not a model directory (it has no stance_model.json)" if kind == "folder" else "is a file") in err
    assert (out / "thesis.tex" if kind == "folder" else out).read_text() == "years of work"
    assert not checkpoints_dir(str(out)).exists()


def test_an_empty_folder_or_an_earlier_model_may_be_the_output(tiny_base, data, tmp_path):
    out = tmp_path / "out" / "model"
    out.mkdir(parents=True)
    first = train(tiny_config(tiny_base, data, out, max_steps=1))
    before = json.loads((first / PROJECT_FILE).read_text())["weights_sha256"]
    second = train(tiny_config(tiny_base, data, out, max_steps=1, seed=7))
    assert json.loads((second / PROJECT_FILE).read_text())["weights_sha256"] != before
    assert [p.name for p in out.parent.iterdir()] == ["model"]  # nothing left beside it


def test_the_model_card_describes_the_trained_tasks_in_a_well_formed_score_table(tmp_path):
    from model.model_dir import ModelProject
    from model.types import TaskSpec
    from training.card import write_model_card

    five = TaskSpec("stance", ("strongly against", "against", "neutral", "favor", "strongly favor"), "pair")
    report = {"n": 10, "macro_f1": 0.5, "accuracy": 0.4, "f1_against_favor": 0.25}
    write_model_card(tmp_path, ModelProject(tasks=[five], metrics={"dev": {"stance": report}}))
    card = (tmp_path / "README.md").read_text()
    assert "Labels each (sentence, target) pair with the sentence's stance toward the target.\n" in card
    assert "sentiment" not in card and "against+favor" not in card  # not the SemEval figure for five labels
    assert "| dev | stance | 10 | 0.500 | 0.400 |" in card.splitlines()

    default = TrainConfig().task_specs()
    metrics = {"dev": {"stance": report, "sentiment": {"n": 8, "macro_f1": 0.75, "accuracy": 0.5}}}
    write_model_card(tmp_path, ModelProject(tasks=default, metrics=metrics))
    lines = (tmp_path / "README.md").read_text().splitlines()
    table = lines[lines.index("## Scores") + 2 :][:4]
    assert table == [
        "| split | task | n | macro-F1 | accuracy | F1 against+favor |",
        "|---|---|---|---|---|---|",
        "| dev | stance | 10 | 0.500 | 0.400 | 0.250 |",
        "| dev | sentiment | 8 | 0.750 | 0.500 | – |",
    ]
    assert "and each sentence with its sentiment" in "\n".join(lines)

    # Each training file's source and licence: teacher-labelled news pairs are not "soft labels of the rows above".
    names = ("distill/teacher_pairs.jsonl", "fakes_stance/mention_swaps.jsonl", "newsmtsc/train.jsonl")
    files = [{"path": f"data/{name}", "sha256": "0" * 64, "split": "train", "rows": 1} for name in names]
    write_model_card(tmp_path, ModelProject(tasks=default, training_data=files))
    card = (tmp_path / "README.md").read_text()
    assert "labelled by an all-mpnet-base-v2 teacher, not by people" in card
    assert "FA-KES (Abu Salem et al., ICWSM 2019), CC BY 4.0" in card and "MIT |" in card


def tiny_config(tiny_base, data, output_dir, **settings) -> TrainConfig:
    """A quick training configuration on the tiny base model and the fixture's train/dev files."""
    train_file, dev_file = data
    defaults = dict(batch_size=8, max_length=48, progress=False, bf16="false")
    return TrainConfig(
        train_files=[str(train_file)],
        dev_files=[str(dev_file)],
        base_model=str(tiny_base),
        output_dir=str(output_dir),
        **{**defaults, **settings},
    )


class CrashAfterFirstCheckpoint(TrainerCallback):
    def on_save(self, args, state, control, **kwargs):
        raise KeyboardInterrupt("killed")


class RecordStart(TrainerCallback):
    def __init__(self):
        self.start_step = None

    def on_train_begin(self, args, state, control, **kwargs):
        self.start_step = state.global_step

    def on_step_begin(self, args, state, control, **kwargs):
        if self.start_step is None:
            self.start_step = state.global_step


def test_resume_continues_from_the_last_checkpoint(tiny_base, data, tmp_path):
    config = tiny_config(tiny_base, data, tmp_path / "resumed", epochs=2, evals_per_epoch=1, early_stopping_patience=0)
    with pytest.raises(KeyboardInterrupt):
        train(config, callbacks=[CrashAfterFirstCheckpoint()])
    assert not (tmp_path / "resumed").exists()
    (checkpoint,) = checkpoints_dir(config.output_dir).glob("checkpoint-*")
    saved_at = int(checkpoint.name.split("-")[1])  # one checkpoint per epoch

    changed = TrainConfig(**{**config.to_dict(), "learning_rate": 1e-3})
    with pytest.raises(ConfigError, match="learning_rate"):
        train(changed, resume=True)

    record = RecordStart()
    path = train(config, resume=True, callbacks=[record])
    assert record.start_step == saved_at
    assert json.loads((path / PROJECT_FILE).read_text())["metrics"]["training"]["steps"] == 2 * saved_at


def test_resume_without_a_checkpoint_starts_from_the_beginning_and_says_so(tiny_base, data, tmp_path, caplog):
    # A run killed before its first checkpoint: --resume (what a retry loop passes every time) trains it afresh.
    train_file, _ = data
    with caplog.at_level(logging.WARNING, logger="stance.train"):
        assert main([*cli_args(tiny_base, train_file, tmp_path / "m"), "--resume"]) == 0
    assert "nothing to resume from" in caplog.text and "ended before its first checkpoint" in caplog.text
    assert (tmp_path / "m" / PROJECT_FILE).exists()


def test_init_from_continues_a_fine_tuned_model(tiny_model, data, tmp_path):
    train_file, dev_file = data
    config = TrainConfig(
        train_files=[str(train_file)],
        dev_files=[str(dev_file)],
        init_from=str(tiny_model),
        output_dir=str(tmp_path / "retrained"),
        max_steps=2,
        batch_size=8,
        max_length=48,  # the model's
        progress=False,
        bf16="false",
    )
    path = train(config)
    before = json.loads((tiny_model / PROJECT_FILE).read_text())
    after = json.loads((path / PROJECT_FILE).read_text())
    assert after["tasks"] == before["tasks"] and after["input_format"] == before["input_format"]
    assert after["training_config"]["init_from_model"] == before["weights_sha256"]
    assert after["weights_sha256"] != before["weights_sha256"]

    # A new max_length applies to the input format, and the configuration saved says what was used.
    settings = {"only_tasks": ["stance"], "output_dir": str(tmp_path / "only"), "max_length": 32, "pooling": "cls"}
    only = train(TrainConfig(**{**config.to_dict(), **settings}))
    assert [t.name for t in StancePredictor.from_dir(only).tasks] == ["stance"]
    project = json.loads((only / PROJECT_FILE).read_text())
    assert project["input_format"]["max_length"] == project["training_config"]["max_length"] == 32
    assert project["pooling"] == project["training_config"]["pooling"] == before["pooling"]  # kept: not "cls"
    assert list(project["training_config"]["tasks"]) == ["stance"]
    card = (only / "README.md").read_text()
    assert "max 32 tokens" in card and "sentiment" not in card.split("## Training data")[0]


def test_init_from_a_model_without_the_task_says_which_tasks_it_has(tiny_model, data, tmp_path):
    stance_only = tmp_path / "stance-only"
    stance_only.mkdir()
    project = json.loads((tiny_model / PROJECT_FILE).read_text())
    project["tasks"] = [t for t in project["tasks"] if t["name"] == "stance"]
    (stance_only / PROJECT_FILE).write_text(json.dumps(project))
    config = TrainConfig(train_files=[str(data[0])], init_from=str(stance_only), only_tasks=["sentiment"],
                         output_dir=str(tmp_path / "m"))  # fmt: skip
    with pytest.raises(ConfigError, match=rf"the model in {stance_only} has no 'sentiment' task \(it has: stance\)"):
        train(config)
    assert not (tmp_path / "m").exists() and not checkpoints_dir(str(tmp_path / "m")).exists()


def test_init_from_says_that_the_models_labels_replace_the_configured_ones(tiny_model, tmp_path, capsys):
    rows = stance_rows(12)
    for i, row in enumerate(rows):
        row["stance"] = ["strongly against", "against", "neutral", "favor", "strongly favor"][i % 5]
    train_file = write_jsonl(tmp_path / "five.jsonl", rows)
    config = tmp_path / "five.yaml"
    config.write_text(
        "train_files: [five.jsonl]\n"
        "tasks: {stance: [strongly against, against, neutral, favor, strongly favor],\n"
        "        sentiment: [negative, neutral, positive]}\n"
    )
    out = tmp_path / "m"
    assert main(["train", "--config", str(config), "--init-from", str(tiny_model), "--output-dir", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{train_file}:1: unknown stance label 'strongly against'" in err
    assert (
        f"note: with --init-from, the tasks and labels are those of the model in {tiny_model} (stance: against, " in err
    )
    assert (
        "they replace the configured tasks (stance: strongly against, against, neutral, favor, strongly favor;" in err
    )
    assert not out.exists() and not checkpoints_dir(str(out)).exists()


def test_repeat_gives_a_file_more_weight(tiny_base, data, tmp_path):
    train_file, dev_file = data
    config = TrainConfig(
        train_files=[{"path": str(train_file), "repeat": 3}],
        dev_files=[str(dev_file)],
        base_model=str(tiny_base),
        output_dir=str(tmp_path / "weighted"),
        only_tasks=["stance"],
        max_steps=1,
        batch_size=8,
        max_length=48,
        progress=False,
        bf16="false",
    )
    training = json.loads((train(config) / PROJECT_FILE).read_text())["metrics"]["training"]
    assert (training["train_rows"], training["train_examples"]) == (40, 120)


class RecordEvaluations(TrainerCallback):
    def __init__(self):
        self.sizes = []

    def on_evaluate(self, args, state, control, eval_dataloader=None, **kwargs):
        self.sizes.append(len(eval_dataloader.dataset))


@pytest.mark.parametrize(("select_on", "examples"), [("stance", 12), ("mean", 24)])
def test_dev_evaluations_during_training_read_only_what_selection_uses(tiny_base, data, tmp_path, select_on, examples):
    # 12 dev rows with both labels: 12 stance examples (pairs) and 12 sentiment-only examples (sentences)
    record = RecordEvaluations()
    config = tiny_config(tiny_base, data, tmp_path / "model", max_steps=2, select_on=select_on)
    project = json.loads((train(config, callbacks=[record]) / PROJECT_FILE).read_text())
    assert record.sizes and set(record.sizes) == {examples}
    # the finished model is scored on every dev row and task all the same
    assert project["metrics"]["dev"]["sentiment"]["n"] == project["metrics"]["dev"]["stance"]["n"] == 12


def test_weight_averages_are_scored_on_dev_and_the_best_is_kept(tiny_base, data, tmp_path):
    config = tiny_config(
        tiny_base,
        data,
        tmp_path / "averaged",
        epochs=2,
        evals_per_epoch=2,
        early_stopping_patience=0,
        ema_decays=[0.9, "0.5"],
        swa_from=0.4,
    )
    with pytest.raises(KeyboardInterrupt):
        train(config, callbacks=[CrashAfterFirstCheckpoint()])
    (checkpoint,) = checkpoints_dir(config.output_dir).glob("checkpoint-*")
    assert (checkpoint / "weight_averages.safetensors").is_file()

    path = train(config, resume=True)
    weights = json.loads((path / PROJECT_FILE).read_text())["metrics"]["training"]["weights"]
    assert set(weights["dev_select"]) == {"best checkpoint", "ema-0.9", "ema-0.5", "swa-3"}
    assert weights["kept"] in weights["dev_select"]
    assert weights["dev_select"][weights["kept"]] == max(weights["dev_select"].values())


def test_weight_average_settings_are_checked():
    with pytest.raises(ConfigError, match="ema_decays"):
        TrainConfig(train_files=["x"], ema_decays=[1.5]).validate()
    with pytest.raises(ConfigError, match="swa_from"):
        TrainConfig(train_files=["x"], swa_from=1.0).validate()
    with pytest.raises(ConfigError, match="swa_lr: needs swa_from"):
        TrainConfig(train_files=["x"], swa_lr=0.3).validate()
    with pytest.raises(ConfigError, match="swa_lr"):
        TrainConfig(train_files=["x"], swa_from=0.5, swa_lr=2).validate()


def test_cyclical_swa_follows_its_learning_rate_schedule(tiny_base, data, tmp_path):
    config = tiny_config(
        tiny_base,
        data,
        tmp_path / "cyclic",
        epochs=2,
        evals_per_epoch=2,
        early_stopping_patience=0,
        swa_from=0.4,
        swa_lr=0.5,
    )
    rates = RecordLearningRates()
    path = train(config, callbacks=[rates])
    weights = json.loads((path / PROJECT_FILE).read_text())["metrics"]["training"]["weights"]
    assert any(name.startswith("swa-") for name in weights["dev_select"])
    peak = config.learning_rate
    # after the averaging phase starts the rate never exceeds swa_lr x peak and restarts at least once
    late = rates.values[len(rates.values) // 2 :]
    assert max(late) <= 0.5 * peak * 1.0001
    assert any(b > a for a, b in itertools.pairwise(late))


class RecordLearningRates(TrainerCallback):
    def __init__(self):
        self.values = []

    def on_step_end(self, args, state, control, optimizer=None, **kwargs):
        self.values.append(optimizer.param_groups[0]["lr"])


def test_a_soup_trains_one_run_per_seed_and_keeps_the_dev_best_average(tiny_base, data, tmp_path):
    config = tiny_config(tiny_base, data, tmp_path / "soup", epochs=1, soup_seeds=[3, "5"])
    path = train(config)
    project = json.loads((path / PROJECT_FILE).read_text())
    soup = project["metrics"]["training"]["soup"]
    assert [r["seed"] for r in soup["runs"]] == [3, 5]
    assert set(soup["kept_seeds"]) <= {3, 5} and soup["kept_seeds"]
    assert soup["dev_select"] >= max(r["dev_select"] for r in soup["runs"])
    assert list(soup["averages_tried"]) in (["3+5"], ["5+3"])
    assert soup["parallel"] and soup["init_seed"] == 3  # trained side by side, from the first seed's new weights
    assert not (tmp_path / "soup.runs").exists()
    assert "model soup" in (path / "README.md").read_text()
    predictor = StancePredictor.from_dir(path)
    (prediction,) = predictor.predict([Pair(text="Turkey criticised Syria.", target="Syria")])
    assert "stance" in prediction.tasks


def test_a_soup_without_resume_says_which_finished_runs_it_discards(tiny_base, data, tmp_path, caplog):
    finished = tmp_path / "soup.runs" / "seed-3"
    finished.mkdir(parents=True)
    (finished / PROJECT_FILE).write_text("{}")  # left by an interrupted soup
    config = tiny_config(tiny_base, data, tmp_path / "soup", max_steps=1, soup_seeds=[3, 5], soup_parallel=False)
    with caplog.at_level(logging.WARNING, logger="stance.train"):
        train(config)
    assert "discarding the finished runs ['seed-3']" in caplog.text and "--resume" in caplog.text


def test_init_seed_fixes_the_new_weights_and_seed_the_rest(tiny_base, data, tmp_path):
    def heads(name, **settings):
        # learning rate 0: the weights stay as initialised
        config = tiny_config(tiny_base, data, tmp_path / name, max_steps=1, learning_rate=0.0, **settings)
        network = StancePredictor.from_dir(train(config)).network
        return torch.cat([p.flatten() for p in network.heads.parameters()])

    shared = heads("a", seed=3)
    assert torch.equal(heads("b", seed=5, init_seed=3), shared)
    assert not torch.equal(heads("c", seed=5), shared)


def test_soup_settings_are_checked(data):
    train_file, dev_file = data
    with pytest.raises(ConfigError, match="two or more distinct seeds"):
        TrainConfig(train_files=[str(train_file)], dev_files=[str(dev_file)], soup_seeds=[1, 1]).validate()
    with pytest.raises(ConfigError, match="needs dev_files"):
        TrainConfig(train_files=[str(train_file)], soup_seeds=[1, 2]).validate()
    with pytest.raises(ConfigError, match="integer"):
        TrainConfig(train_files=[str(train_file)], dev_files=[str(dev_file)], soup_seeds=[1, "x"]).validate()


class CrashInRunWithSeed(TrainerCallback):
    def __init__(self, seed):
        self.seed = seed

    def on_save(self, args, state, control, **kwargs):
        if args.seed == self.seed:
            raise KeyboardInterrupt("killed")


def test_an_interrupted_soup_resumes_keeping_its_finished_runs(tiny_base, data, tmp_path):
    config = tiny_config(tiny_base, data, tmp_path / "soup", epochs=1, soup_seeds=[3, 5])
    with pytest.raises(KeyboardInterrupt):
        train(config, callbacks=[CrashInRunWithSeed(5)])
    finished = tmp_path / "soup.runs" / "seed-3" / PROJECT_FILE
    assert finished.is_file() and not (tmp_path / "soup").exists()
    before = finished.read_text()
    starts = RecordStart()
    path = train(config, resume=True, callbacks=[starts])
    runs = json.loads((path / PROJECT_FILE).read_text())["metrics"]["training"]["soup"]["runs"]
    assert runs[0]["weights_sha256"] == json.loads(before)["weights_sha256"]  # seed 3 reused, not retrained
    assert starts.start_step > 0  # seed 5 continued from its checkpoint


class RecordGroupRates(TrainerCallback):
    def __init__(self):
        self.rates = None

    def on_step_end(self, args, state, control, optimizer=None, model=None, **kwargs):
        if self.rates is None:
            names = {id(p): n for n, p in model.named_parameters()}
            self.rates = {names[id(p)]: g["lr"] for g in optimizer.param_groups for p in g["params"]}


def test_layer_lr_decay_gives_lower_layers_lower_rates(tiny_base, data, tmp_path):
    config = tiny_config(tiny_base, data, tmp_path / "llrd", max_steps=2, layer_lr_decay=0.5, label_smoothing=0.1)
    record = RecordGroupRates()
    path = train(config, callbacks=[record])
    rates = record.rates
    head = next(v for k, v in rates.items() if k.startswith("heads."))
    layers = sorted({int(m.group(1)) for k in rates if (m := re.search(r"\.layer\.(\d+)\.", k))})
    top = next(v for k, v in rates.items() if f".layer.{layers[-1]}." in k)
    bottom = next(v for k, v in rates.items() if f".layer.{layers[0]}." in k)
    embeddings = next(v for k, v in rates.items() if "word_embeddings" in k)
    assert top == pytest.approx(head)
    assert bottom == pytest.approx(head * 0.5 ** (len(layers) - 1))
    assert embeddings == pytest.approx(head * 0.5 ** len(layers))
    saved = json.loads((path / PROJECT_FILE).read_text())["training_config"]
    assert saved["layer_lr_decay"] == 0.5 and saved["label_smoothing"] == 0.1


def test_head_lr_scale_speeds_up_only_the_heads(tiny_base, data, tmp_path):
    config = tiny_config(tiny_base, data, tmp_path / "heads", max_steps=2, head_lr_scale=10.0, layer_lr_decay=1.0)
    record = RecordGroupRates()
    path = train(config, callbacks=[record])
    heads = {v for k, v in record.rates.items() if k.startswith("heads.")}
    encoder = {v for k, v in record.rates.items() if k.startswith("encoder.")}
    assert len(heads) == 1 and len(encoder) == 1
    assert heads.pop() == pytest.approx(10 * encoder.pop())
    assert json.loads((path / PROJECT_FILE).read_text())["training_config"]["head_lr_scale"] == 10.0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("layer_lr_decay", 0.0),
        ("layer_lr_decay", 1.5),
        ("label_smoothing", 1.0),
        ("head_lr_scale", 0.0),
        ("reinit_layers", -1),
        ("frozen_layers", -1),
    ],
)
def test_regularisation_settings_are_checked(data, field, value):
    with pytest.raises(ConfigError, match=field):
        TrainConfig(train_files=[str(data[0])], **{field: value}).validate()


def test_reinit_layers_is_saved_and_needs_a_base_model(tiny_base, data, tmp_path):
    path = train(tiny_config(tiny_base, data, tmp_path / "reinit", max_steps=1, reinit_layers=1))
    assert json.loads((path / PROJECT_FILE).read_text())["training_config"]["reinit_layers"] == 1
    assert "top 1 encoder layer(s) re-initialised" in (path / "README.md").read_text()
    with pytest.raises(ConfigError, match="not with init_from"):
        TrainConfig(train_files=[str(data[0])], init_from=str(path), reinit_layers=1).validate()
    with pytest.raises(ConfigError, match="has 2 layers, not 5"):
        train(tiny_config(tiny_base, data, tmp_path / "too-many", max_steps=1, reinit_layers=5))
    assert not (tmp_path / "too-many").exists() and not checkpoints_dir(str(tmp_path / "too-many")).exists()


def test_start_and_end_marker_pooling_trains_saves_and_predicts(tiny_base, data, tmp_path):
    path = train(tiny_config(tiny_base, data, tmp_path / "markers", max_steps=2, pooling="mean+markers"))
    predictor = StancePredictor.from_dir(path, device="cpu")
    hidden = predictor.network.encoder.config.hidden_size
    assert predictor.network.heads["stance"][-1].in_features == 3 * hidden
    assert predictor.network.heads["sentiment"][-1].in_features == hidden
    pair = Pair("Ankara criticised the plan.", "Turkey", (Span(0, 6),))
    [prediction] = predictor.predict([pair])
    assert sum(prediction.tasks["stance"].probabilities.values()) == pytest.approx(1.0, abs=1e-5)
    # The extra features are the state at the end marker.
    encoded = predictor.encoder.encode([pair], "pair")[0]
    ids = torch.tensor([encoded.input_ids])
    end = predictor.network.end_marker_id
    assert end is not None and end in encoded.input_ids
    with torch.inference_mode():
        states = torch.randn(1, ids.shape[1], hidden)
        at_end = marker_states(states, ids, end, states.mean(1))
    assert torch.equal(at_end[0], states[0, encoded.input_ids.index(end)])


def test_frozen_layers_stay_as_they_were_through_training(tiny_base, data, tmp_path):
    from transformers import AutoModel

    path = train(tiny_config(tiny_base, data, tmp_path / "frozen", max_steps=3, learning_rate=1e-2, frozen_layers=2))
    network, _, project = load_model_dir(path)
    assert project.training_config["frozen_layers"] == 2
    assert "the 2 lowest encoder layer(s) frozen" in (path / "README.md").read_text()
    base = dict(AutoModel.from_pretrained(tiny_base).named_parameters())
    trained = dict(network.encoder.named_parameters())
    for name in ("encoder.layer.0.attention.self.query.weight", "embeddings.position_embeddings.weight"):
        assert torch.equal(trained[name], base[name]), name
    word = "embeddings.word_embeddings.weight"
    assert torch.equal(trained[word][: base[word].shape[0]], base[word])  # marker rows were added after
    name = "encoder.layer.1.attention.self.query.weight"
    assert not torch.equal(trained[name], base[name])


def test_target_repeat_oversamples_the_rows_of_some_targets(tiny_base, data, tmp_path):
    train_file, dev_file = data
    rows = [json.loads(line) for line in train_file.read_text().splitlines()]
    targets = {r["target"] for r in rows}
    rare = sorted(targets)[0]
    config = TrainConfig(
        train_files=[{"path": str(train_file), "repeat": 2, "target_repeat": {rare: 5}}],
        dev_files=[str(dev_file)],
        base_model=str(tiny_base),
        output_dir=str(tmp_path / "oversampled"),
        only_tasks=["stance"],
        max_steps=1,
        batch_size=8,
        max_length=48,
        progress=False,
        bf16="false",
    )
    training = json.loads((train(config) / PROJECT_FILE).read_text())["metrics"]["training"]
    n_rare = sum(r["target"] == rare for r in rows)
    assert training["train_examples"] == 5 * n_rare + 2 * (len(rows) - n_rare)


@pytest.mark.parametrize("bad", [{"Syria": 0}, {"Syria": "x"}, ["Syria"], {"Syria": True}])
def test_target_repeat_must_map_targets_to_whole_numbers(bad):
    with pytest.raises(ConfigError, match="target_repeat"):
        TrainConfig(train_files=[{"path": "a.jsonl", "target_repeat": bad}])


def test_training_calibrates_on_the_calibration_files_and_predictions_apply_it(tiny_base, data, tmp_path):
    train_file, dev_file = data
    config = TrainConfig(
        train_files=[str(train_file)],
        dev_files=[str(dev_file)],
        calibration_files=[str(dev_file)],
        prior_correction="on",
        base_model=str(tiny_base),
        output_dir=str(tmp_path / "calibrated"),
        max_steps=2,
        batch_size=8,
        max_length=48,
        progress=False,
        bf16="false",
    )
    out = train(config)
    project = json.loads((out / PROJECT_FILE).read_text())
    stance = project["calibration"]["stance"]
    assert stance["temperature"] > 0 and len(stance["bias"]) in (0, 3)
    assert stance["fitted"]["files"] == [str(dev_file)] and "ece_after" in stance["fitted"]
    assert project["calibration"]["sentiment"]["bias"] == []  # the prior correction is for stance only
    predictor = StancePredictor.from_dir(out)
    pair = Pair("Syria shelled the town.", "Syria", (Span(0, 5),))
    raw = predictor.logits([pair], "stance")[0]
    expected = torch.softmax((raw + torch.tensor(stance["bias"] or [0.0, 0.0, 0.0])) / stance["temperature"], -1)
    got = predictor.predict([pair])[0].tasks["stance"].probabilities
    assert [got[label] for label in ("against", "neutral", "favor")] == pytest.approx(expected.tolist(), abs=1e-5)


def test_resume_skips_a_checkpoint_cut_off_while_saving_and_says_so(tiny_base, data, tmp_path, caplog):
    config = tiny_config(tiny_base, data, tmp_path / "cut", max_steps=6, evals_per_epoch=3, early_stopping_patience=0)

    class CrashAtSecondCheckpoint(TrainerCallback):
        def on_save(self, args, state, control, **kwargs):
            if len(list(checkpoints_dir(config.output_dir).glob("checkpoint-*"))) >= 2:
                raise KeyboardInterrupt("killed")

    with pytest.raises(KeyboardInterrupt):
        train(config, callbacks=[CrashAtSecondCheckpoint()])
    first, last = sorted(checkpoints_dir(config.output_dir).glob("checkpoint-*"), key=lambda p: int(p.name[11:]))
    # What kill -9 during the save leaves: a cut-off optimizer.pt, no trainer_state.json, no completion mark.
    optimizer = last / "optimizer.pt"
    optimizer.write_bytes(optimizer.read_bytes()[: optimizer.stat().st_size // 2])
    (last / "trainer_state.json").unlink()
    (last / "COMPLETE").unlink()
    record = RecordStart()
    with caplog.at_level(logging.WARNING, logger="stance.train"):
        path = train(config, resume=True, callbacks=[record])
    assert record.start_step == int(first.name.split("-")[1])
    assert f"skipping {last.name}: not completely written (no trainer_state.json)" in caplog.text
    assert json.loads((path / PROJECT_FILE).read_text())["metrics"]["training"]["steps"] == 6


def test_resume_without_a_complete_checkpoint_says_why_and_starts_again(tiny_base, data, tmp_path, caplog):
    config = tiny_config(tiny_base, data, tmp_path / "none", max_steps=4, evals_per_epoch=2, early_stopping_patience=0)
    with pytest.raises(KeyboardInterrupt):
        train(config, callbacks=[CrashAfterFirstCheckpoint()])
    (checkpoint,) = checkpoints_dir(config.output_dir).glob("checkpoint-*")
    (checkpoint / "COMPLETE").unlink()
    (checkpoint / "optimizer.pt").write_bytes(b"PK\x03\x04 cut")
    record = RecordStart()
    with caplog.at_level(logging.WARNING, logger="stance.train"):
        train(config, resume=True, callbacks=[record])
    assert re.search(r"nothing to resume from .*optimizer\.pt is cut off.*starting from the beginning", caplog.text)
    assert record.start_step == 0


def test_a_resumed_run_stops_early_where_the_uninterrupted_run_stops(tiny_base, data, tmp_path):
    # No learning (learning rate 0): dev never improves after the first evaluation, so patience 2 stops the run at
    # its third evaluation. Killed after the second, a resume must remember the one evaluation without improvement.
    settings = dict(max_steps=12, evals_per_epoch=6, early_stopping_patience=2, learning_rate=0.0, warmup_ratio=0.0)
    whole = train(tiny_config(tiny_base, data, tmp_path / "whole", **settings))
    steps = json.loads((whole / PROJECT_FILE).read_text())["metrics"]["training"]["steps"]
    assert steps < 12  # it did stop early

    config = tiny_config(tiny_base, data, tmp_path / "killed", **settings)

    class CrashAtSecondCheckpoint(TrainerCallback):
        saves = 0

        def on_save(self, args, state, control, **kwargs):
            self.saves += 1
            if self.saves == 2:
                raise KeyboardInterrupt("killed")

    with pytest.raises(KeyboardInterrupt):
        train(config, callbacks=[CrashAtSecondCheckpoint()])
    resumed = train(config, resume=True)
    assert json.loads((resumed / PROJECT_FILE).read_text())["metrics"]["training"]["steps"] == steps


def test_a_run_killed_after_early_stopping_ended_it_does_not_train_on_when_resumed(tiny_base, data, tmp_path):
    """make bench-reliability found it: killed after the checkpoint at which early stopping ended the run (while
    the model directory was written), `--resume` trained on to the next evaluation."""
    settings = dict(max_steps=12, evals_per_epoch=6, early_stopping_patience=2, learning_rate=0.0, warmup_ratio=0.0)
    whole = train(tiny_config(tiny_base, data, tmp_path / "whole", **settings))
    steps = json.loads((whole / PROJECT_FILE).read_text())["metrics"]["training"]["steps"]
    config = tiny_config(tiny_base, data, tmp_path / "killed", **settings)

    class CrashAtTheStoppingCheckpoint(TrainerCallback):
        def on_save(self, args, state, control, **kwargs):
            if control.should_training_stop:
                raise KeyboardInterrupt("killed")

    with pytest.raises(KeyboardInterrupt):
        train(config, callbacks=[CrashAtTheStoppingCheckpoint()])
    resumed = train(config, resume=True)
    assert json.loads((resumed / PROJECT_FILE).read_text())["metrics"]["training"]["steps"] == steps


def test_training_on_too_little_data_or_without_a_dev_set_warns(caplog):
    from training.train import warn_about_size

    with caplog.at_level("WARNING", logger="stance"):
        warn_about_size(10, 1, dev_files=False, dev_fraction=0.1)
    text = caplog.text
    assert "only 10 training rows" in text and "no --dev-files: 1 of the training rows" in text
    caplog.clear()
    with caplog.at_level("WARNING", logger="stance"):
        warn_about_size(5000, 20, dev_files=True, dev_fraction=0.1)
    assert "a dev set of 20 rows" in caplog.text and "training rows" not in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="stance"):
        warn_about_size(5000, 500, dev_files=True, dev_fraction=0.1)
    assert caplog.text == ""
