"""One JSON error shape for every failure, and the mapping from domain errors to HTTP statuses."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from model.actors import ActorRegistryError
from model.model_dir import ModelDirError


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


def error_response(status: int, code: str, message: str, **details: Any) -> JSONResponse:
    headers = {"Retry-After": "1"} if status == 429 else None
    return JSONResponse(error_body(status, code, message, **details), status_code=status, headers=headers)


def _field_path(loc: tuple) -> str:
    path = ""
    for part in loc[1:] if loc and loc[0] == "body" else loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "body"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, **exc.details)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [{"field": _field_path(tuple(e["loc"])), "message": e["msg"]} for e in exc.errors()]
        first = problems[0] if problems else {"field": "body", "message": "invalid request"}
        return error_response(
            422, "invalid_request", f"{first['field']}: {first['message']}", field=first["field"], problems=problems
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 403: "forbidden"}
        return error_response(exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail))

    @app.exception_handler(ActorRegistryError)
    async def actor_error(request: Request, exc: ActorRegistryError) -> JSONResponse:
        return error_response(422, "invalid_actors", str(exc), field="actors")

    @app.exception_handler(ModelDirError)
    async def model_error(request: Request, exc: ModelDirError) -> JSONResponse:
        return error_response(422, "invalid_model", str(exc))
