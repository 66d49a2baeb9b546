"""Metric projections for areas, buffers and planar geometry.

Areas and buffers must never be computed in degrees (a degree of longitude in Beijing is
85 km, a degree of latitude 111 km).  This module picks the UTM zone of an area's centre,
moves shapely geometries and coordinate arrays in and out of it, and gives geocentric
(ECEF) coordinates, in which the straight-line chord between two points is never longer than
their geodesic distance — the property the nearest-neighbour and within-radius searches of
``geodata.reach`` and ``geodata.coverage`` rely on to be exact.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS, Proj, Transformer
from shapely.geometry.base import BaseGeometry

from geodata.errors import GeodataError

__all__ = [
    "WGS84_A",
    "WGS84_E2",
    "from_metric",
    "lonlat_to_metric",
    "metric_to_lonlat",
    "reproject",
    "scale_factor",
    "to_ecef",
    "to_metric",
    "utm_crs_for",
]

WGS84_A = 6378137.0
"""WGS-84 semi-major axis in metres."""
_WGS84_F = 1 / 298.257223563
WGS84_E2 = _WGS84_F * (2 - _WGS84_F)
"""WGS-84 first eccentricity squared."""


def utm_crs_for(geom_or_lon: BaseGeometry | float, lat: float | None = None) -> CRS:
    """Return the UTM CRS (WGS-84 datum) of the zone that holds a geometry's centre or a point.

    Why UTM: it is conformal with a scale error below 0.1 % across its 6° zone, so buffers and
    areas of a city-sized service area come out right to well under a metre per kilometre.
    The Norwegian/Svalbard zone exceptions are ignored (no station network there).

    Parameters
    ----------
    geom_or_lon
        A WGS-84 shapely geometry (its bounding-box centre is used) or a longitude.
    lat
        The latitude when ``geom_or_lon`` is a longitude.

    Returns
    -------
    pyproj.CRS
        EPSG:326xx (north) or EPSG:327xx (south).

    Raises
    ------
    GeodataError
        Empty geometry, missing latitude, or a centre outside UTM's latitude range (±84°).
    """
    if isinstance(geom_or_lon, BaseGeometry):
        if geom_or_lon.is_empty:
            raise GeodataError.from_catalog(
                "area", "cannot choose a projection for an empty geometry"
            )
        minx, miny, maxx, maxy = geom_or_lon.bounds
        lon, lat_c = (minx + maxx) / 2.0, (miny + maxy) / 2.0
    else:
        if lat is None:
            raise GeodataError("utm_crs_for(lon, lat) needs a latitude", field="lat")
        lon, lat_c = float(geom_or_lon), float(lat)
    if not (math.isfinite(lon) and math.isfinite(lat_c)) or abs(lat_c) > 84.0:
        raise GeodataError.from_catalog(
            "area",
            "no UTM zone for a centre at lon {lon}, lat {lat} (UTM covers 80°S–84°N)",
            lon=lon,
            lat=lat_c,
        )
    zone = int((((lon + 180.0) % 360.0) // 6.0) + 1)
    zone = min(max(zone, 1), 60)
    return _utm_crs(zone, lat_c >= 0)


@lru_cache(maxsize=128)
def _utm_crs(zone: int, north: bool) -> CRS:
    return CRS.from_epsg((32600 if north else 32700) + zone)


@lru_cache(maxsize=64)
def _transformer(src: str, dst: str) -> Transformer:
    return Transformer.from_crs(src, dst, always_xy=True)


def _key(crs: CRS | str | int) -> str:
    return CRS.from_user_input(crs).to_string()


def lonlat_to_metric(
    lon: ArrayLike, lat: ArrayLike, crs: CRS | str | int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Project WGS-84 lon/lat arrays to ``crs`` (vectorised; x/y in metres for UTM)."""
    x, y = _transformer("EPSG:4326", _key(crs)).transform(
        np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    )
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def metric_to_lonlat(
    x: ArrayLike, y: ArrayLike, crs: CRS | str | int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Inverse of :func:`lonlat_to_metric`: projected x/y back to WGS-84 lon/lat."""
    lon, lat = _transformer(_key(crs), "EPSG:4326").transform(
        np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    )
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def _transform_geom(geom: BaseGeometry, src: str, dst: str) -> BaseGeometry:
    tr = _transformer(src, dst)

    def move(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        x, y = tr.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geom, move)


def reproject(geom: BaseGeometry, src: CRS | str | int, dst: CRS | str | int) -> BaseGeometry:
    """Move a shapely geometry from CRS ``src`` to CRS ``dst`` (x/y axis order, vectorised)."""
    return _transform_geom(geom, _key(src), _key(dst))


def to_metric(geom: BaseGeometry, crs: CRS | str | int) -> BaseGeometry:
    """Move a WGS-84 shapely geometry into the metric ``crs`` (all vertices, vectorised)."""
    return _transform_geom(geom, "EPSG:4326", _key(crs))


def from_metric(geom: BaseGeometry, crs: CRS | str | int) -> BaseGeometry:
    """Move a shapely geometry from the metric ``crs`` back to WGS-84 lon/lat."""
    return _transform_geom(geom, _key(crs), "EPSG:4326")


def scale_factor(crs: CRS | str | int, lon: float, lat: float) -> float:
    """Point scale factor of a conformal projection at lon/lat (projected metres per true metre).

    Used to draw a buffer whose projected radius ``r * k`` is the geodesic circle of radius
    ``r`` — so the covered area agrees with the geodesic within-radius test.
    """
    factors = Proj(CRS.from_user_input(crs)).get_factors(lon, lat)
    return float(factors.meridional_scale)


def to_ecef(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.float64]:
    """Geocentric (ECEF, metres) x/y/z of WGS-84 lon/lat points on the ellipsoid, shape (n, 3).

    Why: the chord between two ECEF points is never longer than their geodesic distance and,
    for points a few kilometres apart, shorter by less than one part in 10⁷.  A KD-tree on
    these points finds geodesic neighbours anywhere on Earth without projection distortion.
    """
    lam = np.radians(np.asarray(lon, dtype=float))
    phi = np.radians(np.asarray(lat, dtype=float))
    sin_phi = np.sin(phi)
    cos_phi = np.cos(phi)
    n = WGS84_A / np.sqrt(1.0 - WGS84_E2 * sin_phi * sin_phi)
    out = np.empty((lam.size, 3), dtype=float)
    out[:, 0] = (n * cos_phi * np.cos(lam)).ravel()
    out[:, 1] = (n * cos_phi * np.sin(lam)).ravel()
    out[:, 2] = (n * (1.0 - WGS84_E2) * sin_phi).ravel()
    return out
