from __future__ import annotations

import json
import shutil
import time

import pytest

from model.model_dir import PROJECT_FILE, WEIGHTS_FILE


def reload(client, name, token="secret"):
    return client.post("/v1/admin/reload", json={"model": name}, headers={"Authorization": f"Bearer {token}"})


def test_admin_needs_the_token(client, models_root):
    assert reload(client, "other", token="wrong").status_code == 401
    from tests.serve.conftest import make_client

    with make_client(models_root) as plain:
        assert reload(plain, "other").status_code == 404
        assert "STANCE_ADMIN_TOKEN" in reload(plain, "other").json()["error"]["message"]


@pytest.mark.parametrize("name", ["../default", "/etc", "http://example.com/m", "..", "a/b"])
def test_only_plain_names_under_the_root(client, name):
    assert reload(client, name).status_code in (400, 422)


def test_symlink_out_of_the_root_is_refused(client, models_root, tiny_model):
    link = models_root / "escape"
    if not link.exists():
        link.symlink_to(tiny_model.parent)
    response = reload(client, "escape")
    assert response.status_code == 400 and "outside" in response.json()["error"]["message"]


def broken(models_root, name, damage):
    target = models_root / name
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(models_root / "default", target)
    damage(target)
    return name


def drop_weights(d):
    (d / WEIGHTS_FILE).unlink()


def truncate(d):
    (d / WEIGHTS_FILE).write_bytes((d / WEIGHTS_FILE).read_bytes()[:500])


def pickle_only(d):
    (d / WEIGHTS_FILE).unlink()
    (d / "pytorch_model.bin").write_bytes(b"\x80\x04pickle")


def wrong_labels(d):
    project = json.loads((d / PROJECT_FILE).read_text())
    project["tasks"][0]["labels"] = ["a", "b"]
    (d / PROJECT_FILE).write_text(json.dumps(project))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (drop_weights, "missing"),
        (truncate, "does not match"),
        (pickle_only, "pickle"),
        (wrong_labels, "differ from stance_model.json"),
    ],
)
def test_broken_model_is_refused_and_the_old_one_keeps_serving(client, models_root, damage, message):
    before = client.get("/readyz").json()["model"]
    response = reload(client, broken(models_root, f"broken-{damage.__name__}", damage))
    assert response.status_code == 422
    assert message in response.json()["error"]["message"] and before in response.json()["error"]["message"]
    assert client.get("/readyz").json()["model"] == before
    assert client.post("/v1/analyze", json={"text": "Turkey spoke."}).status_code == 200


def test_reload_swaps_the_model(client, models_root):
    response = reload(client, "other")
    assert response.status_code == 200
    assert response.json()["model"].startswith("other@")
    assert client.get("/v1/model").json()["name"] == "other"
    assert reload(client, "default").status_code == 200


def test_loads_run_on_threads_that_end_and_the_model_thread_warms_up(models_root, monkeypatch):
    """Each thread that runs torch keeps an OpenMP team; more teams than one make every forward pass slower on a
    small CPU (serve/state.py), so a load's thread must end with the load, and only the model thread lasts."""
    import threading

    import serve.handle

    warmed: list[threading.Thread] = []
    real = serve.handle.warm_up

    def spy(predictor):
        warmed.append(threading.current_thread())
        real(predictor)

    monkeypatch.setattr(serve.handle, "warm_up", spy)
    monkeypatch.setattr("serve.batcher.warm_up", spy)
    from tests.serve.conftest import make_client, wait_ready

    with make_client(models_root, admin_token="secret") as c:
        wait_ready(c)
        assert reload(c, "other").status_code == 200
        deadline = time.monotonic() + 5
        while any(t.is_alive() for t in warmed if t.name.startswith("stance-load")) and time.monotonic() < deadline:
            time.sleep(0.01)
        names = [t.name for t in warmed]
        assert [n.split("_")[0] for n in names] == ["stance-load", "stance-model"] * 2, names
        assert not any(t.is_alive() for t in warmed if t.name.startswith("stance-load"))
        assert len({t for t in warmed if t.name.startswith("stance-model")}) == 1
