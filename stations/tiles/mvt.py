"""Vector tiles of the stations from the in-memory catalog, encoded by mapbox-vector-tile.

Why the catalog and not PostGIS ``ST_AsMVT``: the catalog is already in every worker's
memory on both engines (SQLite has no ST_AsMVT), a tile is a numpy mask over two arrays
plus a few hundred features to encode, and no tile request touches the database. The
bench (``bench/tiles_bench.py``) times both on PostgreSQL.

Below ``CLUSTER_BELOW_ZOOM`` stations are merged per grid cell of ``CELL`` tile units
(32 px of a 256 px tile): a tile then holds at most (4096/512)² = 64 features whatever the
station count, so the page's work stays flat from 1k to 200k stations. A cluster is drawn
at the mean position of its members and carries their ``count``. The cells are the same
world-wide grid for every tile of a zoom, computed once per zoom (one ``np.unique``) and
kept sorted by cell, so a tile is eight binary searches; from ``CLUSTER_BELOW_ZOOM`` on a
tile is a binary search over the points sorted west to east, then a mask.

Coordinates are shifted to GCJ-02 for AMap basemaps (``crs="gcj02"``) BEFORE placing them
in tiles, so markers sit on AMap's streets; the WGS-84 tiles serve OSM and Tianditu.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from geodata.crs import from_wgs84
from stations.model import Station

__all__ = [
    "CELL",
    "CLUSTER_BELOW_ZOOM",
    "EXTENT",
    "LAYER",
    "MAX_ZOOM",
    "TileCache",
    "TileIndex",
    "tile_bounds",
]

EXTENT = 4096
CELL = 512
BUFFER = 64  # tile units around a tile whose points are still drawn (markers on the edge)
CLUSTER_BELOW_ZOOM = 13
#: From ``CLUSTER_BELOW_ZOOM`` on, a tile with more stations than this (a city centre at
#: zoom 13-14) is clustered too, so no tile costs more to encode than a clustered one.
MAX_POINTS = 256
#: Encoded tiles kept per index (a few MB at most: clustered tiles are about 1 KB).
TILE_CACHE = 4096
MAX_ZOOM = 22
LAYER = "stations"
_MAX_LAT = 85.0511287798066


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """(west, south, east, north) in degrees of Web Mercator tile z/x/y."""
    n = 2**z

    def lat(row: float) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return x / n * 360 - 180, lat(y + 1), (x + 1) / n * 360 - 180, lat(y)


def _unit(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Web Mercator on the unit square (x right, y down)."""
    phi = np.radians(np.clip(lat, -_MAX_LAT, _MAX_LAT))
    return (lon + 180.0) / 360.0, (1.0 - np.log(np.tan(phi) + 1.0 / np.cos(phi)) / np.pi) / 2.0


@dataclass
class _Points:
    """Unit-square positions, sorted west to east (``order`` maps back to stations)."""

    ux: np.ndarray
    uy: np.ndarray
    order: np.ndarray
    clusters: dict[int, _Clusters] = field(default_factory=dict)


@dataclass
class _Clusters:
    """One zoom's cells: sorted keys (column * cells_per_side + row), centroids, counts,
    and one member (the station itself when the cell holds only one).
    """

    keys: np.ndarray
    cx: np.ndarray
    cy: np.ndarray
    counts: np.ndarray
    member: np.ndarray


