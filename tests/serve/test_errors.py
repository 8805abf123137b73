"""Domain errors to HTTP (serve/errors.py): every error has a status, and renders the one error shape."""

from __future__ import annotations

import json

from serve import errors


def test_every_domain_error_has_a_status_and_code():
    kinds = {
        value
        for value in vars(errors).values()
        if isinstance(value, type) and issubclass(value, errors.ServiceError) and value is not errors.ServiceError
    }
    assert kinds == set(errors.STATUSES)


def test_a_domain_error_becomes_its_status_body_and_retry_after():
    response = errors.service_error_response(errors.Overloaded(100.0, 1000, 10.0, 30.0, retry_after=71))
    assert response.status_code == 429 and response.headers["retry-after"] == "71"
    assert json.loads(response.body) == {
        "error": {
            "status": 429, "code": "overloaded", "limit": 30.0, "setting": "max_queue_wait_s", "retry_after": 71,
            "message": "about 100 s of model work would be ahead of this request's end (1000 inputs at 10 inputs/s, "
            "limit 30 s); retry in 71 s",
        }
    }  # fmt: skip
    full = errors.service_error_response(errors.QueueFull(8192, 8192))
    assert full.status_code == 429 and full.headers["retry-after"] == "1" and b"retry_after" not in full.body
    too_large = errors.TooLarge("items", 4, "max_classify_items", got=5, field="items")
    large = json.loads(errors.service_error_response(too_large).body)
    assert list(large["error"]) == ["status", "code", "message", "limit", "setting", "field"]
    assert large["error"]["message"] == "items exceeds the limit of 4 (setting STANCE_MAX_CLASSIFY_ITEMS): got 5"
