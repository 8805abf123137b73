"""What can go wrong in the service, and what each failure becomes in HTTP: one JSON error shape for every failure.

The service raises the small domain errors below, named for what happened and carrying what the error body
names; `STATUSES` gives each its HTTP status and code, and the handlers render them. Errors of `model/` (bad actors,
bad analysis input, a broken model directory) are mapped here too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from model.actors import ActorRegistryError
from model.extraction import AnalysisInputError
from model.model_dir import ModelDirError

# Pydantic puts the member type of a union ("str", "list[str]", "function-after[...]") into an error's location;
# it is no field a client sent, so field paths leave it out.
_TYPE_TAG = re.compile(r"^(str|int|bool|float|none|bytes|dict|list|set|tuple)$|[\[\-]")


class ServiceError(Exception):
    """A request the service refuses or cannot answer; the message says what and the attributes say where."""

    field: str | None = None  # the request field to blame, when one is
    limit: float | None = None  # the limit that was exceeded ...
    setting: str | None = None  # ... and the setting that holds it
    retry_after: int | None = None  # seconds a client should wait before trying again

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TooLarge(ServiceError):
    """A request over a size limit: documents, characters, items, inline actors, body bytes."""

    def __init__(self, what: str, limit: int, setting: str, got: int | None = None, field: str | None = None) -> None:
        got_text = "" if got is None else f": got {got}"
        super().__init__(f"{what} exceeds the limit of {limit} (setting STANCE_{setting.upper()}){got_text}")
        self.limit, self.setting, self.field = limit, setting, field


class TooManyInputs(ServiceError):
    """A request needing more model inputs than the whole queue holds: it could never be admitted."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(
            f"request needs {size} model inputs; the queue holds at most {limit} (setting STANCE_QUEUE_MAX_ITEMS)"
        )
        self.limit, self.setting = limit, "queue_max_items"


class QueueFull(ServiceError):
    """The model queue has no room for this request's inputs now."""

    def __init__(self, queued: int, limit: int) -> None:
        super().__init__(f"the model queue is full ({queued} inputs waiting, limit {limit}); retry shortly")
        self.limit, self.setting = limit, "queue_max_items"


class Overloaded(ServiceError):
    """The model work ahead of this request, at the measured throughput, would take longer than allowed."""

    def __init__(self, wait_s: float, ahead: int, throughput: float, limit_s: float, retry_after: int) -> None:
        super().__init__(
            f"about {wait_s:.0f} s of model work would be ahead of this request's end ({ahead} inputs at "
            f"{throughput:.0f} inputs/s, limit {limit_s:g} s); retry in {retry_after} s"
        )
        self.limit, self.setting, self.retry_after = limit_s, "max_queue_wait_s", retry_after


class RequestTimeout(ServiceError):
    """A request that ran past the per-request time limit (it was cancelled)."""

    def __init__(self, limit_s: float) -> None:
        super().__init__(f"request took longer than {limit_s} s (setting STANCE_REQUEST_TIMEOUT_S)")
        self.limit, self.setting = limit_s, "request_timeout_s"


class NotReady(ServiceError):
    """No model is loaded: still loading, or loading failed (the message says which)."""


class ShuttingDown(ServiceError):
    """The service is draining before it stops; requests in flight are still answered."""

    def __init__(self) -> None:
        super().__init__("shutting down: finishing the requests in flight")


class ModelNotFound(ServiceError):
    """No model directory of the given name."""

    field = "model"


class InvalidModelName(ServiceError):
    """A model name that is not a plain directory name inside the models root."""

    field = "model"


class ReloadFailed(ServiceError):
    """The model asked for could not be loaded; the current one keeps serving."""

    field = "model"

    def __init__(self, name: str, current: str | None, reason: str) -> None:
        super().__init__(f"model {name!r} not loaded, still serving {current}: {reason}")


class Unauthorized(ServiceError):
    """A missing or wrong API key or admin token."""


class AdminDisabled(ServiceError):
    """An admin route while no admin token is set."""

    def __init__(self) -> None:
        super().__init__("admin endpoints are off: set STANCE_ADMIN_TOKEN to enable them")


class LabellingDisabled(ServiceError):
    """A labelling route while no labelling queue is set."""

    def __init__(self) -> None:
        super().__init__("labelling is off: set STANCE_LABEL_QUEUE to a file of items")


class UnknownItem(ServiceError):
    """An answer for an id the labelling queue does not hold."""

    field = "id"

    def __init__(self, item_id: str) -> None:
        super().__init__(f"id {item_id!r} is not in the labelling queue")


class InvalidLabel(ServiceError):
    """An answer whose label for a task is not one of the task's choices."""

    def __init__(self, task: str, value: Any, allowed: Iterable[str]) -> None:
        super().__init__(f"{task}: {value!r} is not one of {list(allowed)}")
        self.field = task


class InvalidAnnotator(ServiceError):
    """An annotator name that cannot name a file."""

    field = "annotator"

    def __init__(self, annotator: str) -> None:
        super().__init__(
            f"annotator {annotator!r}: use 1-64 letters, digits, '.', '_' or '-' (it names the annotator's file)"
        )


