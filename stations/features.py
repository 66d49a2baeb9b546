"""Stations as GeoJSON features, in the coordinate system the client asked for.

This is the single formatter: the HTTP routes, the OGC endpoint, the CLI and the maps all call
it, so a property is named and converted in one place.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np

from geodata.crs import from_wgs84
from stations.model import Station
from stations.navigation import navigation_links_many
from stations.search import Hit

__all__ = ["feature", "feature_collection", "features", "station_properties"]


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
    """One station as a GeoJSON Feature in ``crs``."""
    return features([hit], crs, navigation=navigation)[0]


def features(hits: Sequence[Hit], crs: str = "wgs84", *,
             navigation: bool = False) -> list[dict[str, Any]]:
    """Stations as GeoJSON Features; coordinates and links converted in one vectorised step."""
    if not hits:
        return []
    lon = np.fromiter((h.station.data.lon for h in hits), float, len(hits))
    lat = np.fromiter((h.station.data.lat for h in hits), float, len(hits))
    x, y = (lon, lat) if crs == "wgs84" else from_wgs84(lon, lat, crs)
    links = _links(hits) if navigation else None
    out = []
    for i, hit in enumerate(hits):
        props = station_properties(hit.station, hit.open_now)
        if hit.distance_m is not None:
            props["distance_m"] = round(hit.distance_m, 2)
        if links is not None:
            props["navigation"] = links[i]
        out.append({
            "type": "Feature",
            "id": hit.station.id,
            "geometry": {"type": "Point",
                         "coordinates": [round(float(x[i]), 7), round(float(y[i]), 7)]},
            "properties": props,
        })
    return out


# Navigation links depend only on a station's point, name and address: keep recent ones, since
# riders in one city keep asking about the same few hundred stations. (Keyed by those inputs,
# not by id and version, which two stores — the demo and a real one — may share.)
_LINKS: OrderedDict[tuple[float, float, str, str], dict[str, str]] = OrderedDict()
_LINKS_MAX = 20_000
_LINKS_LOCK = threading.Lock()


def _links(hits: Sequence[Hit]) -> list[dict[str, str]]:
    keys = [(h.station.data.lon, h.station.data.lat, h.station.data.name,
             h.station.data.address) for h in hits]
    with _LINKS_LOCK:
        found = [_LINKS.get(k) for k in keys]
    missing = [i for i, f in enumerate(found) if f is None]
    if missing:
        made = navigation_links_many(
            [hits[i].station.data.lon for i in missing],
            [hits[i].station.data.lat for i in missing],
            [hits[i].station.data.name for i in missing],
            [hits[i].station.data.address for i in missing])
        with _LINKS_LOCK:
            for i, links in zip(missing, made, strict=True):
                found[i] = _LINKS[keys[i]] = links
            while len(_LINKS) > _LINKS_MAX:
                _LINKS.popitem(last=False)
    return [f for f in found if f is not None]


def feature_collection(hits: Sequence[Hit], crs: str = "wgs84", *, navigation: bool = False,
                       **members: Any) -> dict[str, Any]:
    """A FeatureCollection; ``members`` adds top-level members (links, numberMatched…)."""
    out: dict[str, Any] = {"type": "FeatureCollection",
                           "features": features(hits, crs, navigation=navigation)}
    out.update(members)
    return out
