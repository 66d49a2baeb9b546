"""What the console's station pages show: form values, the editor's map settings, history rows.

Kept apart from the routes so each route stays a few lines (parse, call, render) and so the
formatting — labels, empty values, coordinates — is decided in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from api.admin.render import ACTION_LABELS, FIELD_LABELS, local_time
from api.http.security_headers import content_security_policy
from api.settings import Settings
from maps.assets import asset_url
from maps.basemaps import choose_basemap
from stations.hours import hours_zh
from stations.model import EDITABLE_FIELDS, Station
from stations.photos.urls import photo_urls
from stations.search import StationCatalog
from stations.store.base import HistoryEntry
from stations.vocabulary import AMENITIES, ENTRY_METHODS, HOST_TYPES, STATUSES

__all__ = ["HistoryRow", "editor_config", "editor_policy", "history_rows", "station_form_values"]

#: Where the map of a new station opens when the store is empty: E-Town (亦庄), WGS-84.
DEFAULT_CENTER = (116.5068, 39.7954)
_EMPTY = "（空）"
#: The history's line for a staff check (or its undoing): when the station was last checked.
_CHECKED = "上次核查"
_NEVER = "从未"


def station_form_values(station: Station | None) -> dict[str, Any]:
    """The edit form's initial values (a new station: the model's defaults)."""
    if station is None:
        return {
            "name": "",
            "external_id": "",
            "address": "",
            "district": "",
            "host_type": "other",
            "host_org": "",
            "amenities": set(),
            "opening_hours": "",
            "phone": "",
            "status": "open",
            "notes": "",
            "entry": "",
            "no_smartphone_ok": "",
        }
    d = station.data
    return {
        "name": d.name,
        "external_id": d.external_id or "",
        "address": d.address,
        "district": d.district,
        "host_type": d.host_type,
        "host_org": d.host_org,
        "amenities": set(d.amenities),
        "opening_hours": hours_zh(d.opening_hours, d.opening_hours_text),
        "entry": d.entry,
        "no_smartphone_ok": "" if d.no_smartphone_ok is None else str(d.no_smartphone_ok).lower(),
        "phone": d.phone,
        "status": d.status,
        "notes": d.notes,
    }


def _center(catalog: StationCatalog) -> tuple[float, float]:
    lon, lat = catalog.points()
    if not lon.size:
        return DEFAULT_CENTER
    return float(np.median(lon)), float(np.median(lat))


def editor_config(
    station: Station | None, catalog: StationCatalog, settings: Settings
) -> dict[str, Any]:
    """The JSON the edit page's script reads: the point, the basemap, URLs.

    Coordinates are WGS-84 as stored; the script converts to GCJ-02 itself to show both and,
    on a GCJ-02 basemap (AMap), to draw the marker where the street is.
    """
    basemap = choose_basemap(None, settings.basemap, settings.tianditu_key)
    point = [station.data.lon, station.data.lat] if station is not None else None
    return {
        "id": station.id if station is not None else None,
        "version": station.version if station is not None else None,
        "deleted": bool(station.deleted) if station is not None else False,
        "geocoded": bool(station.data.geocoded) if station is not None else False,
        "point": point,
        "center": point or list(_center(catalog)),
        "zoom": 17 if point else 13,
        "tz": settings.timezone,
        "basemap": {
            "crs": basemap.crs,
            "layers": [
                {
                    "url": t.url,
                    "attribution": t.attribution,
                    "subdomains": t.subdomains,
                    "maxZoom": t.max_zoom,
                    "maxNativeZoom": t.max_native_zoom,
                }
                for t in basemap.layers
            ],
        },
        "icon": {
            "url": asset_url("leaflet/images/marker-icon.png"),
            "retina": asset_url("leaflet/images/marker-icon-2x.png"),
            "shadow": asset_url("leaflet/images/marker-shadow.png"),
        },
        "urls": {
            "api": "/api/v1/stations",
            "checkHours": "/admin/api/check-hours",
            "edit": "/admin/stations/",
            "list": "/admin",
        },
    }


def editor_policy(path: str, settings: Settings) -> str:
    """The service's CSP for ``path``, its ``img-src`` naming the basemap's tile hosts
    exactly (the service-wide list has wildcards that miss, e.g., ``tile.openstreetmap.org``)."""
    basemap = choose_basemap(None, settings.basemap, settings.tianditu_key)
    parts = []
    for part in content_security_policy(path, settings).split(";"):
        name, *values = part.split()
        if name == "img-src":
            values = ["'self'", "data:", *basemap.tile_origins()]
        parts.append(" ".join([name, *values]))
    return "; ".join(parts)


@dataclass(frozen=True)
class HistoryRow:
    """One version on the history page, with its changes spelled out for people."""

    version: int
    action: str
    action_label: str
    actor: str
    at: str
    changes: list[tuple[str, str, str]]
    can_restore: bool
    #: Thumbnails of the photos this version added (the ``photos`` change, as pictures).
    photos_added: tuple[str, ...] = ()


def _text(field: str, value: Any) -> str:
    if value is None or value == "" or value == []:
        return _EMPTY
    if field == "amenities":
        return "、".join(AMENITIES.get(c, str(c)) for c in value)
    if field == "host_type":
        return HOST_TYPES.get(value, str(value))
    if field == "status":
        return STATUSES.get(value, str(value))
    if field in ("lon", "lat") and isinstance(value, int | float):
        return f"{value:.6f}"
    if field in ("geocoded", "no_smartphone_ok"):
        return "是" if value else "否"
    if field == "entry":
        return ENTRY_METHODS.get(value, str(value))
    if field == "opening_hours":  # staff read hours in Chinese, as they typed them
        return hours_zh(str(value))
    return str(value)


def _photo_change(old: Any, new: Any) -> tuple[str, tuple[str, ...]]:
    """A ``photos`` change as people read it — "+1 / −1", or 顺序调整 when only the order
    moved — and the thumbnails of the photos added; never the 64-digit digests."""
    before, after = list(old or ()), list(new or ())
    added = [d for d in after if d not in before]
    removed = [d for d in before if d not in after]
    parts = ([f"+{len(added)}"] if added else []) + ([f"−{len(removed)}"] if removed else [])
    text = " / ".join(parts) if parts else "顺序调整"
    return text, tuple(photo_urls(d)["thumb"] for d in added)


def _changes(entry: HistoryEntry, tz: str) -> tuple[list[tuple[str, str, str]], tuple[str, ...]]:
    before, after = entry.before or {}, entry.after or {}
    out = []
    thumbs: tuple[str, ...] = ()
    for name in EDITABLE_FIELDS:
        old, new = before.get(name), after.get(name)
        if entry.before is None and (new is None or new == "" or new == [] or new is False):
            continue  # a new station: list what it was created with
        if entry.before is not None and old == new:
            continue
        if name == "photos":
            text, thumbs = _photo_change(old, new)
            out.append((FIELD_LABELS["photos"], "", text))
            continue
        out.append(
            (
                FIELD_LABELS.get(name, name),
                "" if entry.before is None else _text(name, old),
                _text(name, new),
            )
        )
    # A check (or its undoing) changes no field staff edit, only when it was last checked.
    if entry.before is not None and before.get("verified_at") != after.get("verified_at"):
        checked = [
            local_time(v, tz) if v else _NEVER
            for v in (before.get("verified_at"), after.get("verified_at"))
        ]
        out.append((_CHECKED, checked[0], checked[1]))
    return out, thumbs


def history_rows(entries: Sequence[HistoryEntry], station: Station, tz: str) -> list[HistoryRow]:
    """Newest first; every earlier version of a live station can be brought back."""
    rows = []
    for entry in sorted(entries, key=lambda e: e.version, reverse=True):
        restorable = (
            not station.deleted
            and entry.version != station.version
            and entry.after is not None
            and entry.action != "delete"
        )
        changes, thumbs = _changes(entry, tz)
        rows.append(
            HistoryRow(
                entry.version,
                entry.action,
                ACTION_LABELS.get(entry.action, entry.action),
                entry.actor,
                local_time(entry.at, tz),
                changes,
                restorable,
                thumbs,
            )
        )
    return rows
