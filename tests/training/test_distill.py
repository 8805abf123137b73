from __future__ import annotations

import json

import pytest
import torch

from model.network import StanceNetwork, label_key, soft_key
from model.predictor import StancePredictor
from model.types import TaskSpec
from stance_cli.main import main
from tests.conftest import stance_rows, write_jsonl
from training.config import ConfigError, TrainConfig
from training.data import load_evaluation_data
from training.distill import load_soft_labels, write_soft_labels
from training.examples import build_examples
from training.rows import DataValidationError
from training.train import train

STANCE = TaskSpec("stance", ("against", "neutral", "favor"), "pair")
SENTIMENT = TaskSpec("sentiment", ("negative", "neutral", "positive"), "sentence")


@pytest.fixture
def data(tmp_path):
    train_file = write_jsonl(tmp_path / "train.jsonl", stance_rows(40))
    dev_file = write_jsonl(tmp_path / "dev.jsonl", [dict(r, id=f"d{i}") for i, r in enumerate(stance_rows(52)[40:])])
    return train_file, dev_file


def test_soft_labels_round_trip_through_the_cli(tiny_model, data, tmp_path, capsys):
    train_file, _ = data
    out = tmp_path / "soft.jsonl"
    assert main(["soft-labels", "--model", str(tiny_model), "--data", str(train_file), "--output", str(out)]) == 0
    assert "soft labels for 40 labelled rows" in capsys.readouterr().out
    predictor = StancePredictor.from_dir(tiny_model)
    rows = load_evaluation_data([str(train_file)], predictor.tasks).rows
    soft = load_soft_labels([out], predictor.tasks)
    assert set(soft) == {r.digest for r in rows}
    first = json.loads(out.read_text().splitlines()[0])
    assert first["text"] == rows[0].pair.text and set(first) >= {"key", "target", "stance"}
    for row in rows:  # only the tasks each row is labelled with, in the model's label order, summing to 1
        probs = soft[row.digest]
        assert set(probs) == set(row.labels)
        assert all(abs(sum(p) - 1) < 1e-6 for p in probs.values())


def test_unlabelled_rows_become_teacher_labelled_training_rows(tiny_model, tmp_path, capsys):
    rows = [
        {"id": "u1", "text": "Damascus said Syria rejects the plan.", "target": "Syria"},  # two spans, by the registry
        {"id": "u2", "text": "Ankara and Damascus met.", "target": "Turkey", "mention_start": 0, "mention_end": 6},
        {"id": "u3", "text": "A calm day in the city."},  # no target: sentence tasks only
        {"id": "l1", "text": "Turkey praised the deal.", "target": "Turkey", "stance": "favor"},
    ]
    data = write_jsonl(tmp_path / "mixed.jsonl", rows)
    soft, taught = tmp_path / "soft.jsonl", tmp_path / "taught.jsonl"
    base = ["soft-labels", "--model", str(tiny_model), "--data", str(data), "--output", str(soft)]
    assert main(base) == 2  # unlabelled rows and nowhere to put them: an error naming the first, nothing written
    assert f"3 row(s) have no label (the first at {data}:1)" in capsys.readouterr().err
    assert not soft.exists()
    assert main([*base, "--teacher-labelled", str(taught)]) == 0
    predictor = StancePredictor.from_dir(tiny_model)
    written = [json.loads(line) for line in taught.read_text().splitlines()]
    assert [r["id"] for r in written] == ["u1", "u2", "u3"]
    assert all(r["label_source"] == "teacher" for r in written)
    assert "stance" not in written[2] and "sentiment" in written[2]
    assert "mention_start" not in written[0] and written[1]["mention_start"] == 0
    reread = load_evaluation_data([str(taught)], predictor.tasks).rows  # valid training data as written
    labels = load_soft_labels([soft], predictor.tasks)
    assert {r.digest for r in reread} <= set(labels) and len(labels) == 4  # the labelled row's soft label too
    for row in reread:  # the written label is the teacher's most probable one
        for task in predictor.tasks:
            if task.name in row.labels:
                probs = labels[row.digest][task.name]
                assert row.labels[task.name] == task.labels[probs.index(max(probs))]
    assert main([*base, "--teacher-labelled", str(taught), "--only-tasks", "stance"]) == 0
    assert [json.loads(line)["id"] for line in taught.read_text().splitlines()] == ["u1", "u2"]


