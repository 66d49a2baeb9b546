"""Persistence: the ``StationStore`` interface, its SQLAlchemy implementation, and the
repositories beside it (one database, one migration chain).

Every other table group — accounts, reports, confirmations, photos, visits, search cells,
webhooks, organisations, the geocoding cache — has a repository module here, built with
``Repository.beside(store)`` (:mod:`stations.store.repository`) so it shares the station
store's read and write pools.
"""

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
