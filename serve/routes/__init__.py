"""The HTTP routes, one `APIRouter` per concern; `serve.app.create_app` includes them all."""
