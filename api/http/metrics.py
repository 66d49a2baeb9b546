"""Prometheus metrics: request counts and latencies per route, catalog size and freshness.

Each app has its own registry (tests build many apps in one process). With several uvicorn
workers each process reports its own numbers; scrape through the load balancer per worker or
aggregate in Prometheus — the usual setup for stateless replicas.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["Metrics", "CONTENT_TYPE_LATEST"]


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
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, method: str, route: Any, status: int, seconds: float) -> None:
        """Count a request the routes saw (``route``: the one that matched, or None) and its
        latency. Called by :mod:`api.http.edge`; the label children are kept, so a request
        costs two dict lookups rather than two ``labels()`` calls."""
        path = getattr(route, "path", None) or "unmatched"
        key = (method, path, status)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (
                self.requests.labels(method, path, str(status)),
                self.latency.labels(method, path),
            )
        children[0].inc()
        children[1].observe(seconds)

    def render(self, catalog: Any) -> bytes:
        self.index_size.set(len(catalog))
        self.last_refresh.set(catalog.refreshed_at.timestamp())
        self.change_counter.set(catalog.counter)
        return generate_latest(self.registry)
