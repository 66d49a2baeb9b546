"""Stations as GeoJSON features, in the coordinate system the client asked for.

This is the single formatter: the HTTP routes, the OGC endpoint, the CLI and the maps all call
it, so a property is named and converted in one place. The nearest route's cached bytes
(:mod:`stations.nearest`) are cut from these same dicts, so both agree byte for byte.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from geodata.crs import from_wgs84
from stations.hours import hours_zh
from stations.model import Station
from stations.navigation import AppCoords, links_at, navigation_links_many
from stations.photos.urls import photo_urls
from stations.trust.board import TrustBoard, default_properties, trust_properties
from stations.trust.recheck import freshness

if TYPE_CHECKING:
    from stations.search import Hit

__all__ = [
    "feature",
    "feature_collection",
    "features",
    "json_bytes",
    "station_properties",
]


# One encoder, made once: ``json.dumps`` with options builds a new one per call (~2 µs).
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def json_bytes(content: Any) -> bytes:
    """Compact UTF-8 JSON, as every GeoJSON answer is written (Chinese stays readable)."""
    return _ENCODER.encode(content).encode("utf-8")


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
        "opening_hours_text": hours_zh(d.opening_hours, d.opening_hours_text),
        "open_now": open_now,
        "status": d.status,
        "phone": d.phone,
        "notes": d.notes,
        "geocoded": d.geocoded,
        "entry": d.entry or None,
        "no_smartphone_ok": d.no_smartphone_ok,
        "photos": [photo_urls(digest) for digest in d.photos],
        "updated_at": station.updated_at.isoformat(),
        "version": station.version,
        "verified_at": None if station.verified_at is None else station.verified_at.isoformat(),
        # Of the moment this is rendered; cached bytes live as long as their station object,
        # and the catalog replaces the objects whose state turned (StationCatalog.refresh),
        # so they follow within the hour.
        "freshness": freshness(station.verified_at, datetime.now(UTC)),
    }


def feature(
    hit: Hit, crs: str = "wgs84", *, navigation: bool = False, trust: TrustBoard | None = None
) -> dict[str, Any]:
    """One station as a GeoJSON Feature in ``crs``."""
    return features([hit], crs, navigation=navigation, trust=trust)[0]


def features(
    hits: Sequence[Hit],
    crs: str = "wgs84",
    *,
    navigation: bool = False,
    trust: TrustBoard | None = None,
    _marked: bool = False,
    _coords: Sequence[AppCoords] | None = None,
) -> list[dict[str, Any]]:
    """Stations as GeoJSON Features; coordinates and links converted in one vectorised step.

    ``trust`` supplies the rider-evidence properties (:mod:`stations.trust`), written last;
    without it they say what the schedule alone says. (``_marked``: the hits carry
    placeholders instead of values, see :mod:`stations.nearest.fragments`; ``_coords``: the
    hits' app points, already converted, see :func:`stations.navigation.navigation_coords`.)
    """
    if not hits:
        return []
    lon = np.fromiter((h.station.data.lon for h in hits), float, len(hits))
    lat = np.fromiter((h.station.data.lat for h in hits), float, len(hits))
    x, y = (lon, lat) if crs == "wgs84" else from_wgs84(lon, lat, crs)
    links = _links(hits, _coords) if navigation else None
    now = time.time()
    out = []
    for i, hit in enumerate(hits):
        props = station_properties(hit.station, hit.open_now)
        if hit.distance_m is not None:
            props["distance_m"] = hit.distance_m if _marked else round(hit.distance_m, 2)
        if links is not None:
            props["navigation"] = links[i]
        if _marked:  # cached fragments hold the defaults; TrustBoard.members replaces them
            props.update(default_properties(hit.station))
        else:
            props.update(trust_properties(hit.station, hit.open_now, trust, now))
        out.append(
            {
                "type": "Feature",
                "id": hit.station.id,
                "geometry": {
                    "type": "Point",
                    "coordinates": [round(float(x[i]), 7), round(float(y[i]), 7)],
                },
                "properties": props,
            }
        )
    return out


def _links(hits: Sequence[Hit], coords: Sequence[AppCoords] | None) -> list[dict[str, str]]:
    d = [h.station.data for h in hits]
    if coords is not None:
        return links_at(coords, [x.name for x in d], [x.address for x in d])
    return navigation_links_many(
        [x.lon for x in d], [x.lat for x in d], [x.name for x in d], [x.address for x in d]
    )


def feature_collection(
    hits: Sequence[Hit],
    crs: str = "wgs84",
    *,
    navigation: bool = False,
    trust: TrustBoard | None = None,
    **members: Any,
) -> dict[str, Any]:
    """A FeatureCollection; ``members`` adds top-level members (links, numberMatched…)."""
    out: dict[str, Any] = {
        "type": "FeatureCollection",
        "features": features(hits, crs, navigation=navigation, trust=trust),
    }
    out.update(members)
    return out
