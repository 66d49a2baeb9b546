"""Shift GeoJSON from WGS-84 into a page's CRS in one vectorised call.

A map on a GCJ-02 basemap (AMap) must draw every overlay — stations, circles, polygons,
cells — in GCJ-02, or it sits 100–700 m off. Every coordinate of an object is gathered into
one array, converted by ``geodata.crs.from_wgs84`` at once, and put back in place.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from geodata.crs import from_wgs84

__all__ = ["bounds_of", "to_page_crs"]

_DECIMALS = 7  # ~1 cm; keeps pages small


def _positions(obj: Any) -> Iterator[list[float]]:
    """Every position (``[lon, lat, …]``) in a GeoJSON object, depth first."""
    if isinstance(obj, dict):
        kind = obj.get("type")
        if kind == "FeatureCollection":
            for f in obj.get("features", []):
                yield from _positions(f)
        elif kind == "Feature":
            if obj.get("geometry") is not None:
                yield from _positions(obj["geometry"])
        elif kind == "GeometryCollection":
            for g in obj.get("geometries", []):
                yield from _positions(g)
        elif "coordinates" in obj:
            yield from _coords(obj["coordinates"])


def _coords(c: Any) -> Iterator[list[float]]:
    if c and isinstance(c[0], int | float):
        yield c
    else:
        for item in c:
            yield from _coords(item)


def _copy(obj: Any) -> Any:
    """A copy deep enough that positions can be replaced without touching ``obj``."""
    if isinstance(obj, dict):
        return {
            k: _copy(v) if k in ("features", "geometry", "geometries", "coordinates") else v
            for k, v in obj.items()
        }
    if isinstance(obj, list | tuple):  # shapely's mapping() gives tuples
        return [_copy(v) for v in obj]
    return obj


def to_page_crs(obj: dict[str, Any], crs: str, decimals: int = _DECIMALS) -> dict[str, Any]:
    """A copy of GeoJSON ``obj`` (WGS-84) with every position converted to ``crs``.

    Parameters
    ----------
    obj
        A FeatureCollection, Feature or geometry in WGS-84 lon/lat.
    crs
        ``wgs84`` (positions are only rounded), ``gcj02`` or ``bd09``.
    decimals
        Decimal places kept (7 ≈ 1 cm; 6 ≈ 10 cm is plenty for drawn polygons).
    """
    out = _copy(obj)
    positions = list(_positions(out))
    if not positions:
        return out
    lon = np.fromiter((p[0] for p in positions), float, len(positions))
    lat = np.fromiter((p[1] for p in positions), float, len(positions))
    x, y = from_wgs84(lon, lat, crs)
    x = np.round(np.asarray(x, float), decimals).tolist()
    y = np.round(np.asarray(y, float), decimals).tolist()
    for p, px, py in zip(positions, x, y, strict=True):
        p[0] = px
        p[1] = py
    return out


def bounds_of(*objs: dict[str, Any]) -> list[list[float]] | None:
    """Leaflet bounds ``[[south, west], [north, east]]`` of GeoJSON objects, None if empty."""
    pts = [p for obj in objs for p in _positions(obj)]
    if not pts:
        return None
    arr = np.asarray([p[:2] for p in pts], float)
    return [
        [float(arr[:, 1].min()), float(arr[:, 0].min())],
        [float(arr[:, 1].max()), float(arr[:, 0].max())],
    ]
