"""Prometheus metrics: request counts and latencies per route, catalog size and freshness.

Each app has its own registry (tests build many apps in one process). With several uvicorn
workers each process reports its own numbers; scrape through the load balancer per worker or
aggregate in Prometheus — the usual setup for stateless replicas.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["Metrics", "MetricsMiddleware", "CONTENT_TYPE_LATEST"]


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "stations_http_requests_total",
            "HTTP requests",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "stations_http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.index_size = Gauge(
            "stations_index_size", "Stations in the in-memory index", registry=self.registry
        )
        self.last_refresh = Gauge(
            "stations_index_last_refresh_timestamp_seconds",
            "When the index last checked the store (unix time)",
            registry=self.registry,
        )
        self.change_counter = Gauge(
            "stations_index_change_counter",
            "Store change counter the index has caught up with",
            registry=self.registry,
        )

    def render(self, catalog: Any) -> bytes:
        self.index_size.set(len(catalog))
        self.last_refresh.set(catalog.refreshed_at.timestamp())
        self.change_counter.set(catalog.counter)
        return generate_latest(self.registry)


class MetricsMiddleware:
    """A plain ASGI middleware (no BaseHTTPMiddleware overhead on the hot path)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "")
            metrics: Metrics = scope["app"].state.services.metrics
            metrics.requests.labels(method, path, str(status)).inc()
            metrics.latency.labels(method, path).observe(time.perf_counter() - started)
