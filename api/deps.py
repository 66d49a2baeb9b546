"""Typed dependencies: what a route may ask for (settings, store, catalog)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request

from api.settings import Settings
from stations.errors import ConfigurationError
from stations.search import StationCatalog
from stations.store.base import StationStore
from stations.store.monitor import StoreMonitor
from stations.store.visits import SqlVisitStore, VisitPolicy
from stations.trust.board import TrustBoard
from stations.trust.confirm import TrustService

__all__ = [
    "Services",
    "services",
    "ServicesDep",
    "SettingsDep",
    "StoreDep",
    "CatalogDep",
    "TrustBoardDep",
    "VisitsDep",
    "visit_policy",
    "base_url",
]


@dataclass
class Services:
    """What one app instance holds; built in the lifespan, kept on ``app.state``."""

    settings: Settings
    store: StationStore
    catalog: StationCatalog
    #: Rider confirmations (issue 16); None where the store has no SQL engine.
    trust: TrustService | None = None
    #: Check-ins, hand tallies and public codes (None only for a store without SQL).
    visits: SqlVisitStore | None = None

    @property
    def board(self) -> TrustBoard | None:
        """The rider evidence every station answer reads (None: schedule only)."""
        return self.trust.board if self.trust is not None else None

    #: The database probe /readyz reads (None for a store without an SQL engine).
    monitor: StoreMonitor | None = None


def services(request: Request) -> Services:
    """The app's services, for hot routes that skip FastAPI's dependency resolution
    (~30 µs a request for two dependencies)."""
    return request.app.state.services


async def get_services(request: Request) -> Services:
    return request.app.state.services


async def get_settings(request: Request) -> Settings:
    return request.app.state.services.settings


async def get_store(request: Request) -> StationStore:
    return request.app.state.services.store


async def get_catalog(request: Request) -> StationCatalog:
    return request.app.state.services.catalog


async def get_board(request: Request) -> TrustBoard | None:
    return request.app.state.services.board


async def get_visits(request: Request) -> SqlVisitStore:
    visits = request.app.state.services.visits
    if visits is None:
        raise ConfigurationError("this store keeps no visits")
    return visits


def visit_policy(settings: Settings) -> VisitPolicy:
    """How visits are counted and kept, from the settings (used by the app and the CLI)."""
    return VisitPolicy(
        window=timedelta(minutes=settings.visit_window_minutes),
        tz=settings.timezone,
        keep_raw_days=settings.visit_keep_raw_days,
    )


ServicesDep = Annotated[Services, Depends(get_services)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[StationStore, Depends(get_store)]
CatalogDep = Annotated[StationCatalog, Depends(get_catalog)]
TrustBoardDep = Annotated[TrustBoard | None, Depends(get_board)]
VisitsDep = Annotated[SqlVisitStore, Depends(get_visits)]


def base_url(request: Request, settings: Settings) -> str:
    """The public base URL (configured, else from the request) without a trailing slash."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    return str(request.base_url).rstrip("/")
