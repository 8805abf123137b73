"""Prometheus metrics of one app instance (its own registry, so several apps can live in one process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class ServiceMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "stance_requests_total", "HTTP requests by route and status", ["route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "stance_request_seconds", "request latency by route", ["route"], buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )  # fmt: skip
        self.batch_items = Histogram(
            "stance_batch_items", "model inputs (sentences + pairs) per model call",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024), registry=self.registry,
        )  # fmt: skip
        self.batch_requests = Histogram(
            "stance_batch_requests", "requests joined in one model call", buckets=(1, 2, 4, 8, 16, 32, 64),
            registry=self.registry,
        )  # fmt: skip
        self.queue_seconds = Histogram(
            "stance_queue_seconds", "time a request waited for the model", buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )  # fmt: skip
        self.inference_seconds = Histogram(
            "stance_inference_seconds", "time of one model call", buckets=LATENCY_BUCKETS, registry=self.registry
        )
        self.skipped_requests = Counter(
            "stance_skipped_requests_total", "requests whose model work was skipped (timed out or cancelled first)",
            registry=self.registry,
        )  # fmt: skip
        self.queued_items = Gauge("stance_queued_items", "model inputs waiting", registry=self.registry)
        self.in_flight = Gauge("stance_requests_in_flight", "/v1/ requests being answered", registry=self.registry)
        self.model_info = Gauge(
            "stance_model_info", "the loaded model (value 1)", ["model_id", "name"], registry=self.registry
        )

    def set_model(self, model_id: str, name: str) -> None:
        self.model_info.clear()
        self.model_info.labels(model_id=model_id, name=name).set(1)

    def render(self) -> bytes:
        return generate_latest(self.registry)
