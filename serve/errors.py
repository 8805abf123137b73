"""One JSON error shape for every failure, and the mapping from domain errors to HTTP statuses."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from model.actors import ActorRegistryError
from model.extraction import AnalysisInputError
from model.model_dir import ModelDirError

log = logging.getLogger("stance.serve")

# Pydantic puts the member type of a union ("str", "list[str]", "function-after[...]") into an error's location;
# it is no field a client sent, so field paths leave it out.
_TYPE_TAG = re.compile(r"^(str|int|bool|float|none|bytes|dict|list|set|tuple)$|[\[\-]")


class ApiError(Exception):
    """An error with its HTTP status; rendered as ``{"error": {"status", "code", "message", ...}}``."""

    def __init__(self, status: int, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def too_large(what: str, limit: int, setting: str, got: int | None = None, field: str | None = None) -> ApiError:
    message = f"{what} exceeds the limit of {limit} (setting STANCE_{setting.upper()})"
    if got is not None:
        message += f": got {got}"
    return ApiError(413, "payload_too_large", message, limit=limit, setting=setting, field=field)


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
    return invalid_json(f"{reason}{where}")


def invalid_json(reason: str) -> JSONResponse:
    """422 invalid_json: the body as a whole is bad (not JSON, or not UTF-8), so no field is named."""
    return error_response(422, "invalid_json", f"the request body is not valid JSON: {reason}")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        retry = exc.details.get("retry_after")
        headers = {"Retry-After": str(retry)} if retry is not None else None
        return error_response(exc.status, exc.code, exc.message, headers=headers, **exc.details)

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
