"""What routes depend on (FastAPI ``Depends``): the service state, and the API key and admin token checks."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request

from serve.errors import AdminDisabled, Unauthorized
from serve.state import ServiceState


def get_state(request: Request) -> ServiceState:
    return request.app.state.service


State = Annotated[ServiceState, Depends(get_state)]


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (scheme in any case); None without one. Any other
    scheme, or a bare token, is no credential at all."""
    scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def require_api_key(request: Request, state: State) -> None:
    """Prediction routes, when keys are set: the key in ``X-API-Key`` or as ``Authorization: Bearer <key>``."""
    keys = state.settings.api_keys
    if not keys:
        return
    given = request.headers.get("x-api-key") or bearer_token(request) or ""
    if not any(hmac.compare_digest(given.encode(), k.encode()) for k in keys):
        raise Unauthorized("missing or wrong API key (header X-API-Key, or Authorization: Bearer)")


def require_admin(request: Request, state: State) -> None:
    """Admin routes: off (404) without ``STANCE_ADMIN_TOKEN``; else the token as ``Authorization: Bearer``."""
    token = state.settings.admin_token
    if token is None:
        raise AdminDisabled()
    given = bearer_token(request) or ""
    if not hmac.compare_digest(given.encode(), token.get_secret_value().encode()):
        raise Unauthorized("missing or wrong admin token (header Authorization: Bearer ...)")
