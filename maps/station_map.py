"""The station map: every station on one layer clustered in the browser, popups in Chinese.

10,000 folium ``Marker`` objects take over 30 s to build (folium #1814); here the stations
travel as one GeoJSON FeatureCollection in a JSON block and ``maps/static/map/stations.js``
makes the markers and clusters them (Leaflet.markercluster, chunked), so building the page
costs one pass over the stations and the browser stays smooth at 10,000.

The page offers amenity chips (a station must have every checked amenity, as in the API), an
"open now" chip, locate-me, fullscreen, a legend and the layer control. Popups are built from
``stations.features`` (the one GeoJSON formatter), navigation links from
``stations.navigation`` (each app in its own CRS).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from branca.element import Figure

from maps.basemaps import Basemap, available_basemaps, same_crs
from maps.folium_page import (
    JsonBlock,
    ScriptLayer,
    base_page,
    basemap_links,
    finish_page,
)
from maps.reproject import bounds_of, to_page_crs
from stations.errors import FieldError, ValidationFailed
from stations.features import feature
from stations.model import Station
from stations.search import Hit, ListQuery, StationCatalog, StationFilter
from stations.vocabulary import AMENITIES, HOST_TYPES, STATUSES

__all__ = ["STATE_STYLES", "catalog_hits", "station_features", "station_map",
           "station_map_html", "station_state"]

#: Marker state → (colour, legend label). One table for markers and legend.
STATE_STYLES: dict[str, tuple[str, str]] = {
    "open": ("#2e7d32", "开放中 open now"),
    "shut": ("#8d8d8d", "已关闭（不在开放时间）closed now"),
    "unknown": ("#1e88e5", "时间未知 hours unknown"),
    "paused": ("#f9a825", "暂停开放 temporarily closed"),
    "retired": ("#c62828", "已停用 closed for good"),
}

# What a popup shows; the other contract properties stay out of the page to keep it light.
_POPUP_KEYS = ("id", "external_id", "name", "address", "host_type", "host_org", "amenities",
               "opening_hours", "open_now", "status", "phone", "notes", "navigation")


def station_state(status: str, open_now: bool | None) -> str:
    """The marker state: status first (paused / retired), then open now (open / shut / unknown)."""
    if status == "temporarily_closed":
        return "paused"
    if status == "closed":
        return "retired"
    return {True: "open", False: "shut", None: "unknown"}[open_now]


def catalog_hits(catalog: StationCatalog, *, at: datetime | None = None,
                 flt: StationFilter | None = None) -> list[Hit]:
    """Every station of the catalog passing ``flt``, with open-now evaluated at ``at``."""
    hits, _ = catalog.search(ListQuery(filter=flt or StationFilter(), at=at,
                                       limit=max(len(catalog), 1)))
    return hits


@lru_cache(maxsize=16_384)  # ~10,000 stations and their recent edits
def _popup_feature(station: Station) -> dict[str, Any]:
    """A station's WGS-84 feature with the popup's properties (open-now left to the caller).

    Keyed by the station itself (id, data and version, all immutable): the navigation links
    are most of the cost of a 10,000-station page and change only when the station does.
    Callers must not modify the result.
    """
    f = feature(Hit(station, None, None), "wgs84", navigation=True)
    f["properties"] = {k: f["properties"].get(k) for k in _POPUP_KEYS}
    return f


def station_features(hits: Sequence[Hit], crs: str) -> dict[str, Any]:
    """The stations as a FeatureCollection in ``crs`` with only what the popups need."""
    features = []
    for hit in hits:
        cached = _popup_feature(hit.station)
        features.append({"type": "Feature", "id": cached["id"], "geometry": cached["geometry"],
                         "properties": {**cached["properties"], "open_now": hit.open_now}})
    # to_page_crs copies the geometries it converts, so the cached ones stay WGS-84.
    return to_page_crs({"type": "FeatureCollection", "features": features}, crs)


def _legend(hits: Sequence[Hit], basemap: Basemap, at: datetime, tz: str) -> dict[str, Any]:
    counts = Counter(station_state(h.station.data.status, h.open_now) for h in hits)
    items = [{"color": color, "label": f"{label}（{counts.get(state, 0)}）", "shape": "dot"}
             for state, (color, label) in STATE_STYLES.items()]
    crs = "GCJ-02" if basemap.crs == "gcj02" else "WGS-84"
    local = at.astimezone(ZoneInfo(tz))
    return {
        "title": f"驿站 Stations（{len(hits)}）",
        "items": items,
        "notes": [f"开放状态按 {local:%Y-%m-%d %H:%M} ({tz}) 计算",
                  f"坐标 {crs}；点击标记查看详情与导航"],
    }


def station_map(
    hits: Sequence[Hit],
    basemap: Basemap,
    *,
    tianditu_key: str | None = None,
    amenities: Iterable[str] = (),
    open_now: bool = False,
    at: datetime | None = None,
    tz: str = "Asia/Shanghai",
    inline: bool = False,
    title: str = "暖心驿站地图 Warm Stations",
) -> Figure:
    """Build the station map page for ``hits`` on ``basemap``.

    Parameters
    ----------
    hits
        Stations with their open-now state (``catalog_hits``); all are embedded, the chips
        only hide markers, so a user can widen a preset filter.
    basemap
        The page's basemap; every overlay is drawn in its CRS, the layer control offers the
        basemaps of the same CRS and a link leads to the pages of the others.
    amenities, open_now
        Chips checked when the page opens (``?amenity=hot_water&open_now=true``).
    at, tz
        When open-now was evaluated (shown in the legend) and in which time zone.
    inline
        Inline every asset: a self-contained file that opens offline (``stations map -o``).
        Such a file has no links to other basemap pages.
    """
    at = at or datetime.now().astimezone()
    unknown = [a for a in amenities if a not in AMENITIES]
    if unknown:
        raise ValidationFailed([FieldError("amenity", f"unknown amenity code; valid: "
                                           f"{', '.join(AMENITIES)}", a) for a in unknown])
    data = station_features(hits, basemap.crs)
    figure, m = base_page(same_crs(basemap, tianditu_key), title=title,
                          assets=["app/map/stations.js"], inline=inline)
    config = {
        "crs": basemap.crs,
        "amenities": dict(AMENITIES),
        "host_types": dict(HOST_TYPES),
        "statuses": dict(STATUSES),
        "states": {k: {"color": c, "label": lab} for k, (c, lab) in STATE_STYLES.items()},
        "preset": {"amenities": list(dict.fromkeys(amenities)), "open_now": open_now},
        "legend": _legend(hits, basemap, at, tz),
        "basemap_links": [] if inline else basemap_links(basemap,
                                                         available_basemaps(tianditu_key)),
        "bounds": bounds_of(data),
    }
    m.add_child(JsonBlock("ws-config", config))
    m.add_child(JsonBlock("ws-stations", data))
    m.add_child(ScriptLayer("WarmMap.stationLayer", {"config": "ws-config",
                                                     "data": "ws-stations"},
                            name="暖心驿站 Stations"))
    finish_page(m)
    return figure


def station_map_html(hits: Sequence[Hit], basemap: Basemap, **options: Any) -> str:
    """``station_map(...)`` rendered to one HTML string."""
    return station_map(hits, basemap, **options).render()
