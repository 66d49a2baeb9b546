"""The station map: every station on one layer clustered in the browser, popups in Chinese.

10,000 folium ``Marker`` objects take over 30 s to build (folium #1814); here the stations
travel as compact rows in one JSON block and ``maps/static/map/stations.js`` makes the markers
and clusters them (Leaflet.markercluster), so building the page costs one vectorised pass
over the stations and the browser stays smooth at 10,000.

What a page carries
-------------------
* Marker rows ``[id, x, y, state, amenity_bits, name]`` (``station_rows``), coordinates in
  the basemap's CRS: enough to draw, colour, filter and title every marker. About 18 bytes
  of gzip a station, against ~110 for the full feature with its navigation links (three
  percent-encoded URLs, most of the weight): for 10,000 stations the HTML went from 14 MB
  raw / 1.1 MB gzip and ~1.7 s of server time to 0.8 MB / 0.19 MB and ~60 ms, and the
  first marker from 2.3 s to 0.75 s (``bench/map_bench.py``).
* The popup's details (host, address, hours, open-now, phone, notes, AMap/Baidu/Tencent
  links) are fetched when a marker is clicked, from ``GET /api/v1/stations/{id}`` — the one
  GeoJSON formatter (``stations.features``) and the one source of navigation links
  (``stations.navigation``, each app in its own CRS), evaluated at the page's instant so the
  badge agrees with the marker colour.
* A self-contained file (``inline=True``, ``stations map -o``) has no server to ask, so it
  also inlines every station's popup details (``station_details``); it is heavier, and opens
  from ``file://`` with the network off.

Networks larger than ``STATIONS_MAP_INLINE_MAX`` (a city or the country)
-------------------------------------------------------------------------
``station_tiles_map`` draws the same page without a single station in it: the markers of
the view come from the vector tiles (``/api/v1/tiles/stations``, in the basemap's CRS, each
station with its open-now state), clustered by the server below its cluster zoom, and the
chips become the tiles' filter. Popups are fetched on click exactly as above. The page's
weight is then the same for 6,000 stations as for 200,000. Smaller networks stay inlined:
one request draws them all, the chips filter in the browser at once and the count is
exact, which the 98-station district page keeps.

The page offers amenity chips (a station must have every checked amenity, as in the API), an
"open now" chip, locate-me, fullscreen, a legend and the layer control.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from branca.element import Figure

from geodata.crs import from_wgs84
from maps.basemaps import Basemap, available_basemaps, same_crs
from maps.folium_page import (
    JsonBlock,
    ScriptLayer,
    base_page,
    basemap_links,
    finish_page,
)
from maps.tile_page import leaflet_bounds
from stations.errors import FieldError, ValidationFailed
from stations.features import feature
from stations.search import Hit, ListQuery, StationCatalog, StationFilter
from stations.vocabulary import AMENITIES, ENTRY_METHODS, HOST_TYPES, STATUSES

__all__ = [
    "DETAILS_URL",
    "STATE_STYLES",
    "TileSummary",
    "amenity_mask",
    "catalog_hits",
    "station_details",
    "station_map",
    "station_map_html",
    "station_rows",
    "station_state",
    "station_tiles_map",
    "tile_summary",
]

#: Marker state → (colour, legend label). One table for markers and legend; a row's state is
#: the index of its key in this table.
STATE_STYLES: dict[str, tuple[str, str]] = {
    "open": ("#2e7d32", "开放中 open now"),
    "shut": ("#8d8d8d", "休息中（不在开放时间）outside opening hours"),
    "unknown": ("#1e88e5", "时间未知 hours unknown"),
    "paused": ("#f9a825", "暂停开放 temporarily closed"),
    "retired": ("#c62828", "已停用 closed for good"),
}
_STATE_INDEX = {state: i for i, state in enumerate(STATE_STYLES)}
_AMENITY_BIT = {code: 1 << i for i, code in enumerate(AMENITIES)}

#: Where a served page fetches one station's popup details (``{id}`` appended).
DETAILS_URL = "/api/v1/stations/"
#: Where a tiled page fetches its tiles (``{z}/{x}/{y}.mvt`` appended).
TILES_URL = "/api/v1/tiles/stations/"

# What a popup shows; the other contract properties stay out of the offline file.
_POPUP_KEYS = (
    "id",
    "external_id",
    "name",
    "address",
    "host_type",
    "host_org",
    "amenities",
    "opening_hours",
    "opening_hours_text",
    "open_now",
    "status",
    "phone",
    "notes",
    "navigation",
)
_DECIMALS = 6  # ~10 cm: plenty for a marker, and 2 bytes a coordinate less than 7


def station_state(status: str, open_now: bool | None) -> str:
    """The marker state: status first (paused / retired), then open now (open / shut / unknown)."""
    if status == "temporarily_closed":
        return "paused"
    if status == "closed":
        return "retired"
    return {True: "open", False: "shut", None: "unknown"}[open_now]


def amenity_mask(codes: Iterable[str]) -> int:
    """Amenity codes as one integer: bit ``i`` is the ``i``-th code of ``AMENITIES``.

    The page filters 10,000 markers by ``(bits & wanted) == wanted`` instead of comparing
    lists, and a row carries one small number instead of a list of code strings.
    """
    bits = 0
    for code in codes:
        bits |= _AMENITY_BIT[code]
    return bits


def catalog_hits(
    catalog: StationCatalog, *, at: datetime | None = None, flt: StationFilter | None = None
) -> list[Hit]:
    """Every station of the catalog passing ``flt``, with open-now evaluated at ``at``."""
    hits, _ = catalog.search(
        ListQuery(filter=flt or StationFilter(), at=at, limit=max(len(catalog), 1))
    )
    return hits


def station_rows(hits: Sequence[Hit], crs: str) -> list[list[Any]]:
    """Compact marker rows ``[id, x, y, state, amenity_bits, name]`` in ``crs``.

    Parameters
    ----------
    hits
        Stations with their open-now state.
    crs
        The page's CRS; coordinates are converted in one vectorised call and rounded to
        6 decimals (~10 cm).

    Returns
    -------
    list of list
        ``state`` is the index of the marker state in ``STATE_STYLES``; ``amenity_bits`` is
        ``amenity_mask(station.amenities)``.
    """
    if not hits:
        return []
    lon = np.fromiter((h.station.data.lon for h in hits), float, len(hits))
    lat = np.fromiter((h.station.data.lat for h in hits), float, len(hits))
    x, y = from_wgs84(lon, lat, crs)
    xs = np.round(np.atleast_1d(np.asarray(x, float)), _DECIMALS).tolist()
    ys = np.round(np.atleast_1d(np.asarray(y, float)), _DECIMALS).tolist()
    rows = []
    for h, xi, yi in zip(hits, xs, ys, strict=True):
        d = h.station.data
        rows.append(
            [
                h.station.id,
                xi,
                yi,
                _STATE_INDEX[station_state(d.status, h.open_now)],
                amenity_mask(d.amenities),
                d.name,
            ]
        )
    return rows


def station_details(hits: Sequence[Hit]) -> dict[str, dict[str, Any]]:
    """Every station's popup properties by id (as a string), navigation links included.

    For the self-contained file only: it has no server to ask. The properties are those of
    ``GET /api/v1/stations/{id}`` (the same formatter), limited to what a popup shows.
    """
    out = {}
    for hit in hits:
        props = feature(hit, "wgs84", navigation=True)["properties"]
        out[str(hit.station.id)] = {k: props.get(k) for k in _POPUP_KEYS}
    return out


def _bounds(rows: Sequence[Sequence[Any]]) -> list[list[float]] | None:
    """Leaflet bounds ``[[south, west], [north, east]]`` of the rows, None if there are none."""
    if not rows:
        return None
    xs = [r[1] for r in rows]
    ys = [r[2] for r in rows]
    return [[min(ys), min(xs)], [max(ys), max(xs)]]


def _legend(
    rows: Sequence[Sequence[Any]], basemap: Basemap, at: datetime, tz: str
) -> dict[str, Any]:
    return _legend_of(Counter(r[3] for r in rows), len(rows), basemap, at, tz)


def _legend_of(
    counts: Counter[int] | dict[int, int], total: int, basemap: Basemap, at: datetime, tz: str
) -> dict[str, Any]:
    """The legend for ``counts`` of stations by state index (``STATE_STYLES`` order)."""
    items = [
        {
            "color": color,
            "label": f"{label}（{counts.get(_STATE_INDEX[state], 0)}）",
            "shape": "dot",
        }
        for state, (color, label) in STATE_STYLES.items()
    ]
    crs = "GCJ-02" if basemap.crs == "gcj02" else "WGS-84"
    local = at.astimezone(ZoneInfo(tz))
    return {
        "title": f"驿站 Stations（{total}）",
        "items": items,
        "notes": [
            f"开放状态按 {local:%Y-%m-%d %H:%M} ({tz}) 计算",
            f"坐标 {crs}；点击标记查看详情与导航",
        ],
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
    details_url: str = DETAILS_URL,
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
        When open-now was evaluated (shown in the legend, and the instant the popups ask
        for) and in which time zone.
    inline
        Inline every asset and every station's popup details: a self-contained file that
        opens offline (``stations map -o``). Such a file has no links to other basemap pages.
    details_url
        Where a served page fetches a station's details (the station's id is appended).
    """
    at = _page_instant(at, tz, amenities)
    rows = station_rows(hits, basemap.crs)
    figure, m = base_page(
        same_crs(basemap, tianditu_key),
        title=title,
        assets=["app/common/words.js", "app/map/stations.js"],
        inline=inline,
    )
    config = {
        **_page_vocabulary(basemap, amenities, open_now),
        "row_states": list(STATE_STYLES),
        "legend": _legend(rows, basemap, at, tz),
        "basemap_links": [] if inline else basemap_links(basemap, available_basemaps(tianditu_key)),
        "bounds": _bounds(rows),
        "details": None
        if inline
        else {"url": details_url, "crs": basemap.crs, "at": at.isoformat()},
    }
    options = {"config": "ws-config", "data": "ws-stations"}
    m.add_child(JsonBlock("ws-config", config))
    m.add_child(JsonBlock("ws-stations", rows))
    if inline:
        m.add_child(JsonBlock("ws-details", station_details(hits)))
        options["details"] = "ws-details"
    m.add_child(ScriptLayer("WarmMap.stationLayer", options, name="暖心驿站 Stations"))
    finish_page(m)
    return figure


