"""Running the app under uvicorn, with a drain before its graceful shutdown.

uvicorn's shutdown closes every connection that has no request in progress, including one whose request bytes have
arrived but not been read yet, so a client that sent its request just before SIGTERM loses its connection. Here the
first SIGTERM (or Ctrl-C) only marks the service as draining (``/readyz`` answers 503, so a load balancer stops
sending) and keeps accepting and answering for ``shutdown_drain_s``; then uvicorn shuts down gracefully, waiting for
every request in flight. A second signal skips the drain.
"""

from __future__ import annotations

import logging
import threading
from types import FrameType

import uvicorn

from serve.app import create_app
from serve.settings import Settings

log = logging.getLogger("stance.serve")


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, drain_s: float, on_drain) -> None:
        super().__init__(config)
        self.drain_s, self.on_drain = drain_s, on_drain
        self._timer: threading.Timer | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._timer is not None or self.drain_s <= 0:
            if self._timer is not None:
                self._timer.cancel()
            return super().handle_exit(sig, frame)
        log.info("signal %d: draining for %.1f s (readyz 503), then shutting down", sig, self.drain_s)
        self.on_drain()
        self._timer = threading.Timer(self.drain_s, super().handle_exit, (sig, frame))
        self._timer.daemon = True
        self._timer.start()


def run(settings: Settings) -> None:
    """Serve until SIGTERM / Ctrl-C, then drain and shut down gracefully (up to 30 s for requests in flight)."""
    app = create_app(settings)

    def drain() -> None:
        app.state.service.draining = True

    config = uvicorn.Config(app, host=settings.host, port=settings.port, log_level="info", timeout_graceful_shutdown=30)
    DrainingServer(config, settings.shutdown_drain_s, drain).run()
