"""A nearest query's answer rows from the geodesic index: compiled when it can be.

The index (:mod:`geodata.spatial_index`) answers with positions and metres; the rows a
station answer is made of are built here, on the stations side, so ``geodata`` never learns
what a hit looks like.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from numpy.typing import ArrayLike

from geodata.spatial_index import GeodesicIndex
from stations.nearest._rows import certified_rows

__all__ = ["nearest_rows"]


def nearest_rows(
    index: GeodesicIndex,
    lon: float,
    lat: float,
    k: int,
    rows: list[Any],
    codes: bytes,
    labels: tuple[Any, ...],
    row_type: type[tuple[Any, ...]] = tuple,
    *,
    max_distance_m: float | None = None,
    allowed: ArrayLike | None = None,
    fill: Callable[[int], Any] | None = None,
) -> list[Any]:
    """The ``k`` nearest as rows ``row_type((rows[p], metres, labels[codes[p]]))``.

    Same answer and order as :meth:`GeodesicIndex.nearest_positions`, for a caller that
    keeps a list of records and a byte of state per position (the station catalog:
    stations and their open-now state). In the common case (no distance cap, a filter
    passing a fair share) the rows are built in the index's compiled search call
    (:func:`stations.nearest._rows.certified_rows`); otherwise from its positions.

    ``rows[p]`` may be None when ``fill`` is given: ``fill(p)`` then supplies (and keeps) the
    record — a catalog whose stations are decoded on demand from a shared snapshot.
    """
    if (
        max_distance_m is None
        and type(lon) is float
        and type(lat) is float
        and type(k) is int
        and (allowed is None or not index.prefers_scan(allowed, k))
    ):
        tree = index.chord_tree
        # ``fill`` only when there is one: a checkout's extension built before it existed
        # still answers the in-memory catalog until it is rebuilt (pip install -e .).
        if fill is None:
            found = certified_rows(tree, lon, lat, k, allowed, rows, codes, labels, row_type)
        else:
            found = certified_rows(tree, lon, lat, k, allowed, rows, codes, labels, row_type, fill)
        if found is not None:
            return found
    positions, metres = index.nearest_positions(
        lon, lat, k, max_distance_m=max_distance_m, allowed=allowed
    )
    return [
        tuple.__new__(row_type, (_row(rows, p, fill), d, labels[codes[p]]))
        for p, d in zip(positions.tolist(), metres.tolist(), strict=True)
    ]


def _row(rows: list[Any], p: int, fill: Callable[[int], Any] | None) -> Any:
    row = rows[p]
    if row is None and fill is not None:
        return fill(p)
    return row
