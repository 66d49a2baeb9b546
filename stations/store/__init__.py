"""Persistence: the ``StationStore`` interface and its SQLAlchemy implementation."""

from stations.store.base import HistoryEntry, ImportPlanRow, StationStore
from stations.store.outage import StoreLimits, StoreUnavailable
from stations.store.sql import SqlStationStore

__all__ = [
    "HistoryEntry",
    "ImportPlanRow",
    "SqlStationStore",
    "StationStore",
    "StoreLimits",
    "StoreUnavailable",
    "open_store",
]


def open_store(url: str, limits: StoreLimits | None = None) -> StationStore:
    """Open (and migrate) the store at ``url``; every database wait bounded by ``limits``."""
    return SqlStationStore(url, limits=limits)