def _cluster(points: _Points, z: int) -> _Clusters:
    side = (2**z) * (EXTENT // CELL)
    col = np.minimum((points.ux * side).astype(np.int64), side - 1)
    row = np.minimum((points.uy * side).astype(np.int64), side - 1)
    keys, inverse, counts = np.unique(col * side + row, return_inverse=True, return_counts=True)
    cx = np.bincount(inverse, points.ux) / counts
    cy = np.bincount(inverse, points.uy) / counts
    member = np.empty(keys.size, np.int64)
    member[inverse] = points.order
    return _Clusters(keys, cx, cy, counts, member)


@dataclass
class TileIndex:
    """Stations ready to cut into tiles; build one per catalog state (``counter``)."""

    counter: int
    ids: np.ndarray
    names: list[str]
    open_status: list[str]
    lon: np.ndarray
    lat: np.ndarray
    _points: dict[str, _Points] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    #: Encoded tiles of this (immutable) index, the most recent ``TILE_CACHE`` kept.
    _encoded: OrderedDict[tuple[int, int, int, str], bytes] = field(default_factory=OrderedDict)

    @classmethod
    def build(cls, stations: list[Station], counter: int) -> TileIndex:
        """Index ``stations`` for tiles at store state ``counter``."""
        n = len(stations)
        return cls(
            counter=counter,
            ids=np.fromiter((s.id for s in stations), np.int64, n),
            names=[s.data.name for s in stations],
            open_status=[s.data.status for s in stations],
            lon=np.fromiter((s.data.lon for s in stations), float, n),
            lat=np.fromiter((s.data.lat for s in stations), float, n),
        )

    def __len__(self) -> int:
        return len(self.ids)

    def points(self, crs: str) -> _Points:
        """Unit-square positions in ``crs`` (computed once per index and crs)."""
        found = self._points.get(crs)
        if found is None:
            with self._lock:
                found = self._points.get(crs)
                if found is None:
                    lon, lat = self.lon, self.lat
                    if crs != "wgs84" and len(lon):
                        lon, lat = (np.asarray(v, float) for v in from_wgs84(lon, lat, crs))
                    ux, uy = _unit(lon, lat)
                    order = np.argsort(ux, kind="stable")
                    found = _Points(ux[order], uy[order], order)
                    self._points[crs] = found
        return found

    def _clusters(self, crs: str, z: int) -> _Clusters:
        pts = self.points(crs)
        found = pts.clusters.get(z)
        if found is None:
            with self._lock:
                found = pts.clusters.get(z)
                if found is None:
                    found = pts.clusters[z] = _cluster(pts, z)
        return found

    def _cluster_features(self, z: int, x: int, y: int, crs: str) -> list[dict[str, Any]]:
        c = self._clusters(crs, z)
        per_tile = EXTENT // CELL
        side = (2**z) * per_tile
        picked = []
        for col in range(x * per_tile, (x + 1) * per_tile):
            lo, hi = np.searchsorted(
                c.keys, [col * side + y * per_tile, col * side + (y + 1) * per_tile]
            )
            if hi > lo:
                picked.append(np.arange(lo, hi))
        if not picked:
            return []
        sel = np.concatenate(picked)
        n = 2**z
        px = (c.cx[sel] * n - x) * EXTENT
        py = (c.cy[sel] * n - y) * EXTENT
        out = []
        for k, j in enumerate(sel.tolist()):
            count = int(c.counts[j])
            props: dict[str, Any] = {"count": count}
            if count == 1:
                props.update(self._station_props(int(c.member[j])))
            out.append({"geometry": f"POINT({px[k]:.1f} {py[k]:.1f})", "properties": props})
        return out

    def _station_props(self, i: int) -> dict[str, Any]:
        return {"id": int(self.ids[i]), "name": self.names[i], "status": self.open_status[i]}

    def features(self, z: int, x: int, y: int, crs: str = "wgs84") -> list[dict[str, Any]]:
        """The tile's features in tile units (y down): clusters below
        ``CLUSTER_BELOW_ZOOM``, single stations from there on.
        """
        if z < CLUSTER_BELOW_ZOOM:
            return self._cluster_features(z, x, y, crs)
        pts = self.points(crs)
        n = 2**z
        margin = BUFFER / EXTENT
        lo, hi = np.searchsorted(pts.ux, [(x - margin) / n, (x + 1 + margin) / n])
        ty = pts.uy[lo:hi] * n - y
        inside = np.flatnonzero((ty >= -margin) & (ty < 1 + margin))
        if inside.size > MAX_POINTS:
            return self._cluster_features(z, x, y, crs)
        px = (pts.ux[lo:hi][inside] * n - x) * EXTENT
        py = ty[inside] * EXTENT
        out = []
        for k, i in enumerate(pts.order[lo:hi][inside].tolist()):
            props = self._station_props(i)
            props["count"] = 1
            out.append({"geometry": f"POINT({px[k]:.1f} {py[k]:.1f})", "properties": props})
        return out

    def tile(self, z: int, x: int, y: int, crs: str = "wgs84") -> bytes:
        """The encoded MVT (``application/vnd.mapbox-vector-tile``); empty tiles are b"".

        An index never changes (a catalog change builds a new one), so its tiles are kept:
        a national map's low-zoom tiles are asked for by every visitor.
        """
        key = (z, x, y, crs)
        found = self._encoded.get(key)
        if found is not None:
            return found
        body = self._encode(z, x, y, crs)
        with self._lock:
            self._encoded[key] = body
            if len(self._encoded) > TILE_CACHE:
                self._encoded.popitem(last=False)
        return body

    def _encode(self, z: int, x: int, y: int, crs: str) -> bytes:
        import mapbox_vector_tile

        features = self.features(z, x, y, crs)
        if not features:
            return b""
        return bytes(
            mapbox_vector_tile.encode(
                [{"name": LAYER, "features": features}],
                default_options={"extents": EXTENT, "y_coord_down": True},
            )
        )


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
