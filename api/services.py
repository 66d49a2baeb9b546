"""The composition root: every store, cache and client of one running service, built in one place.

``build_services(settings)`` opens the configured store (or takes one a test hands in), puts
the repositories that share its engine beside it, and creates the clients and caches the
routes use. ``create_app`` calls it in its lifespan and keeps the result as
``app.state.services`` (the only thing on ``app.state``); the ``stations`` command line calls
the same function, so both see the same stores built the same way. Routes reach the parts
through the typed aliases in ``api.deps``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

from platformdirs import user_data_dir
from sqlalchemy import Engine

from api.admin.uploads import UploadArea, default_upload_root
from api.http.caches import Derived, PageCache
from api.http.metrics import Metrics
from api.http.rate_limit import RateLimiter
from api.pages.wechat_client import WeChatClient
from api.settings import Settings
from stations.feed.snapshots import SnapshotCache
from stations.io.geocoding import Geocoder, make_geocoder
from stations.model import Station
from stations.photos.blobs import BlobStore, FolderBlobStore, S3BlobStore
from stations.photos.service import PhotoService
from stations.search import StationCatalog
from stations.store import open_store
from stations.store.accounts import AccountStore, SqlAccountStore
from stations.store.base import StationStore
from stations.store.confirmations import SqlConfirmationStore
from stations.store.geocode_cache import GeocodeCacheStore
from stations.store.monitor import StoreMonitor
from stations.store.orgs import SqlOrgStore
from stations.store.outage import breaker_of
from stations.store.photos import SqlPhotoStore
from stations.store.reports import ReportStore, SqlReportStore
from stations.store.visits import SqlVisitStore, VisitPolicy
from stations.store.webhooks import SqlWebhookStore
from stations.tiles import TileCache
from stations.trust.board import TrustBoard
from stations.trust.confirm import TrustService

__all__ = ["Services", "build_services", "visit_policy"]

#: Analysis pages kept (each takes about a second to draw).
ANALYSIS_PAGES = 8


@dataclass(eq=False)
class Services:
    """What one service instance holds. Built by ``build_services``; closed by its owner."""

    settings: Settings
    store: StationStore
    accounts: AccountStore
    reports: ReportStore
    #: The organisation tree (issue 18); who may write which stations.
    orgs: SqlOrgStore
    webhooks: SqlWebhookStore
    #: Geocoding answers kept between imports (``stations import --geocode``).
    geocode_cache: GeocodeCacheStore
    #: Bulk station files for platforms, rebuilt when the store changes.
    snapshots: SnapshotCache
    #: Check-ins, hand tallies and public codes (None only for a store without SQL).
    visits: SqlVisitStore | None
    #: The database probe /readyz reads (None for a store without an SQL engine); the app
    #: starts it, commands never need it.
    monitor: StoreMonitor | None
    #: Rate-limit buckets (in-process, or shared through Redis when configured).
    limiter: RateLimiter
    metrics: Metrics
    #: Console uploads between preview and confirmation.
    uploads: UploadArea
    #: The WeChat JS-SDK client (its token cache is shared by every request); None when the
    #: Official Account is not configured.
    wechat: WeChatClient | None
    #: The OGC collection's extent, per catalog snapshot.
    ogc_extent: Derived[Sequence[Station], tuple[float, float, float, float] | None]
    #: The OpenAPI 3.0 rendering of the app's OpenAPI 3.1 document.
    ogc_openapi: Derived[dict[str, Any], dict[str, Any]]
    #: Rendered coverage and gap map pages.
    analysis_pages: PageCache
    _release: Callable[[], None] = field(repr=False)
    #: Where the demo keeps its files (photos) beside its temporary database, so trying the
    #: demo writes nothing into the configured folders or bucket; None outside the demo.
    scratch: Path | None = None

    @cached_property
    def catalog(self) -> StationCatalog:
        """All live stations in memory: loaded on first use (the app does so at startup; most
        commands never need it)."""
        from stations.nearest.fragments import DEFAULT_KEPT, keep_features

        s = self.settings
        if s.catalog_snapshot == "memory":
            keep_features(
                DEFAULT_KEPT if s.nearest_cached_features is None else s.nearest_cached_features
            )
            return StationCatalog(self.store, tz=s.timezone)
        from stations.mapped import MAPPED_KEPT, SnapshotFiles, default_snapshot_dir, store_key

        features = MAPPED_KEPT if s.nearest_cached_features is None else s.nearest_cached_features
        keep_features(features)
        root = s.catalog_snapshot_dir or default_snapshot_dir()
        return StationCatalog(
            self.store,
            tz=s.timezone,
            shared=SnapshotFiles(root / store_key(_store_identity(self.store))),
            # A cached feature is keyed by its station object: keep at least as many decoded.
            keep_decoded=s.catalog_keep_decoded or max(features, 1),
        )

    @cached_property
    def trust(self) -> TrustService | None:
        """Rider confirmations beside the store, their recent votes loaded (issue 16); None
        where the store has no SQL engine."""
        if getattr(self.store, "engine", None) is None:
            return None
        service = TrustService(
            SqlConfirmationStore.beside(self.store),
            self.catalog,
            TrustBoard(),
            self.reports,
            radius_m=self.settings.confirm_radius_m,
        )
        service.load()
        return service

    @cached_property
    def geocoder(self) -> Geocoder | None:
        """Addresses → WGS-84 for imports (``stations import --geocode``), answers kept in
        :attr:`geocode_cache`; None when ``STATIONS_GEOCODER`` is not set."""
        s = self.settings
        if s.geocoder is None:
            return None
        return make_geocoder(
            s.geocoder,
            api_key=s.geocoder_key,
            domain=s.geocoder_domain,
            scheme=s.geocoder_scheme,
            cache=self.geocode_cache,
        )

    @cached_property
    def tiles(self) -> TileCache:
        """The stations' vector tiles, rebuilt from the catalog when it changes."""
        return TileCache(self.catalog)

    @cached_property
    def photos(self) -> PhotoService | None:
        """Station photos: bytes in a folder (or an S3-compatible bucket when configured),
        records beside the store (issue 16); None where the store has no SQL engine."""
        if getattr(self.store, "engine", None) is None:
            return None
        s = self.settings
        blobs: BlobStore
        if self.scratch is not None:
            blobs = FolderBlobStore(self.scratch / "photos")
        elif s.photo_s3_bucket:
            blobs = S3BlobStore(
                s.photo_s3_bucket,
                endpoint_url=s.photo_s3_endpoint,
                region=s.photo_s3_region,
                access_key=s.photo_s3_access_key,
                secret_key=s.photo_s3_secret_key,
            )
        else:
            blobs = FolderBlobStore(s.photo_dir or Path(user_data_dir("warm-stations")) / "photos")
        return PhotoService(blobs, SqlPhotoStore.beside(self.store), self.store)

    @property
    def board(self) -> TrustBoard | None:
        """The rider evidence every station answer reads (None: schedule only)."""
        return self.trust.board if self.trust is not None else None

    def close(self) -> None:
        """Release what ``build_services`` opened (a store handed in stays open)."""
        if self.visits is not None:
            self.visits.close()  # its group-commit writer thread
        if "trust" in self.__dict__ and self.trust is not None:
            self.trust.confirmations.close()  # likewise
        self._release()

    async def aclose(self) -> None:
        """``close``, after the rate limiter's connection (which lives on the event loop)."""
        await self.limiter.aclose()
        self.close()


