"""The two HTML pages, the demo (/) and labelling (/label), served with a Content-Security-Policy that allows their
own inline script and style by hash and nothing else: no other script, style, frame, plugin or form target, calls to
this origin only."""

from __future__ import annotations

import base64
import hashlib
import re
from functools import cache
from importlib import resources

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from serve.deps import State

router = APIRouter(include_in_schema=False)

_INLINE = re.compile(r"<(script|style)>(.*?)</\1>", re.DOTALL)


def _hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode() + "'"


def content_security_policy(html: str) -> str:
    """The policy for a page: each inline <script> and <style> block allowed by its SHA-256, everything else off."""
    blocks = _INLINE.findall(html)
    scripts = [_hash(body) for kind, body in blocks if kind == "script"]
    styles = [_hash(body) for kind, body in blocks if kind == "style"]
    return "; ".join(
        [
            "default-src 'none'",
            "script-src " + (" ".join(scripts) or "'none'"),
            "style-src " + (" ".join(styles) or "'none'"),
            "connect-src 'self'",
            "img-src 'self' data:",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


@cache
def _page(name: str) -> tuple[str, str]:
    html = resources.files("serve.static").joinpath(name).read_text(encoding="utf-8")
    return html, content_security_policy(html)


def page(name: str) -> HTMLResponse:
    """``serve/static/<name>`` with its policy, ``nosniff`` and no referrer."""
    html, policy = _page(name)
    headers = {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
    return HTMLResponse(html, headers=headers)


@router.get("/label", response_class=HTMLResponse)
async def label_page(state: State) -> HTMLResponse:
    state.label_queue()  # 404 when labelling is off
    return page("label.html")


@router.get("/", response_class=HTMLResponse)
async def demo() -> HTMLResponse:
    return page("index.html")
