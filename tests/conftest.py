"""Shared fixtures: a tiny random BERT (hidden 32, 2 layers) with a small WordPiece vocabulary, built offline."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory) -> Path:
    """A tiny random BERT base model directory (config, safetensors weights, fast tokenizer)."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizer

    torch.manual_seed(0)
    directory = tmp_path_factory.mktemp("tiny-bert")
    words = (FIXTURES / "tiny_vocab.txt").read_text(encoding="utf-8").splitlines()
    tokenizer = BertTokenizer(vocab={w: i for i, w in enumerate(words)}, do_lower_case=True)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=512,
    )
    BertModel(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


STANCE_SENTENCES = [
    ("Damascus has every right to expel terrorists from its territory.", "Syria", "Damascus", "favor"),
    ("Turkey was accused of shelling civilians in the north.", "Turkey", "Turkey", "against"),
    ("Washington announced a meeting on Tuesday.", "United States", "Washington", "neutral"),
    ("The al-Nusra Front attacked a village and killed civilians.", "al-Nusra Front", "al-Nusra Front", "against"),
    ("The Syrian army liberated the town from terrorists.", "Syria", "Syrian army", "favor"),
    ("Ankara said talks would continue next week.", "Turkey", "Ankara", "neutral"),
]


def stance_rows(n: int) -> list[dict]:
    """Labelled rows cycling through a few sentences, each varied so that no two rows are identical."""
    rows = []
    for i in range(n):
        text, target, mention, stance = STANCE_SENTENCES[i % len(STANCE_SENTENCES)]
        text = f"{text} (report {i})"
        start = text.index(mention)
        sentiment = {"favor": "positive", "against": "negative", "neutral": "neutral"}[stance]
        rows.append(
            {
                "id": f"r{i}",
                "text": text,
                "target": target,
                "mention_start": start,
                "mention_end": start + len(mention),
                "stance": stance,
                "sentiment": sentiment,
            }
        )
    return rows


@pytest.fixture(scope="session")
def tiny_model(tiny_base, tmp_path_factory) -> Path:
    """A fine-tuned model directory (a few steps on the tiny base): stance + sentiment."""
    from training.config import TrainConfig
    from training.train import train

    work = tmp_path_factory.mktemp("tiny-model")
    train_file = write_jsonl(work / "train.jsonl", stance_rows(48))
    dev_file = write_jsonl(work / "dev.jsonl", [dict(r, id=f"d{i}") for i, r in enumerate(stance_rows(60)[48:])])
    config = TrainConfig(
        train_files=[str(train_file)],
        dev_files=[str(dev_file)],
        output_dir=str(work / "model"),
        base_model=str(tiny_base),
        max_steps=4,
        batch_size=8,
        max_length=48,
        progress=False,
        bf16="false",
    )
    return train(config)
