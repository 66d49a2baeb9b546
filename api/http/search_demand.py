"""Counting where riders search from (``/api/v1/nearest``), as H3 cells, never positions.

Applied by :mod:`api.http.edge` so the nearest route's own code is untouched: for that one
path it reads ``lat``/``lon``/``crs`` from the query string, turns the point into its
resolution-8 H3 cell and adds one to an in-memory count; a thread adds the counts to the
database every ``flush_s`` seconds (and at shutdown). The point itself is dropped at once.
Every other request costs one string comparison.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from starlette.types import Receive, Scope

from api.http.params import query_pairs

__all__ = ["PATH", "SearchDemand"]

log = logging.getLogger("stations.api")
#: The one path counted.
PATH = "/api/v1/nearest"


class SearchDemand:
    def __init__(self, flush_s: float = 30.0, tz: str = "Asia/Shanghai") -> None:
        self.flush_s = flush_s
        self.zone = ZoneInfo(tz)
        self._counts: Counter[tuple[str, date]] = Counter()
        self._lock = threading.Lock()
        self._cells: Any = None
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()

    def on_lifespan(self, receive: Receive) -> Receive:
        """The lifespan's ``receive``, stopping (and flushing) at shutdown — before the app
        closes its store."""

        async def wrapped() -> Any:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                self.stop()
            return message

        return wrapped

    def count(self, scope: Scope) -> None:
        """Add one to the cell of a nearest query's point (a bad query is not counted)."""
        try:
            query = dict(query_pairs(scope.get("query_string", b"").decode("latin-1")))
            lat, lon = float(query["lat"]), float(query["lon"])
            crs = query.get("crs", "wgs84")
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                return
            import h3

            if crs != "wgs84":
                from geodata.crs import to_wgs84

                wlon, wlat = to_wgs84(lon, lat, crs)
                lon, lat = float(wlon), float(wlat)
            cell = h3.latlng_to_cell(lat, lon, 8)
        except Exception:  # a bad query is the route's to refuse, not ours
            return
        day = datetime.now(UTC).astimezone(self.zone).date()
        with self._lock:
            self._counts[(cell, day)] += 1
            if self._thread is None:
                self._cells = _cells_of(scope)
                if self._cells is not None:
                    self._thread = threading.Thread(
                        target=self._run, name="search-demand", daemon=True
                    )
                    self._thread.start()

    def _run(self) -> None:
        while not self._stopped.wait(self.flush_s):
            self.flush()

    def flush(self) -> None:
        """Add the counts gathered so far to the database (kept for the next try on error)."""
        with self._lock:
            counts, self._counts = self._counts, Counter()
        if not counts or self._cells is None:
            return
        try:
            self._cells.add(counts)
        except Exception:
            log.exception("search demand: counts not saved, kept for the next flush")
            with self._lock:
                self._counts.update(counts)

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.flush()


def _cells_of(scope: Scope) -> Any:
    """The search counts beside the app's store (None for a store without SQL)."""
    from stations.store.search_cells import SqlSearchCells

    services = getattr(scope["app"].state, "services", None)
    store = getattr(services, "store", None)
    if getattr(store, "engine", None) is None:
        return None
    return SqlSearchCells.beside(store)