@dataclass(frozen=True)
class TileSummary:
    """What a tiled page says about all its stations without carrying them."""

    total: int
    counts: dict[int, int]  # by state index (``STATE_STYLES`` order)
    bounds: list[list[float]] | None  # Leaflet bounds in the page's CRS


def tile_summary(
    lon: np.ndarray,
    lat: np.ndarray,
    status: np.ndarray,
    open_state: np.ndarray,
    keep: np.ndarray | None,
    crs: str,
) -> TileSummary:
    """Counts by marker state and the bounds of the stations in ``keep``, vectorised.

    ``status`` holds status codes, ``open_state`` 1 open, 0 closed, -1 unknown per station
    (as in the tiles), ``keep`` a boolean mask (None: every station).
    """
    if keep is not None:
        lon, lat, status, open_state = lon[keep], lat[keep], status[keep], open_state[keep]
    index = _STATE_INDEX
    state = np.where(
        open_state == 1, index["open"], np.where(open_state == 0, index["shut"], index["unknown"])
    )
    state = np.where(status == "temporarily_closed", index["paused"], state)
    state = np.where(status == "closed", index["retired"], state)
    found = np.bincount(state.astype(np.int64), minlength=len(STATE_STYLES))
    counts = {i: int(c) for i, c in enumerate(found.tolist())}
    return TileSummary(int(lon.size), counts, leaflet_bounds(lon, lat, None, crs))


