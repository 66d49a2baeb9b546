"""Write bodies → the raw field changes the store validates (flat JSON or a GeoJSON Feature),
and history rows → their API shape.

The contract (DESIGN.md) takes write bodies as flat JSON objects of the feature properties
with ``lon``/``lat``, or as a GeoJSON Feature; coordinates arrive in the request's ``crs`` and
are stored in WGS-84. This module owns that translation so the routes stay thin.
"""

from __future__ import annotations

from typing import Any

from api.http.params import parse_model
from api.rest.schemas import (
    StationCreate,
    StationFeatureCreate,
    StationFeatureUpdate,
    StationUpdate,
)
from geodata.crs import to_wgs84
from stations.errors import FieldError, StationsError, ValidationFailed
from stations.model import EDITABLE_FIELDS
from stations.store.base import HistoryEntry

__all__ = ["READ_ONLY", "history_entry", "parse_if_match", "station_input", "take_org"]

#: Properties a fetched feature carries that a write ignores.
READ_ONLY = (
    "id",
    "version",
    "created_at",
    "updated_at",
    "verified_at",
    "freshness",
    "open_now",
    "distance_m",
    "navigation",
    "photos",
    "last_confirmed_open_at",
    "last_confirmed_closed_at",
    "confidence",
    "confidence_reasons",
)


def station_input(raw: Any, *, crs: str, partial: bool) -> tuple[dict[str, Any], int | None]:
    """Parse a write body into ``(changes, version)``.

    Parameters
    ----------
    raw : Any
        The decoded JSON body.
    crs : str
        The coordinate system of the body's ``lon``/``lat`` (converted to WGS-84 here).
    partial : bool
        ``PATCH``: every field optional, only those named change. Otherwise the whole record.

    Returns
    -------
    changes : dict
        Field → value in WGS-84, for ``validate_station`` / ``StationStore.update``.
    version : int or None
        The ``version`` property when the client sent back what it read.
    """
    if isinstance(raw, dict) and raw.get("type") == "Feature":
        feature: StationFeatureCreate | StationFeatureUpdate = (
            parse_model(StationFeatureUpdate, raw)
            if partial
            else parse_model(StationFeatureCreate, raw)
        )
        changes = feature.properties.model_dump(exclude_unset=True)
        if feature.geometry is not None:
            changes["lon"], changes["lat"] = feature.geometry.coordinates[:2]
    else:
        flat = parse_model(StationUpdate, raw) if partial else parse_model(StationCreate, raw)
        changes = flat.model_dump(exclude_unset=True)
    version = changes.get("version")
    for key in READ_ONLY:
        changes.pop(key, None)
    if ("lon" in changes) != ("lat" in changes):
        raise ValidationFailed([FieldError.from_catalog("lon/lat", "give lon and lat together")])
    if "lon" in changes and crs != "wgs84":
        lon, lat = to_wgs84(changes["lon"], changes["lat"], crs)
        changes["lon"], changes["lat"] = float(lon), float(lat)
    return changes, version


def take_org(changes: dict[str, Any]) -> int | str | None:
    """Remove and return the body's ``org`` (where the station is to belong): it is not a
    field of the station record but an argument of the write."""
    value: int | str | None = changes.pop("org", None)
    return value


def parse_if_match(header: str | None) -> int | None:
    """The version in ``If-Match: "N"`` (or ``W/"N"``); None for no header or ``*``."""
    if header is None or header.strip() == "*":
        return None
    tag = header.strip()
    if tag.startswith("W/"):
        tag = tag[2:]
    tag = tag.strip('"')
    if not (tag.isascii() and tag.isdigit()) or len(tag) > 18:
        raise StationsError(f'If-Match must be one version ETag such as "3", not {header!r}')
    return int(tag)


def history_entry(entry: HistoryEntry) -> dict[str, Any]:
    """One history row for the API: the records before/after and which fields changed."""
    before, after = entry.before or {}, entry.after or {}
    changed = [k for k in EDITABLE_FIELDS if before.get(k) != after.get(k)] if entry.before else []
    return {
        "version": entry.version,
        "action": entry.action,
        "actor": entry.actor,
        "at": entry.at.isoformat(),
        "changed": changed,
        "before": entry.before,
        "after": entry.after,
    }
