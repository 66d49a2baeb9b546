"""Vector tiles of the stations from the in-memory catalog.

Why the catalog and not PostGIS ``ST_AsMVT``: the catalog is already in every worker's
memory on both engines (SQLite has no ST_AsMVT), a tile is a slice of a few sorted arrays
plus a few hundred features to write, and no tile request touches the database. The bench
(``bench/tiles_bench.py``) times both on PostgreSQL.

Below ``CLUSTER_BELOW_ZOOM`` stations are merged per grid cell of ``CELL`` tile units
(32 px of a 256 px tile): a tile then holds at most (4096/512)² = 64 features whatever the
station count, so the page's work stays flat from 1k to 200k stations. A cluster is drawn
at the mean position of its members and carries their ``count``; a cell of one station
carries that station. From ``CLUSTER_BELOW_ZOOM`` on a tile holds single stations (with
``BUFFER`` units around it, so markers on an edge are drawn whole), unless it would hold
more than ``MAX_POINTS``.

Two paths, compared by ``tests/stations/tiles``:

* :meth:`TileIndex.tile` — the service's. Per CRS the stations are kept in Morton (Z-order)
  of their Web Mercator position quantised to ``2**LEVEL`` per side, so every tile and every
  cell of every zoom is one contiguous run; each clustered zoom's cells are summed once per
  index (``np.add.reduceat`` over the runs) with centroids pre-quantised to integer tile
  units, so a clustered tile is two binary searches and an integer subtraction. A filter
  (in a minute: ``variant``) has its low zooms' cells summed the same way on its first
  tile; from ``FILTERED_GRID_MAX_ZOOM`` on a filtered tile sums only its own short run.
  Tiles are written by ``stations.tiles.pbf``.
* :meth:`TileIndex.reference_tile` — the plain version: a scan of every station, grouping
  with ``np.unique`` and mapbox-vector-tile's encoder.

Coordinates are shifted to GCJ-02 for AMap basemaps (``crs="gcj02"``) BEFORE placing them
in tiles, so markers sit on AMap's streets; the WGS-84 tiles serve OSM and Tianditu.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from geodata.crs import from_wgs84
from geodata.spatial_index import spread_bits
from stations.model import Station
from stations.tiles.pbf import PointLayer

__all__ = [
    "CELL",
    "CLUSTER_BELOW_ZOOM",
    "EXTENT",
    "LAYER",
    "MAX_ZOOM",
    "TileIndex",
    "tile_bounds",
]

EXTENT = 4096
CELL = 512
_CELL_BITS = 3  # log2(EXTENT // CELL): a clustered zoom z has cells of zoom z + 3
BUFFER = 64  # tile units around a tile whose points are still drawn (markers on the edge)
CLUSTER_BELOW_ZOOM = 13
#: From ``CLUSTER_BELOW_ZOOM`` on, a tile with more stations than this (a city centre at
#: zoom 13-14) is clustered too, so no tile costs more to encode than a clustered one.
MAX_POINTS = 256
#: Encoded tiles kept per index (a few MB at most: clustered tiles are about 1 KB).
TILE_CACHE = 4096
#: Filtered cells kept per index, per (variant, zoom) up to ``FILTERED_GRID_MAX_ZOOM``: at
#: most a few ten thousand cells each (~1 MB at 200k stations); above it a tile's run is short.
FILTERED_GRIDS = 32
FILTERED_GRID_MAX_ZOOM = 8
MAX_ZOOM = 22
LAYER = "stations"
#: Bits per axis of the Morton keys: cells down to zoom ``LEVEL - 3`` (a dense tile at
#: ``MAX_ZOOM`` is clustered in cells of zoom 25), 52 bits in all.
LEVEL = 26
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


def _spread(v: np.ndarray) -> np.ndarray:
    """The bits of ``v`` (< 2**32) moved to the even positions of a uint64."""
    return spread_bits(v.astype(np.uint64) & np.uint64(0xFFFFFFFF))


def _morton(col: np.ndarray, row: np.ndarray) -> np.ndarray:
    return (_spread(col) << np.uint64(1)) | _spread(row)


def _tile_key(x: int, y: int) -> int:
    """The Morton key of one tile (:func:`_morton` for two ints, without numpy's overhead)."""
    key = 0
    for bit in range(max(x.bit_length(), y.bit_length())):
        key |= (((x >> bit) & 1) << (2 * bit + 1)) | (((y >> bit) & 1) << (2 * bit))
    return key


@dataclass
class _Cells:
    """Cells of one zoom in Morton order: keys, centroids in integer tile units of the
    whole world at that zoom (``EXTENT`` per tile), counts and one member (the station
    itself when the cell holds only one).
    """

    keys: np.ndarray
    qx: np.ndarray
    qy: np.ndarray
    counts: np.ndarray
    member: np.ndarray


def _group(keys: np.ndarray, ux: np.ndarray, uy: np.ndarray, members: np.ndarray, z: int) -> _Cells:
    """Sum runs of equal (sorted) cell ``keys`` into cells of zoom ``z``."""
    if keys.size == 0:
        empty = np.empty(0, np.int64)
        return _Cells(keys, empty, empty, empty, empty)
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    counts = np.diff(np.append(starts, keys.size))
    scale = float(2**z * EXTENT)
    qx = np.rint(np.add.reduceat(ux, starts) / counts * scale).astype(np.int64)
    qy = np.rint(np.add.reduceat(uy, starts) / counts * scale).astype(np.int64)
    return _Cells(keys[starts], qx, qy, counts, members[starts])


@dataclass
class _Points:
    """One CRS's positions: sorted west to east (``order`` maps back to stations) for the
    single-station tiles, and in Morton order (``morder``) with each clustered zoom's cells.
    """

    ux: np.ndarray
    uy: np.ndarray
    order: np.ndarray
    key: np.ndarray
    mx: np.ndarray
    my: np.ndarray
    morder: np.ndarray
    cells: list[_Cells]

    @classmethod
    def build(cls, ux: np.ndarray, uy: np.ndarray) -> _Points:
        order = np.argsort(ux, kind="stable")
        side = 2**LEVEL
        col = np.clip(np.floor(ux * side), 0, side - 1).astype(np.int64)
        row = np.clip(np.floor(uy * side), 0, side - 1).astype(np.int64)
        key = _morton(col, row)
        morder = np.argsort(key, kind="stable")
        key, mx, my = key[morder], ux[morder], uy[morder]
        cells = [
            _group(key >> np.uint64(2 * (LEVEL - z - _CELL_BITS)), mx, my, morder, z)
            for z in range(CLUSTER_BELOW_ZOOM)
        ]
        return cls(ux[order], uy[order], order, key, mx, my, morder, cells)

    def run(self, z: int, x: int, y: int) -> tuple[int, int]:
        """The Morton-ordered positions ``[lo, hi)`` inside tile z/x/y."""
        shift = 2 * (LEVEL - z)
        t = _tile_key(x, y)
        lo, hi = np.searchsorted(self.key, [t << shift, (t + 1) << shift])
        return int(lo), int(hi)


def _tile_cells(cells: _Cells, z: int, x: int, y: int) -> slice:
    t = _tile_key(x, y) << (2 * _CELL_BITS)
    lo, hi = np.searchsorted(cells.keys, [t, t + (1 << (2 * _CELL_BITS))])
    return slice(int(lo), int(hi))


@dataclass
class TileIndex:
    """Stations ready to cut into tiles; build one per catalog state (``counter``).

    ``keep`` (a boolean mask) and ``states`` (open now: 1, 0 or -1 per station), where given,
    are in the order of the stations the index was built from; ``variant`` names them in
    the cache of encoded tiles (e.g. the filter and the minute).
    """

    counter: int
    ids: np.ndarray
    names: list[str]
    status: list[str]
    lon: np.ndarray
    lat: np.ndarray
    _points: dict[str, _Points] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    #: Encoded tiles of this (immutable) index, the most recent ``TILE_CACHE`` kept.
    _encoded: OrderedDict[tuple[Hashable, ...], bytes] = field(default_factory=OrderedDict)
    #: Clustered cells of filtered variants, the most recent ``FILTERED_GRIDS`` kept.
    _filtered: dict[tuple[Hashable, ...], _Cells] = field(default_factory=dict)

    @classmethod
    def build(cls, stations: list[Station] | Any, counter: int) -> TileIndex:
        """Index ``stations`` for tiles at store state ``counter``."""
        n = len(stations)
        return cls(
            counter=counter,
            ids=np.fromiter((s.id for s in stations), np.int64, n),
            names=[s.data.name for s in stations],
            status=[s.data.status for s in stations],
            lon=np.fromiter((s.data.lon for s in stations), float, n),
            lat=np.fromiter((s.data.lat for s in stations), float, n),
        )

    def __len__(self) -> int:
        return len(self.ids)

    @cached_property
    def status_codes(self) -> np.ndarray:
        """Every station's status code as an array (for counting states in one pass)."""
        return np.asarray(self.status, dtype=object)

    def unit(self, crs: str) -> tuple[np.ndarray, np.ndarray]:
        """Every station's unit-square position in ``crs``, in station order."""
        lon, lat = self.lon, self.lat
        if crs != "wgs84" and len(lon):
            lon, lat = (np.asarray(v, float) for v in from_wgs84(lon, lat, crs))
        return _unit(lon, lat)

    def points(self, crs: str) -> _Points:
        """Sorted positions and clustered cells in ``crs`` (built once per index and crs)."""
        found = self._points.get(crs)
        if found is None:
            with self._lock:
                found = self._points.get(crs)
                if found is None:
                    found = self._points[crs] = _Points.build(*self.unit(crs))
        return found

    def _single(self, i: int, states: np.ndarray | None) -> list[tuple[str, str | int]]:
        props: list[tuple[str, str | int]] = [
            ("id", int(self.ids[i])),
            ("name", self.names[i]),
            ("status", self.status[i]),
            ("count", 1),
        ]
        if states is not None:
            props.append(("open", int(states[i])))
        return props

    # -- the service's path ------------------------------------------------------------
    def tile(
        self,
        z: int,
        x: int,
        y: int,
        crs: str = "wgs84",
        *,
        keep: np.ndarray | None = None,
        states: np.ndarray | None = None,
        variant: Hashable = None,
    ) -> bytes:
        """The encoded MVT (``application/vnd.mapbox-vector-tile``); empty tiles are b"".

        An index never changes (a catalog change builds a new one), so its tiles are kept
        per ``variant``: a national map's low-zoom tiles are asked for by every visitor.
        """
        if variant is None and (keep is not None or states is not None):
            return self._encode(z, x, y, crs, keep, states)  # unnamed: nothing to cache under
        key = (z, x, y, crs, variant)
        found = self._encoded.get(key)
        if found is not None:
            return found
        body = self._encode(z, x, y, crs, keep, states, variant)
        with self._lock:
            self._encoded[key] = body
            if len(self._encoded) > TILE_CACHE:
                self._encoded.popitem(last=False)
        return body

    def _encode(
        self,
        z: int,
        x: int,
        y: int,
        crs: str,
        keep: np.ndarray | None = None,
        states: np.ndarray | None = None,
        variant: Hashable = None,
    ) -> bytes:
        pts = self.points(crs)
        layer = PointLayer(LAYER, EXTENT)
        if z >= CLUSTER_BELOW_ZOOM and self._add_points(layer, pts, z, x, y, keep, states):
            return bytes(layer) if len(layer) else b""
        cells = None
        if z < CLUSTER_BELOW_ZOOM:
            cells = pts.cells[z] if keep is None else self._filtered_cells(crs, z, keep, variant)
        if cells is not None:
            part = _tile_cells(cells, z, x, y)
            keys, qx, qy = cells.keys[part], cells.qx[part], cells.qy[part]
            counts, member = cells.counts[part], cells.member[part]
        else:
            lo, hi = pts.run(z, x, y)
            sel = np.arange(lo, hi)
            if keep is not None:
                sel = sel[keep[pts.morder[lo:hi]]]
            shift = np.uint64(2 * (LEVEL - z - _CELL_BITS))
            c = _group(pts.key[sel] >> shift, pts.mx[sel], pts.my[sel], pts.morder[sel], z)
            keys, qx, qy, counts, member = c.keys, c.qx, c.qy, c.counts, c.member
        if keys.size == 0:
            return b""
        lx = (qx - x * EXTENT).tolist()
        ly = (qy - y * EXTENT).tolist()
        for k, (count, i) in enumerate(zip(counts.tolist(), member.tolist(), strict=True)):
            props = [("count", count)] if count > 1 else self._single(i, states)
            layer.add(lx[k], ly[k], props)
        return bytes(layer)

    def _filtered_cells(
        self, crs: str, z: int, keep: np.ndarray, variant: Hashable
    ) -> _Cells | None:
        """Zoom ``z``'s cells of the stations in ``keep``, summed once per ``variant`` (a
        filter in a minute) like the unfiltered ones: a national map's low zooms then cost
        one pass for the first tile, not one per tile. None without a variant (the caller
        sums the tile's own run).
        """
        if variant is None or z > FILTERED_GRID_MAX_ZOOM:
            return None
        key = (crs, variant, z)
        found = self._filtered.get(key)
        if found is None:
            pts = self.points(crs)
            sel = np.flatnonzero(keep[pts.morder])
            shift = np.uint64(2 * (LEVEL - z - _CELL_BITS))
            found = _group(pts.key[sel] >> shift, pts.mx[sel], pts.my[sel], pts.morder[sel], z)
            with self._lock:
                if len(self._filtered) >= FILTERED_GRIDS:
                    self._filtered.pop(next(iter(self._filtered)))
                self._filtered[key] = found
        return found

    def _add_points(
        self,
        layer: PointLayer,
        pts: _Points,
        z: int,
        x: int,
        y: int,
        keep: np.ndarray | None,
        states: np.ndarray | None,
    ) -> bool:
        """Single stations of tile z/x/y (with the buffer) into ``layer``; False when there
        are more than ``MAX_POINTS`` (the tile is clustered instead).
        """
        n = 2**z
        margin = BUFFER / EXTENT
        lo, hi = np.searchsorted(pts.ux, [(x - margin) / n, (x + 1 + margin) / n])
        ty = pts.uy[lo:hi] * n - y
        ok = (ty >= -margin) & (ty < 1 + margin)
        if keep is not None:
            ok &= keep[pts.order[lo:hi]]
        inside = np.flatnonzero(ok)
        if inside.size > MAX_POINTS:
            return False
        scale = float(n * EXTENT)
        lx = (np.rint(pts.ux[lo:hi][inside] * scale).astype(np.int64) - x * EXTENT).tolist()
        ly = (np.rint(pts.uy[lo:hi][inside] * scale).astype(np.int64) - y * EXTENT).tolist()
        for k, i in enumerate(pts.order[lo:hi][inside].tolist()):
            layer.add(lx[k], ly[k], self._single(i, states))
        return True

    # -- the plain reference -----------------------------------------------------------
    def features(
        self,
        z: int,
        x: int,
        y: int,
        crs: str = "wgs84",
        *,
        keep: np.ndarray | None = None,
        states: np.ndarray | None = None,
    ) -> list[dict[str, Any]]:
        """The tile's features in tile units (y down), by a scan of every station."""
        ux, uy = self.unit(crs)
        n = 2**z
        chosen = np.ones(len(self), bool) if keep is None else keep.copy()
        if z >= CLUSTER_BELOW_ZOOM:
            margin = BUFFER / EXTENT
            tx, ty = ux * n - x, uy * n - y
            near = chosen & (tx >= -margin) & (tx < 1 + margin)
            near &= (ty >= -margin) & (ty < 1 + margin)
            if np.count_nonzero(near) <= MAX_POINTS:
                return [
                    self._reference_feature(ux[i] * n, uy[i] * n, x, y, 1, int(i), states)
                    for i in np.flatnonzero(near)
                ]
        chosen &= (np.floor(ux * n) == x) & (np.floor(uy * n) == y)
        members = np.flatnonzero(chosen)
        if members.size == 0:
            return []
        per = 2**_CELL_BITS
        col = np.floor(ux[members] * n * per).astype(np.int64)
        row = np.floor(uy[members] * n * per).astype(np.int64)
        _, first, inverse, counts = np.unique(
            col * (n * per) + row, return_index=True, return_inverse=True, return_counts=True
        )
        cx = np.bincount(inverse, ux[members]) / counts
        cy = np.bincount(inverse, uy[members]) / counts
        return [
            self._reference_feature(
                cx[c] * n, cy[c] * n, x, y, int(counts[c]), int(members[first[c]]), states
            )
            for c in range(counts.size)
        ]

    def _reference_feature(
        self,
        wx: float,
        wy: float,
        x: int,
        y: int,
        count: int,
        i: int,
        states: np.ndarray | None,
    ) -> dict[str, Any]:
        px = int(np.rint(wx * EXTENT)) - x * EXTENT
        py = int(np.rint(wy * EXTENT)) - y * EXTENT
        props = {"count": count} if count > 1 else dict(self._single(i, states))
        return {"geometry": f"POINT({px} {py})", "properties": props}

    def reference_tile(
        self,
        z: int,
        x: int,
        y: int,
        crs: str = "wgs84",
        *,
        keep: np.ndarray | None = None,
        states: np.ndarray | None = None,
    ) -> bytes:
        """:meth:`tile` the plain way: :meth:`features` encoded by mapbox-vector-tile."""
        import mapbox_vector_tile

        features = self.features(z, x, y, crs, keep=keep, states=states)
        if not features:
            return b""
        return bytes(
            mapbox_vector_tile.encode(
                [{"name": LAYER, "features": features}],
                default_options={"extents": EXTENT, "y_coord_down": True},
            )
        )
