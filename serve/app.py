"""The FastAPI app, wired: service state and lifespan (serve/state.py), error handlers (serve/errors.py), middleware
(serve/middleware.py) and one router per concern (serve/routes/)."""

from __future__ import annotations

from fastapi import FastAPI

from serve.errors import install_error_handlers
from serve.middleware import BodyLimit, Observe
from serve.routes import docs, health, labelling, models, pages, predict
from serve.settings import Settings
from serve.state import ServiceState, lifespan


def create_app(settings: Settings | None = None) -> FastAPI:
    """The service; the model loads in the background after start-up (``/readyz`` says when)."""
    settings = settings or Settings()
    state = ServiceState(settings)
    app = FastAPI(
        title="Actor Stance",
        version="1",
        summary="Stance toward named actors and sentence sentiment in news text.",
        description=(
            'Every error has one shape, `{"error": {"status", "code", "message", "field"?, "limit"?, '
            '"setting"?}}` (schema `ErrorBody`), including those no operation lists: 404 for a path that does not '
            "exist and 405 (with an `Allow` header) for a method a path does not take. 429 comes with `Retry-After`."
        ),
        lifespan=lifespan,
        docs_url=None,  # serve/routes/docs.py: Swagger UI from a package, so /docs works offline
        redoc_url=None,
    )
    app.state.service = state
    install_error_handlers(app)
    routers = [concern.router for concern in (predict, models, health, labelling, pages, docs)]
    for router in routers:
        app.include_router(router)
    docs.mount_assets(app)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    # The metrics name a request by its route's template: the app's own routes (docs) and each router's.
    app.add_middleware(Observe, service=state, routes=[*app.routes, *(r for router in routers for r in router.routes)])
    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "X-API-Key", "Authorization"],
            expose_headers=["Retry-After"],
        )
    return app
