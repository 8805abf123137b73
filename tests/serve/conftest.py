from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from serve.app import create_app
from serve.settings import Settings
from tests.conftest import REPO


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


def error_of(response, status):
    """The error body of ``response``, after checking its status and that it has the error shape."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["status"] == status and error["message"]
    return error


def make_client(models_root: Path, **settings) -> TestClient:
    values = {"model": "default", "models_root": str(models_root), **settings}
    return TestClient(create_app(Settings(**values)))


@pytest.fixture(scope="module")
def client(models_root):
    with make_client(models_root, admin_token="secret", max_documents=3, max_document_chars=2000,
                     max_classify_items=4, max_body_bytes=50_000, max_inline_actors=2) as c:  # fmt: skip
        wait_ready(c)
        yield c


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(url: str, body: dict | None = None, headers: dict | None = None, timeout: float = 60) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def start_server(models_root: Path, extra_env: dict | None = None) -> tuple[str, subprocess.Popen]:
    """`stance serve` in a subprocess on a free port, ready to answer."""
    port = free_port()
    env = {**os.environ, "STANCE_MODELS_ROOT": str(models_root), "STANCE_ADMIN_TOKEN": "secret", **(extra_env or {})}
    process = subprocess.Popen(
        [sys.executable, "-m", "stance_cli.main", "serve", "--model", "default", "--port", str(port)],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if call(f"{base}/readyz", timeout=2)[0] == 200:
                return base, process
        except OSError:
            pass
        if process.poll() is not None:
            raise AssertionError(process.stdout.read() if process.stdout else "server exited")
        time.sleep(0.2)
    process.kill()
    raise AssertionError("server did not become ready")


def stop_server(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
    process.wait()


@pytest.fixture
def server(models_root):
    base, process = start_server(models_root)
    yield base, process
    stop_server(process)