def _open_store(
    settings: Settings, store: StationStore | None, demo: bool
) -> tuple[StationStore, Callable[[], None], Path | None]:
    """The station store, how to release it (a store handed in is its giver's to close), and
    the demo's own folder for files (None outside the demo)."""
    if store is not None:
        return store, lambda: None, None
    if demo:
        from stations.demo import demo_store

        opened, keepalive = demo_store()

        def release() -> None:
            opened.close()
            keepalive.cleanup()

        return opened, release, Path(keepalive.name)
    sql = open_store(settings.database_url, settings.store_limits())
    return sql, sql.close, None


def visit_policy(settings: Settings) -> VisitPolicy:
    """How visits are counted and kept, from the settings."""
    return VisitPolicy(
        window=timedelta(minutes=settings.visit_window_minutes),
        tz=settings.timezone,
        keep_raw_days=settings.visit_keep_raw_days,
    )


def _monitor(store: StationStore, settings: Settings) -> StoreMonitor | None:
    engine = getattr(store, "engine", None)
    if not isinstance(engine, Engine):
        return None
    return StoreMonitor(
        engine,
        breaker_of(engine),
        interval_s=settings.db_probe_interval_s,
        counter=store.feed_head,
    )


def _wechat(settings: Settings) -> WeChatClient | None:
    if not (settings.wechat_app_id and settings.wechat_app_secret):
        return None
    return WeChatClient(
        settings.wechat_app_id, settings.wechat_app_secret, settings.wechat_api_base
    )


def build_services(
    settings: Settings, *, store: StationStore | None = None, demo: bool = False
) -> Services:
    """Open everything one service instance needs.

    ``store`` is used as it is (and not closed by ``Services.close``); ``demo`` serves the
    bundled E-Town demo set from a temporary copy; otherwise the store at
    ``settings.database_url`` is opened (and migrated).
    """
    opened, release, scratch = _open_store(settings, store, demo)
    return Services(
        settings=settings,
        store=opened,
        accounts=SqlAccountStore.beside(opened),
        reports=SqlReportStore.beside(opened),
        orgs=SqlOrgStore.beside(opened),
        webhooks=SqlWebhookStore.beside(opened),
        geocode_cache=GeocodeCacheStore.beside(opened),
        snapshots=SnapshotCache(opened),
        visits=(
            SqlVisitStore.beside(opened, visit_policy(settings))
            if hasattr(opened, "engine")
            else None
        ),
        limiter=RateLimiter(settings.redis_url),
        metrics=Metrics(),
        uploads=UploadArea(
            scratch / "uploads" if scratch else settings.upload_dir or default_upload_root()
        ),
        wechat=_wechat(settings),
        ogc_extent=Derived(),
        ogc_openapi=Derived(),
        analysis_pages=PageCache(ANALYSIS_PAGES),
        monitor=_monitor(opened, settings),
        _release=release,
        scratch=scratch,
    )


def _store_identity(store: StationStore) -> str:
    """What names a store on this host: its database URL, password hidden, a SQLite file by
    its absolute path (two folders' ``sqlite:///stations.db`` are two stores)."""
    engine = getattr(store, "engine", None)
    if engine is None:
        return repr(store)
    url = engine.url
    if url.drivername.startswith("sqlite") and url.database not in (None, "", ":memory:"):
        return "sqlite:" + os.path.abspath(url.database)
    return str(url.render_as_string(hide_password=True))