def station_tiles_map(
    summary: TileSummary,
    basemap: Basemap,
    *,
    tile_query: Sequence[tuple[str, str]] = (),
    tianditu_key: str | None = None,
    amenities: Iterable[str] = (),
    open_now: bool = False,
    at: datetime | None = None,
    tz: str = "Asia/Shanghai",
    details_url: str = DETAILS_URL,
    tiles_url: str = TILES_URL,
    title: str = "暖心驿站地图 Warm Stations",
) -> Figure:
    """The station map for a network too large to inline: markers from the vector tiles.

    Parameters
    ----------
    summary
        Counts and bounds of the stations (``tile_summary``); nothing per station.
    tile_query
        Query parameters every tile request carries besides the chips (the CRS, and the
        ``status``/``host_type`` filters that leave stations out of the page).
    amenities, open_now, at, tz, details_url
        As for :func:`station_map`.
    """
    at = _page_instant(at, tz, amenities)
    figure, m = base_page(
        same_crs(basemap, tianditu_key),
        title=title,
        assets=["app/common/tiles.js", "app/common/words.js", "app/map/stations.js"],
    )
    config = {
        **_page_vocabulary(basemap, amenities, open_now),
        "legend": _legend_of(summary.counts, summary.total, basemap, at, tz),
        "basemap_links": basemap_links(basemap, available_basemaps(tianditu_key)),
        "bounds": summary.bounds,
        "details": {"url": details_url, "crs": basemap.crs, "at": at.isoformat()},
        "tiles": {
            "url": tiles_url,
            "query": [["crs", basemap.crs], *[[k, v] for k, v in tile_query]],
            "total": summary.total,
            "present": (1 << len(AMENITIES)) - 1,  # every chip: a network this size has all
        },
    }
    m.add_child(JsonBlock("ws-config", config))
    m.add_child(
        ScriptLayer("WarmMap.stationTiles", {"config": "ws-config"}, name="暖心驿站 Stations")
    )
    finish_page(m)
    return figure


