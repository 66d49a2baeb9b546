"""Stations as GeoJSON features, in the coordinate system the client asked for.

This is the single formatter: the HTTP routes, the OGC endpoint, the CLI and the maps all call
it, so a property is named and converted in one place.
"""

from __future__ import annotations

from typing import Any

from geodata.crs import from_wgs84
from stations.model import Station
from stations.navigation import navigation_links
from stations.search import Hit

__all__ = ["feature", "feature_collection", "station_properties"]


def station_properties(station: Station, open_now: bool | None) -> dict[str, Any]:
    """The contract's feature properties (DESIGN.md), without geometry."""
    d = station.data
    return {
        "id": station.id,
        "external_id": d.external_id,
        "name": d.name,
        "address": d.address,
        "district": d.district,
        "host_type": d.host_type,
        "host_org": d.host_org,
        "amenities": list(d.amenities),
        "opening_hours": d.opening_hours,
        "open_now": open_now,
        "status": d.status,
        "phone": d.phone,
        "notes": d.notes,
        "geocoded": d.geocoded,
        "updated_at": station.updated_at.isoformat(),
        "version": station.version,
    }


def feature(hit: Hit, crs: str = "wgs84", *, navigation: bool = False) -> dict[str, Any]:
    s = hit.station
    lon, lat = from_wgs84(s.data.lon, s.data.lat, crs)
    props = station_properties(s, hit.open_now)
    if hit.distance_m is not None:
        props["distance_m"] = round(hit.distance_m, 2)
    if navigation:
        props["navigation"] = navigation_links(s.data.lon, s.data.lat, s.data.name,
                                               s.data.address)
    return {
        "type": "Feature",
        "id": s.id,
        "geometry": {"type": "Point", "coordinates": [round(lon, 7), round(lat, 7)]},
        "properties": props,
    }


def feature_collection(hits: list[Hit], crs: str = "wgs84", *, navigation: bool = False,
                       **members: Any) -> dict[str, Any]:
    """A FeatureCollection; ``members`` adds top-level members (links, numberMatched…)."""
    out: dict[str, Any] = {"type": "FeatureCollection",
                           "features": [feature(h, crs, navigation=navigation) for h in hits]}
    out.update(members)
    return out
