"""The API key and admin token checks (serve/deps.py)."""

from __future__ import annotations

from tests.serve.conftest import error_of, make_client, wait_ready


def test_api_keys(models_root):
    with make_client(models_root, api_keys=["k1"]) as client:
        wait_ready(client)
        error_of(client.post("/v1/classify", json={"items": [{"text": "a b", "target": "b"}]}), 401)
        ok = client.post("/v1/classify", json={"items": [{"text": "a b", "target": "b"}]}, headers={"X-API-Key": "k1"})
        assert ok.status_code == 200
        assert client.get("/healthz").status_code == 200
        item = {"items": [{"text": "a b", "target": "b"}]}
        assert client.post("/v1/classify", json=item, headers={"Authorization": "bearer k1"}).status_code == 200
        for header in ("k1", "Basic k1", "Bearer", "Bearer k2"):  # a bare key or another scheme is no key
            error_of(client.post("/v1/classify", json=item, headers={"Authorization": header}), 401)


def test_admin_token_only_as_a_bearer_token(client):
    for header in ("secret", "Basic secret", "Bearer wrong"):
        response = client.post("/v1/admin/reload", json={"model": "default"}, headers={"Authorization": header})
        error = error_of(response, 401)
        assert "Bearer" in error["message"]
