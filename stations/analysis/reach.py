"""One station's reach as a GeoJSON feature: the isochrone on streets, or the circle.

Why here and not in the route: the API and the maps draw the same polygon, and whether a
network is configured decides which one it is; the feature says which in ``reach.kind``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Polygon, mapping
from shapely.geometry.base import BaseGeometry

from geodata.crs import from_wgs84
from geodata.distance import WGS84_GEOD
from geodata.reach import SPEEDS_KMH, minutes_to_metres
from stations.model import Station

__all__ = ["geodesic_circle", "station_reach"]


def geodesic_circle(lon: float, lat: float, radius_m: float, n: int = 96) -> Polygon:
    """The geodesic circle (WGS-84 ellipsoid) of ``radius_m`` around a point, as a polygon."""
    az = np.linspace(0.0, 360.0, n, endpoint=False)
    lo, la, _ = WGS84_GEOD.fwd(np.full(n, lon), np.full(n, lat), az, np.full(n, radius_m))
    return Polygon(np.column_stack([lo, la]))


def _in_crs(geom: BaseGeometry, crs: str) -> BaseGeometry:
    if crs == "wgs84" or geom.is_empty:
        return geom

    def move(xy: np.ndarray) -> np.ndarray:
        x, y = from_wgs84(xy[:, 0], xy[:, 1], crs)
        return np.column_stack([x, y])

    return shapely.transform(geom, move)


def station_reach(
    station: Station,
    minutes: float,
    mode: str = "walk",
    network_file: str | Path | None = None,
    crs: str = "wgs84",
) -> dict[str, Any]:
    """What is within ``minutes`` of ``station`` by ``mode``, as a GeoJSON Feature in ``crs``.

    With ``network_file`` the polygon is the street isochrone (reached streets widened by
    50 m) and the properties give the station's distance to the nearest street, with a
    warning past 300 m; without it, the straight-line circle of minutes × speed.
    """
    lon, lat = float(station.data.lon), float(station.data.lat)
    metres = minutes_to_metres(minutes, mode)
    props: dict[str, Any] = {
        "station_id": station.id,
        "name": station.data.name,
        "minutes": float(minutes),
        "mode": mode,
        "speed_kmh": SPEEDS_KMH[mode],
        "distance_m": metres,
        "crs": crs,
    }
    if network_file is None:
        geom: BaseGeometry = geodesic_circle(lon, lat, metres)
        props["reach"] = {"kind": "straight_line", "radius_m": metres}
    else:
        from geodata.network import load_network, network_reach
        from geodata.network.snap import SNAP_WARN_M
        from geodata.projection import from_metric

        net = load_network(network_file, mode)
        reach = network_reach(net, minutes)
        geom = from_metric(reach.isochrones([lon], [lat])[0], net.crs)
        snap = float(reach.snap([lon], [lat]).distance_m[0])
        props["reach"] = reach.describe()
        props["snap_m"] = round(snap, 1)
        if snap > SNAP_WARN_M:
            props["warning"] = (
                f"驿站距最近道路 {snap:.0f} m，超过 {SNAP_WARN_M:.0f} m：请核对位置或路网文件 "
                f"(station is {snap:.0f} m from the nearest street)"
            )
    return {
        "type": "Feature",
        "geometry": None if geom.is_empty else mapping(_in_crs(geom, crs)),
        "properties": props,
    }
