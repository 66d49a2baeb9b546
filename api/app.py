"""The application factory: nothing is configured at import time.

``create_app(settings)`` builds a FastAPI app whose lifespan opens the store, loads the
catalog and keeps it in step with writes from other processes; tests build their own app
with their own settings and store.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine

from api.admin import routes as admin
from api.admin import visits as admin_visits
from api.deps import Services, visit_policy
from api.errors import install_error_handlers
from api.http.compression import GzipMiddleware
from api.http.hardening import install_hardening
from api.http.memory import keep_large_blocks_off_the_heap
from api.http.metrics import Metrics, MetricsMiddleware
from api.ogc import routes as ogc
from api.pages import assets, docs, embed, maps, wechat
from api.pages import station as station_page
from api.rest import (
    auth,
    changes,
    confirmations,
    coverage,
    health,
    nearest,
    reports,
    snapshots,
    stations,
    webhooks,
)
from api.rest import visits as visits_api
from api.rest.schemas import PROBLEM_RESPONSES
from api.settings import Settings
from stations.feed.delivery import WebhookDeliverer
from stations.feed.snapshots import SnapshotCache
from stations.feed.webhooks import SqlWebhookStore
from stations.search import StationCatalog
from stations.store.accounts import SqlAccountStore
from stations.store.base import StationStore
from stations.store.confirmations import SqlConfirmationStore
from stations.store.monitor import StoreMonitor
from stations.store.outage import UNAVAILABLE_ERRORS, StoreUnavailable, breaker_of
from stations.store.reports import SqlReportStore
from stations.store.visits import SqlVisitStore
from stations.trust.board import TrustBoard
from stations.trust.confirm import TrustService

__all__ = ["create_app"]

log = logging.getLogger("stations.api")


class _Refresher(threading.Thread):
    """Keeps the catalog in step with writes made by other processes (workers, hosts, CLI).

    It sleeps in ``store.wait_for_change`` (PostgreSQL LISTEN/NOTIFY, SQLite data_version),
    so another process's write reaches this catalog within about 0.1 s, and compares the
    change counter every ``interval_s`` in case a notification was missed.
    """

    def __init__(
        self, catalog: StationCatalog, interval_s: float, trust: TrustService | None = None
    ) -> None:
        super().__init__(name="catalog-refresher", daemon=True)
        self.catalog = catalog
        self.trust = trust
        self.interval_s = interval_s
        self.stopped = threading.Event()

    def run(self) -> None:
        store = self.catalog.store
        while not self.stopped.is_set():
            try:
                hinted = store.wait_for_change(self.interval_s)
                if hinted or store.change_counter() != self.catalog.counter:
                    self.catalog.refresh()
                if self.trust is not None:  # riders' confirmations stored by other processes
                    self.trust.refresh()
            except (StoreUnavailable, *UNAVAILABLE_ERRORS):  # the monitor logs the outage
                self.stopped.wait(self.interval_s)
            except Exception:  # keep serving the last good snapshot; the log says why
                log.exception("catalog refresh failed")
                self.stopped.wait(self.interval_s)


def _open(settings: Settings, store: StationStore | None, demo: bool) -> tuple[StationStore, Any]:
    if store is not None:
        return store, None
    if demo:
        from stations.demo import demo_store

        return demo_store()
    from stations.store import open_store

    return open_store(settings.database_url, settings.store_limits()), None


def _monitor(store: StationStore, settings: Settings) -> StoreMonitor | None:
    """Start the database probe behind /readyz and the store's breaker (SQL stores)."""
    engine = getattr(store, "engine", None)
    if not isinstance(engine, Engine):
        return None
    monitor = StoreMonitor(
        engine,
        breaker_of(engine),
        interval_s=settings.db_probe_interval_s,
        counter=store.change_counter,
    )
    monitor.probe()
    monitor.start()
    return monitor


def _trust(
    store: StationStore, catalog: StationCatalog, reports: Any, settings: Settings
) -> TrustService | None:
    """Rider confirmations beside the store, their recent votes loaded (issue 16)."""
    if getattr(store, "engine", None) is None:
        return None
    service = TrustService(
        SqlConfirmationStore.beside(store),
        catalog,
        TrustBoard(),
        reports,
        radius_m=settings.confirm_radius_m,
    )
    service.load()
    return service


def create_app(
    settings: Settings | None = None, *, store: StationStore | None = None, demo: bool = False
) -> FastAPI:
    """Build the app. ``store`` overrides the configured one; ``demo`` uses the demo set."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        keep_large_blocks_off_the_heap()  # before the catalog's arrays: see api.http.memory
        opened, keepalive = _open(settings, store, demo)
        catalog = StationCatalog(opened, tz=settings.timezone)
        visits = (
            SqlVisitStore.beside(opened, visit_policy(settings))
            if hasattr(opened, "engine")
            else None
        )
        app.state.accounts = SqlAccountStore.beside(opened)
        app.state.reports = SqlReportStore.beside(opened)
        app.state.webhooks = SqlWebhookStore.beside(opened)
        app.state.snapshots = SnapshotCache(opened)
        trust = _trust(opened, catalog, app.state.reports, settings)
        monitor = _monitor(opened, settings)
        app.state.services = Services(
            settings, opened, catalog, trust=trust, visits=visits, monitor=monitor
        )
        refresher = _Refresher(catalog, settings.refresh_interval_s, trust)
        refresher.start()
        deliverer = None
        if settings.webhooks_enabled and not demo:
            deliverer = WebhookDeliverer(
                opened,
                app.state.webhooks,
                poll_s=settings.webhook_poll_s,
                lease_s=settings.webhook_lease_s,
                timeout_s=settings.webhook_timeout_s,
                backoff_cap_s=settings.webhook_backoff_cap_s,
            )
            deliverer.start()
        try:
            yield
        finally:
            refresher.stopped.set()
            if monitor is not None:
                monitor.stop()
            if deliverer is not None:
                deliverer.stopped.set()
                deliverer.join(timeout=5)
            refresher.join(timeout=5)
            await app.state.limiter.aclose()
            if store is None:
                opened.close()
            if keepalive is not None:
                keepalive.cleanup()

    app = FastAPI(
        title="Warm Stations 暖心驿站地图",
        version="0.1.0",
        description="Rest stations for outdoor workers: find the nearest open one, "
        "see coverage, plan new sites. 户外劳动者暖心驿站地图服务。",
        lifespan=lifespan,
        responses=PROBLEM_RESPONSES,
        # /docs and /redoc come from api.pages.docs, with Swagger UI and ReDoc served here
        # (FastAPI's own pages load them from jsDelivr, blocked in mainland China).
        docs_url=None,
        redoc_url=None,
    )
    app.docs_url = docs.DOCS_URL  # the OGC landing page links it (service-doc); no route added
    install_error_handlers(app)
    app.state.metrics = Metrics()
    # Riders are on weak mobile signal: compress pages, scripts and GeoJSON (≈4× smaller).
    app.add_middleware(GzipMiddleware)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    install_hardening(app, settings)
    # Routers are tried in this order: the riders' nearest query, the busiest route, first.
    for module in (
        nearest,
        health,
        stations,
        coverage,
        ogc,
        maps,
        embed,
        wechat,
        assets,
        auth,
        reports,
        confirmations,
        changes,
        snapshots,
        webhooks,
        visits_api,
        station_page,
        admin,
        admin_visits,
        docs,
    ):
        app.include_router(module.router)
    return app
