"""ASGI middleware around the routes: the body limit (and UTF-8 check) before parsing, and around everything the
per-request time limit, one JSON 500 for any unhandled error, and request metrics for every answer."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

from starlette.responses import Response
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from serve.errors import InvalidJson, RequestTimeout, TooLarge, internal_error, service_error_response
from serve.state import ServiceState

log = logging.getLogger("stance.serve")


class BodyLimit:
    """A body larger than the limit gets 413 before it is parsed, whether it announces its size (Content-Length)
    or not (chunked): the body is read up to the limit first, then handed on. A JSON body that is not UTF-8 gets
    422 invalid_json naming the first bad byte."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            return await self._reject(scope, receive, send, int(length))
        chunks: list[bytes] = []
        seen, more = 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunks.append(message.get("body", b""))
            seen += len(chunks[-1])
            more = message.get("more_body", False)
            if seen > self.limit:
                return await self._reject(scope, receive, send, seen)
        body: bytes | None = b"".join(chunks)
        if body and b"json" in headers.get(b"content-type", b"json").lower():
            try:
                body.decode("utf-8")
            except UnicodeDecodeError as exc:  # JSON is UTF-8 (RFC 8259); FastAPI itself would answer a bare 400
                reason = f"it is not UTF-8 (byte 0x{body[exc.start]:02x} at byte {exc.start + 1})"
                return await service_error_response(InvalidJson(reason))(scope, receive, send)

        async def replay() -> Message:
            nonlocal body
            if body is None:
                return await receive()
            message, body = {"type": "http.request", "body": body, "more_body": False}, None
            return message

        await self.app(scope, replay, send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send, size: int) -> None:
        error = TooLarge("request body (bytes)", self.limit, "max_body_bytes", got=size)
        await service_error_response(error)(scope, receive, send)


class Observe:
    """Around everything else: the per-request time limit (a timed-out request is cancelled, so its queued model
    work is skipped), one JSON 500 for any unhandled error, and request metrics for every answer."""

    def __init__(self, app: ASGIApp, service: ServiceState, routes: Sequence[BaseRoute]) -> None:
        self.app, self.service, self.routes = app, service, routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        settings, started = self.service.settings, time.perf_counter()
        status: int | None = None

        async def tracked_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        predicting = scope["path"].startswith("/v1/")
        timeout = settings.request_timeout_s if predicting else None
        response: Response | None = None
        self.service.in_flight += predicting
        self.service.metrics.in_flight.set(self.service.in_flight)
        try:
            async with asyncio.timeout(timeout) as limit:
                await self.app(scope, receive, tracked_send)
        except TimeoutError:
            if not limit.expired():
                log.exception("unhandled error in %s %s", scope["method"], scope["path"])
                response = internal_error()
            else:
                response = service_error_response(RequestTimeout(settings.request_timeout_s))
        except Exception:
            log.exception("unhandled error in %s %s", scope["method"], scope["path"])
            response = internal_error()
        finally:
            self.service.in_flight -= predicting
            self.service.metrics.in_flight.set(self.service.in_flight)
        if response is not None and status is None:
            await response(scope, receive, tracked_send)
        name = self.route_name(scope)
        self.service.metrics.requests.labels(route=name, status=str(status or 500)).inc()
        self.service.metrics.latency.labels(route=name).observe(time.perf_counter() - started)

    def route_name(self, scope: Scope) -> str:
        """The route's path template, also for a request answered before routing (413, invalid_json); 'unmatched'
        for paths no route serves (keeps the label set small)."""
        route = scope.get("route")
        if route is not None:
            return getattr(route, "path", "unmatched")
        probe = {**scope, "method": scope.get("method", "GET")}
        for candidate in self.routes:
            path = getattr(candidate, "path", None)
            if path is None:  # a whole router, as newer FastAPI includes one: its own routes are listed as well
                continue
            match, _ = candidate.matches(probe)
            if match is not Match.NONE:
                return path
        return "unmatched"
