"""Persistence: the ``StationStore`` interface and its SQLAlchemy implementation."""

from stations.store.base import HistoryEntry, ImportPlanRow, StationStore
from stations.store.sql import SqlStationStore

__all__ = ["HistoryEntry", "ImportPlanRow", "SqlStationStore", "StationStore", "open_store"]


def open_store(url: str) -> StationStore:
    """Open (and migrate) the store at ``url``."""
    return SqlStationStore(url)