class InvalidJson(ServiceError):
    """A request body that is not JSON, or not UTF-8; the body as a whole is bad, so no field is named."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"the request body is not valid JSON: {reason}")


# The HTTP status and code of each domain error.
STATUSES: dict[type[ServiceError], tuple[int, str]] = {
    InvalidModelName: (400, "invalid_model_name"),
    Unauthorized: (401, "unauthorized"),
    AdminDisabled: (404, "admin_disabled"),
    LabellingDisabled: (404, "labelling_disabled"),
    ModelNotFound: (404, "model_not_found"),
    UnknownItem: (404, "unknown_item"),
    TooLarge: (413, "payload_too_large"),
    TooManyInputs: (413, "payload_too_large"),
    InvalidAnnotator: (422, "invalid_annotator"),
    InvalidJson: (422, "invalid_json"),
    InvalidLabel: (422, "invalid_label"),
    ReloadFailed: (422, "invalid_model"),
    QueueFull: (429, "overloaded"),
    Overloaded: (429, "overloaded"),
    NotReady: (503, "not_ready"),
    ShuttingDown: (503, "shutting_down"),
    RequestTimeout: (504, "timeout"),
}


def error_body(status: int, code: str, message: str, **details: Any) -> dict[str, Any]:
    return {
        "error": {
            "status": status,
            "code": code,
            "message": message,
            **{k: v for k, v in details.items() if v is not None},
        }
    }


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None, **details: Any
) -> JSONResponse:
    headers = {**({"Retry-After": "1"} if status == 429 else {}), **(headers or {})}
    return JSONResponse(error_body(status, code, message, **details), status_code=status, headers=headers or None)


def service_error_response(exc: ServiceError) -> JSONResponse:
    """The response for a domain error: its status and code from `STATUSES`, a ``Retry-After`` when it has one."""
    status, code = STATUSES[type(exc)]
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else None
    return error_response(
        status, code, exc.message, headers=headers, limit=exc.limit, setting=exc.setting, field=exc.field,
        retry_after=exc.retry_after,
    )  # fmt: skip


def internal_error() -> JSONResponse:
    return error_response(500, "internal_error", "internal server error (the server log has the details)")


def field_path(loc: tuple) -> str:
    """``("body", "documents", 0, "id", "str")`` -> ``documents[0].id``."""
    path = ""
    for part in loc[1:] if loc and loc[0] == "body" else loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif not _TYPE_TAG.search(str(part)):
            path += f".{part}" if path else str(part)
    return path or "body"


def actor_field(message: str) -> str:
    """The field path an `ActorRegistryError` message points at: ``actors[1].patterns[0]``, ``actors[0].name``."""
    found = re.search(r"actors\[\d+\]", message)
    if found is None:
        return "actors"
    path, rest = found.group(0), message[found.end() :]
    inner = re.search(r"\b(patterns\[\d+\])|'(name|aliases|case_sensitive|patterns|exclude)'", rest)
    if inner is not None:
        path += "." + (inner.group(1) or inner.group(2))
    return path


def _json_error(document: Any, position: Any, reason: str) -> JSONResponse:
    """422 invalid_json with the parser's reason and where it stopped (no field: the body as a whole is bad)."""
    where = ""
    if isinstance(position, int):
        where = f" at character {position}"
        if isinstance(document, str):
            before = document[:position]
            where += f" (line {before.count(chr(10)) + 1}, column {position - before.rfind(chr(10))})"
    return service_error_response(InvalidJson(f"{reason}{where}"))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def service_error(request: Request, exc: ServiceError) -> JSONResponse:
        return service_error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        bad_json = next((e for e in errors if e.get("type") == "json_invalid"), None)
        if bad_json is not None:
            loc = tuple(bad_json.get("loc") or ())
            reason = str((bad_json.get("ctx") or {}).get("error") or bad_json.get("msg"))
            return _json_error(exc.body, loc[1] if len(loc) > 1 else None, reason)
        problems: list[dict[str, str]] = []
        for e in errors:
            field, message = field_path(tuple(e["loc"])), str(e["msg"]).removeprefix("Value error, ")
            if e.get("type") == "missing" and field == "body":
                message = "a JSON request body is required"
            same = next((p for p in problems if p["field"] == field), None)
            if same is None:
                problems.append({"field": field, "message": message})
            elif message not in same["message"]:
                same["message"] += f", or {message[:1].lower()}{message[1:]}"  # the members of a union
        first = problems[0] if problems else {"field": "body", "message": "invalid request"}
        return error_response(
            422, "invalid_request", f"{first['field']}: {first['message']}", field=first["field"], problems=problems
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 403: "forbidden"}
        return error_response(
            exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail), headers=exc.headers
        )

    @app.exception_handler(ActorRegistryError)
    async def actor_error(request: Request, exc: ActorRegistryError) -> JSONResponse:
        return error_response(422, "invalid_actors", str(exc), field=actor_field(str(exc)))

    @app.exception_handler(AnalysisInputError)
    async def analysis_input_error(request: Request, exc: AnalysisInputError) -> JSONResponse:
        return error_response(422, "invalid_request", str(exc), field=exc.field)

    @app.exception_handler(ModelDirError)
    async def model_error(request: Request, exc: ModelDirError) -> JSONResponse:
        return error_response(422, "invalid_model", str(exc))

    @app.exception_handler(Exception)
    async def unhandled(request: Request, exc: Exception) -> JSONResponse:
        # Reached only for errors outside the `Observe` middleware, which answers (and logs) all others itself.
        return internal_error()