def test_soft_label_problems_are_all_reported_with_file_and_line(tmp_path):
    good = {"against": 0.2, "neutral": 0.3, "favor": 0.5}
    lines = [
        json.dumps({"key": "a", "stance": good}),
        "{not json",
        json.dumps({"stance": good}),
        json.dumps({"key": "b", "stance": {"neg": 0.5, "pos": 0.5}}),
        json.dumps({"key": "c", "stance": {"against": 0.2, "neutral": 0.2, "favor": 0.2}}),
        json.dumps({"key": "d", "stance": {"against": -0.2, "neutral": 0.2, "favor": 1.0}}),
        json.dumps({"key": "a", "stance": {"against": 0.9, "neutral": 0.05, "favor": 0.05}}),
    ]
    path = tmp_path / "soft.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataValidationError) as caught:
        load_soft_labels([path, tmp_path / "missing.jsonl"], [STANCE])
    message = str(caught.value)
    for expected in (
        f"{path}:2: not a JSON line",
        f"{path}:3: missing 'key'",
        f"{path}:4: stance: labels ['neg', 'pos'] differ",
        f"{path}:5: stance: probabilities sum to 0.6000",
        f"{path}:6: stance: probabilities must be non-negative",
        f"{path}:7: stance: other probabilities for the same row at {path}:1",
        "missing.jsonl:0: soft-label file not found",
    ):
        assert expected in message


def test_distillation_loss_mixes_gold_and_teacher(tiny_base):
    from transformers import AutoModel

    torch.manual_seed(0)
    network = StanceNetwork(AutoModel.from_pretrained(tiny_base), [STANCE], pooling="mean").eval()
    ids = torch.randint(5, 50, (4, 7))
    mask = torch.ones_like(ids)
    gold = torch.tensor([0, 1, 2, 1])
    plain = network(ids, mask, **{label_key("stance"): gold})["loss"]
    one_hot = torch.nn.functional.one_hot(gold, 3).float()
    network.distill_weight = 1.0
    # A teacher that is certain of the gold label teaches exactly the gold-label loss.
    assert torch.allclose(network(ids, mask, **{label_key("stance"): gold, soft_key("stance"): one_hot})["loss"], plain)
    # Rows without soft labels (all zeros) are left to the gold label.
    none = torch.zeros(4, 3)
    assert torch.allclose(network(ids, mask, **{label_key("stance"): gold, soft_key("stance"): none})["loss"], plain)
    uniform = torch.full((4, 3), 1 / 3)
    network.distill_weight, network.distill_temperature = 0.5, 2.0
    logits = network(ids, mask)["logits_stance"]
    student = torch.log_softmax(logits / 2.0, dim=-1)
    kl = (uniform * (uniform.log() - student)).sum(-1).mean() * 4.0
    mixed = network(ids, mask, **{label_key("stance"): gold, soft_key("stance"): uniform})["loss"]
    assert torch.allclose(mixed, 0.5 * plain + 0.5 * kl, atol=1e-6)


def test_examples_take_soft_labels_only_for_the_tasks_that_read_their_input(tmp_path):
    rows_file = write_jsonl(
        tmp_path / "rows.jsonl",
        [{"text": "Turkey backs the deal.", "target": "Turkey", "stance": "favor", "sentiment": "positive"}],
    )
    rows = load_evaluation_data([str(rows_file)], [STANCE, SENTIMENT]).rows
    soft = {rows[0].digest: {"stance": [0.1, 0.2, 0.7], "sentiment": [0.2, 0.2, 0.6]}}
    pair, sentence = build_examples(rows, [STANCE, SENTIMENT], soft)
    assert pair.kind == "pair" and pair.soft == {"stance": [0.1, 0.2, 0.7]}
    assert sentence.kind == "sentence" and sentence.soft == {"sentiment": [0.2, 0.2, 0.6]}
    assert build_examples(rows, [STANCE, SENTIMENT])[0].soft is None


