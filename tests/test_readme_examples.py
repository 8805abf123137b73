"""The README's examples say what the default model returns: run them against models/default and compare.

They need the trained default model (`make model`); without it (a fresh clone, CI) they are skipped.
"""

from __future__ import annotations

import contextlib
import io
import json
import re

import pytest

from tests.conftest import REPO

README = (REPO / "README.md").read_text()
DEFAULT = REPO / "models/default"
pytestmark = pytest.mark.skipif(
    not (DEFAULT / "stance_model.json").is_file(), reason="needs the default model (make model)"
)


def python_blocks() -> list[str]:
    section = README.split("## Predict from Python", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.DOTALL)


def test_the_dataframe_example_prints_what_its_comment_shows(monkeypatch):
    monkeypatch.chdir(REPO)
    block = python_blocks()[0]
    shown = [line[2:] for line in block.splitlines() if re.match(r"# \d+ ", line)]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(block, "README.md", "exec"), {})
    rows = [line for line in printed.getvalue().splitlines() if re.match(r"\d+ ", line)]
    assert len(rows) == len(shown) == 2
    for got, claimed in zip(rows, shown, strict=True):
        g, c = got.split(), claimed.split()
        assert (g[1], g[2], g[4], g[5]) == (c[1], c[2], c[4], c[5]), (got, claimed)  # target, stance, sentiment


def test_the_predict_texts_example_prints_what_its_comment_says(monkeypatch):
    monkeypatch.chdir(REPO)
    block = python_blocks()[1]
    claimed = block.split(
        "# ",
    )[-1].split()
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(block, "README.md", "exec"), {})
    assert printed.getvalue().split() == claimed[:2]


def test_the_hugging_face_example_prints_what_its_comment_says(monkeypatch):
    monkeypatch.chdir(REPO)
    block = python_blocks()[2]
    [claimed] = [line.split("  # ", 1)[1] for line in block.splitlines() if line.startswith("print(")]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(block, "README.md", "exec"), {})
    assert printed.getvalue().strip() == claimed


def test_the_curl_example_returns_what_its_comment_says():
    from model.actors import ActorRegistry
    from model.extraction import Document
    from model.pipeline import DocumentAnalyzer
    from model.predictor import StancePredictor

    section = README.split("## The HTTP API", 1)[1]
    body = json.loads(re.search(r"-d '(\{.*?\})'", section).group(1))
    comment = re.search(r"# -> (.*)", section).group(1)
    analyzer = DocumentAnalyzer.from_predictor(StancePredictor.from_dir(DEFAULT), ActorRegistry.default())
    (document,) = analyzer.analyze([Document("readme", body["text"])])
    (sentence,) = document.sentences
    (actor,) = sentence.actors
    mention = body["text"][actor.mentions[0].start : actor.mentions[0].end]
    claim = (
        f'{actor.actor} (mention "{mention}", {actor.mentions[0].start}-{actor.mentions[0].end}) '
        f"{actor.stance.label}; sentence sentiment {sentence.sentiment.label}"
    )
    assert claim in comment, (claim, comment)
