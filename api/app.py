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

from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig

from api.admin import photos as admin_photos
from api.admin import routes as admin
from api.admin import visits as admin_visits
from api.errors import install_error_handlers
from api.http.compression import GzipMiddleware
from api.http.hardening import install_hardening
from api.http.memory import keep_large_blocks_off_the_heap
from api.ogc import routes as ogc
from api.ogc import tiles as ogc_tiles
from api.pages import assets, docs, embed, home, maps, network_map, wechat
from api.pages import station as station_page
from api.rest import (
    auth,
    changes,
    confirmations,
    coverage,
    health,
    nearest,
    photos,
    recheck,
    reports,
    snapshots,
    stations,
    tiles,
    webhooks,
)
from api.rest import visits as visits_api
from api.rest.schemas import PROBLEM_RESPONSES
from api.services import build_services
from api.settings import Settings
from stations.feed.delivery import WebhookDeliverer
from stations.search import StationCatalog
from stations.store.base import StationStore
from stations.store.outage import UNAVAILABLE_ERRORS, StoreUnavailable
from stations.trust.confirm import TrustService

__all__ = ["DEMO_USER", "create_app"]

#: The demo console's editor (``stations serve --demo`` prints a one-time password for it).
DEMO_USER = "demo"

log = logging.getLogger("stations.api")


class _Refresher(threading.Thread):
    """Keeps the catalog in step with writes made by other processes (workers, hosts, CLI).

    It sleeps in ``store.wait_for_change`` (PostgreSQL LISTEN/NOTIFY, SQLite data_version),
    so another process's write reaches this catalog within about 0.1 s, and compares the
    change feed's head every ``interval_s`` in case a notification was missed.
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
                if hinted or store.feed_head() != self.catalog.counter:
                    self.catalog.refresh()
                if self.trust is not None:  # riders' confirmations stored by other processes
                    self.trust.refresh()
            except (StoreUnavailable, *UNAVAILABLE_ERRORS):  # the monitor logs the outage
                self.stopped.wait(self.interval_s)
            except Exception:  # keep serving the last good snapshot; the log says why
                log.exception("catalog refresh failed")
                self.stopped.wait(self.interval_s)


#: FastAPI's native OpenTelemetry, all three signals off (``Settings.opentelemetry``).
_NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


def create_app(
    settings: Settings | None = None,
    *,
    store: StationStore | None = None,
    demo: bool = False,
    direct: bool = True,
    demo_password: str | None = None,
) -> FastAPI:
    """Build the app. ``store`` overrides the configured one; ``demo`` uses the demo set
    (with ``demo_password``, its console has an editor :data:`DEMO_USER` who signs in with it);
    ``direct=False`` sends the riders' confirmations through FastAPI's router like every
    other request (the edge answers them directly otherwise: :mod:`api.http.direct`)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        keep_large_blocks_off_the_heap()  # before the catalog's arrays: see api.http.memory
        services = build_services(settings, store=store, demo=demo)
        app.state.services = services
        if demo and demo_password:  # the demo's store is a temporary copy: so is the account
            services.accounts.add_user(DEMO_USER, "editor", password=demo_password)
        monitor = services.monitor
        if monitor is not None:  # the database probe behind /readyz and the store's breaker
            monitor.probe()
            monitor.start()
        refresher = _Refresher(services.catalog, settings.refresh_interval_s, services.trust)
        refresher.start()
        deliverer = None
        if settings.webhooks_enabled and not demo:
            deliverer = WebhookDeliverer(
                services.store,
                services.webhooks,
                poll_s=settings.webhook_poll_s,
                idle_s=settings.webhook_idle_poll_s,
                feed_hint=lambda: services.catalog.counter,
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
            await services.aclose()

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
        telemetry=None if settings.opentelemetry else _NO_TELEMETRY,
    )
    app.docs_url = docs.DOCS_URL  # the OGC landing page links it (service-doc); no route added
    install_error_handlers(app)
    # Riders are on weak mobile signal: compress pages, scripts and GeoJSON (≈4× smaller).
    app.add_middleware(GzipMiddleware)
    # Security headers, CORS, limits, metrics, search demand, access log: api.http.edge.
    # A rider's confirmation is a RequestRoute endpoint: the edge calls it past the router.
    install_hardening(app, settings, direct=confirmations.router.routes if direct else ())
    # Routers are tried in this order: the riders' nearest query, the busiest route, first;
    # check-ins (a poster at every door) right after the health probes.
    # Routes are matched in this order, each request trying them one by one: the hot paths
    # (nearest, riders' check-ins and confirmations) come first.
    for module in (
        nearest,
        health,
        visits_api,
        confirmations,
        stations,
        coverage,
        tiles,
        ogc_tiles,
        ogc,
        network_map,
        maps,
        embed,
        wechat,
        assets,
        auth,
        reports,
        photos,
        recheck,
        changes,
        snapshots,
        webhooks,
        station_page,
        admin,
        admin_visits,
        admin_photos,
        docs,
        home,
    ):
        app.include_router(module.router)
    return app
