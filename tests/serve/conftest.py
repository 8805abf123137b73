from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from serve.app import create_app
from serve.settings import Settings


@pytest.fixture(scope="session")
def models_root(tiny_model, tmp_path_factory) -> Path:
    """A models root holding the tiny model as 'default' and as 'other' (a second, identical model)."""
    root = tmp_path_factory.mktemp("models")
    shutil.copytree(tiny_model, root / "default")
    shutil.copytree(tiny_model, root / "other")
    return root


def wait_ready(client: TestClient, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if client.get("/readyz").status_code == 200:
            return
        time.sleep(0.05)
    raise AssertionError(f"not ready: {client.get('/readyz').json()}")


def make_client(models_root: Path, **settings) -> TestClient:
    values = {"model": "default", "models_root": str(models_root), **settings}
    return TestClient(create_app(Settings(**values)))


@pytest.fixture(scope="module")
def client(models_root):
    with make_client(models_root, admin_token="secret", max_documents=3, max_document_chars=2000,
                     max_classify_items=4, max_body_bytes=50_000, max_inline_actors=2) as c:  # fmt: skip
        wait_ready(c)
        yield c