def _page_instant(at: datetime | None, tz: str, amenities: Iterable[str]) -> datetime:
    """The aware instant a page evaluates open-now at (a naive ``at`` is in ``tz``), after
    checking the preset chips, as both station pages do before drawing anything."""
    at = at or datetime.now().astimezone()
    if at.tzinfo is None:
        at = at.replace(tzinfo=ZoneInfo(tz))
    _check_amenities(amenities)
    return at


def _page_vocabulary(basemap: Basemap, amenities: Iterable[str], open_now: bool) -> dict[str, Any]:
    """The part of a station page's config the inline and the tiled page share: the CRS,
    the vocabularies the chips and popups label with, the marker states and the preset."""
    return {
        "crs": basemap.crs,
        "amenities": dict(AMENITIES),
        "host_types": dict(HOST_TYPES),
        "statuses": dict(STATUSES),
        "entries": dict(ENTRY_METHODS),
        "states": {k: {"color": c, "label": lab} for k, (c, lab) in STATE_STYLES.items()},
        "amenity_bits": list(AMENITIES),
        "preset": {"amenities": list(dict.fromkeys(amenities)), "open_now": open_now},
    }


def _check_amenities(amenities: Iterable[str]) -> None:
    unknown = [a for a in amenities if a not in AMENITIES]
    if unknown:
        raise ValidationFailed(
            [
                FieldError("amenity", f"unknown amenity code; valid: {', '.join(AMENITIES)}", a)
                for a in unknown
            ]
        )


def station_map_html(hits: Sequence[Hit], basemap: Basemap, **options: Any) -> str:
    """``station_map(...)`` rendered to one HTML string."""
    return station_map(hits, basemap, **options).render()
