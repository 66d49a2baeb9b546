"""The tile index of the catalog's current state, and tiles for a filter at the current minute."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from stations.search import StationFilter
from stations.tiles.mvt import TileIndex

__all__ = ["Tile", "TileCache"]


def _describe(flt: StationFilter | None, minute: datetime) -> str:
    """The filter and minute as text that is the same in every worker (sets sorted)."""
    parts = [minute.isoformat()]
    for f in fields(StationFilter) if flt is not None else ():
        value = getattr(flt, f.name)
        parts.append(f"{f.name}={sorted(value) if isinstance(value, frozenset) else value}")
    return ";".join(parts)


@dataclass(frozen=True)
class Tile:
    """An encoded tile (b"" when empty) and its entity tag."""

    body: bytes
    etag: str


class TileCache:
    """The tile index of a catalog's current state, rebuilt when the catalog changes."""

    def __init__(self, catalog: Any) -> None:
        self.catalog = catalog
        self._index: TileIndex | None = None
        self._lock = threading.Lock()

    def index(self) -> TileIndex:
        """The tile index for the catalog's current snapshot."""
        counter = self.catalog.counter
        current = self._index
        if current is not None and current.counter == counter:
            return current
        with self._lock:
            if self._index is None or self._index.counter != counter:
                self._index = TileIndex.build(self.catalog.all(), counter)
            return self._index

    def tile(
        self,
        z: int,
        x: int,
        y: int,
        crs: str = "wgs84",
        flt: StationFilter | None = None,
        at: datetime | None = None,
    ) -> Tile:
        """Tile z/x/y of the stations passing ``flt``, each station with its open state at
        ``at`` (default now; naive means the stations' local time), as is ``open_now``.

        Why the minute is part of the tile: a station's ``open`` changes with its hours, so
        a tile is the same for every visitor within a minute and is cached for that long.
        """
        index = self.index()
        minute, keep, states = self.catalog.states_by_id(flt, at)
        if len(states) != len(index):  # the catalog moved on between the two reads
            index = self.index()
            minute, keep, states = self.catalog.states_by_id(flt, at)
        variant = (flt, minute)
        body = index.tile(z, x, y, crs, keep=keep, states=states, variant=variant)
        stamp = hashlib.blake2s(_describe(flt, minute).encode(), digest_size=6).hexdigest()
        return Tile(body, f'"t{index.counter}-{crs}-{stamp}"')