def test_training_distils_from_soft_labels_and_says_so_in_the_card(tiny_base, tiny_model, data, tmp_path):
    train_file, dev_file = data
    soft = tmp_path / "soft.jsonl"
    predictor = StancePredictor.from_dir(tiny_model)
    write_soft_labels(predictor, load_evaluation_data([str(train_file)], predictor.tasks).rows, soft)
    config = TrainConfig(
        train_files=[str(train_file)], dev_files=[str(dev_file)], base_model=str(tiny_base),
        output_dir=str(tmp_path / "student"), max_steps=3, batch_size=8, max_length=48, progress=False, bf16="false",
        soft_labels=[str(soft)], distill_weight=0.7, distill_temperature=2.0,
    )  # fmt: skip
    out = train(config)
    card = (out / "README.md").read_text()
    assert "distilled from soft labels (soft.jsonl; weight 0.7, temperature 2.0)" in card
    saved = json.loads((out / "stance_model.json").read_text())["training_config"]
    assert saved["soft_labels"] == [str(soft)] and saved["distill_weight"] == 0.7


def test_soft_labels_for_other_rows_are_an_error(tiny_base, data, tmp_path):
    train_file, _ = data
    soft = tmp_path / "soft.jsonl"
    soft.write_text(json.dumps({"key": "no-such-row", "stance": {"against": 1, "neutral": 0, "favor": 0}}) + "\n")
    config = TrainConfig(
        train_files=[str(train_file)], base_model=str(tiny_base), output_dir=str(tmp_path / "m"), max_steps=1,
        progress=False, bf16="false", soft_labels=[str(soft)], distill_weight=0.5,
    )  # fmt: skip
    with pytest.raises(ConfigError, match="no training row has soft labels"):
        train(config)
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"distill_weight": 0.5}, "distill_weight: needs soft_labels"),
        ({"soft_labels": ["s.jsonl"]}, "soft_labels: set distill_weight"),
        ({"soft_labels": ["s.jsonl"], "distill_weight": 1.5}, "distill_weight: must be between 0 and 1"),
        ({"soft_labels": ["s.jsonl"], "distill_weight": 0.5, "distill_temperature": 0}, "distill_temperature"),
    ],
)
def test_distillation_settings_are_checked(settings, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig(train_files=["t.jsonl"], **settings).validate()


def test_averaged_soft_labels_are_the_mean_for_rows_all_teachers_label(tmp_path):
    a = tmp_path / "a.jsonl"
    b = tmp_path / "b.jsonl"
    k1 = {"key": "k1", "text": "t", "target": "x"}
    a.write_text(
        json.dumps({**k1, "stance": {"against": 0.2, "neutral": 0.2, "favor": 0.6},
                    "sentiment": {"negative": 1.0, "neutral": 0.0, "positive": 0.0}}) + "\n"
        + json.dumps({"key": "k2", "stance": {"against": 1, "neutral": 0, "favor": 0}}) + "\n"
    )  # fmt: skip
    b.write_text(
        json.dumps({**k1, "stance": {"against": 0.4, "neutral": 0.2, "favor": 0.4},
                    "sentiment": {"negative": 0.0, "neutral": 1.0, "positive": 0.0}}) + "\n"
    )  # fmt: skip
    out = tmp_path / "mean.jsonl"
    from training.distill import average_soft_labels

    assert average_soft_labels([a, b], out, ["stance"]) == 1
    (entry,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert entry == {"key": "k1", "text": "t", "target": "x", "stance": {"against": 0.3, "neutral": 0.2, "favor": 0.5}}
    assert average_soft_labels([a, b], out) == 1
    assert json.loads(out.read_text())["sentiment"] == {"negative": 0.5, "neutral": 0.5, "positive": 0.0}


def test_the_bundled_teacher_pairs_are_valid_and_every_soft_label_finds_its_row():
    from pathlib import Path

    from training.config import build_config
    from training.data import FileSpec, load_split

    repo = Path(__file__).resolve().parents[2]
    config = build_config(str(repo / "configs" / "teacher_pairs.yaml"))
    problems: list = []
    path = repo / "data/distill/teacher_pairs.jsonl"
    pairs = load_split([FileSpec(str(path))], config.task_specs(), problems)
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert not problems and len(pairs.rows) == len(lines) > 1000
    soft = load_soft_labels([str(repo / "data/distill/teacher_pairs_soft.jsonl")], config.task_specs())
    assert {r.digest for r in pairs.rows} == set(soft)
    assert {r.labels["stance"] for r in pairs.rows} == set(STANCE.labels)
