"""Geodesic distance in metres on the WGS-84 ellipsoid.

Every distance the service reports (``distance_m`` on nearest results, coverage radii) is the
length of the shortest path on the WGS-84 ellipsoid, computed by GeographicLib's algorithm as
wrapped by :class:`pyproj.Geod` — vectorised C, accurate to ~15 nm. geopy's ``geodesic`` gives
the same numbers but is pure Python (~110 µs a pair here), haversine is up to 0.5 % off.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from pyproj import Geod

from geodata.errors import GeodataError

__all__ = ["WGS84_GEOD", "geodesic_m"]

#: The one shared geodesic calculator (immutable, safe to share between threads).
WGS84_GEOD = Geod(ellps="WGS84")


@functools.cache
def _point_metres() -> Any:
    """One pair's metres, as :data:`WGS84_GEOD` computes them but without releasing the GIL.

    A rider's tap measures one pair on the event loop's thread: ``Geod.inv`` lets the GIL go
    for that, and a busy thread (the confirmations' writer) may take it for much longer than
    the distance takes. The compiled calculator calls the same PROJ function with the same
    ellipsoid (see ``geodata._chordtree.PointGeodesic``); ``WGS84_GEOD.inv`` stays the
    reference it is tested against.
    """
    from geodata._chordtree import PointGeodesic
    from geodata.spatial_index import _proj_geodesic

    inverse, init = _proj_geodesic()
    return PointGeodesic(float(WGS84_GEOD.a), float(WGS84_GEOD.f), inverse, init).metres


def _checked(values: ArrayLike, field: str, limit: float) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    bad = ~np.isfinite(arr) | (np.abs(arr) > limit)
    if bad.any():
        first = arr.flat[int(np.flatnonzero(bad.ravel())[0])]
        raise GeodataError.from_catalog(
            field,
            "{what} must be a finite number within ±{limit} degrees, got {given}",
            what=field,
            limit=f"{limit:g}",
            given=repr(float(first)),
        )
    return arr


def geodesic_m(lon1: ArrayLike, lat1: ArrayLike, lon2: ArrayLike, lat2: ArrayLike) -> Any:
    """Geodesic distance in metres between WGS-84 points, vectorised.

    Parameters
    ----------
    lon1, lat1, lon2, lat2 : float or array_like
        Degrees. The four inputs are broadcast together, so one point can be measured
        against arrays of points (``geodesic_m(lon, lat, lons, lats)``) without a loop.

    Returns
    -------
    float or numpy.ndarray
        A float when every input is a scalar, otherwise a float64 array of the broadcast
        shape.

    Raises
    ------
    GeodataError
        A coordinate is not finite, a latitude is outside ±90 or a longitude outside ±540
        (GeographicLib's range, so converted points a hair past ±180 still measure;
        ``field`` names it), or the shapes do not broadcast.
    """
    if (
        type(lon1) is float
        and type(lat1) is float
        and type(lon2) is float
        and type(lat2) is float
        and abs(lon1) <= 540.0
        and abs(lat1) <= 90.0
        and abs(lon2) <= 540.0
        and abs(lat2) <= 90.0
    ):  # one pair of plain floats (a tap at a door): no arrays (NaN fails the comparisons)
        return _point_metres()(lon1, lat1, lon2, lat2)
    arrays = [
        _checked(lon1, "lon1", 540.0),
        _checked(lat1, "lat1", 90.0),
        _checked(lon2, "lon2", 540.0),
        _checked(lat2, "lat2", 90.0),
    ]
    try:
        shape = np.broadcast_shapes(*(a.shape for a in arrays))
    except ValueError as exc:
        raise GeodataError(
            "coordinate arrays do not broadcast: " + ", ".join(str(a.shape) for a in arrays),
            field="lon1",
        ) from exc
    if shape == ():
        lon_a, lat_a, lon_b, lat_b = (float(a) for a in arrays)
        return float(WGS84_GEOD.inv(lon_a, lat_a, lon_b, lat_b)[2])
    # Fresh C-ordered copies: pyproj then computes in place, never touching the caller's data.
    flat = [
        np.array(np.broadcast_to(a, shape), dtype=np.float64, order="C").ravel() for a in arrays
    ]
    dist = WGS84_GEOD.inv(
        flat[0], flat[1], flat[2], flat[3], inplace=True, return_back_azimuth=False
    )[2]
    return np.asarray(dist, dtype=np.float64).reshape(shape)
