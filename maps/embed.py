"""The mobile embed page (``/embed``): a light map and the nearest stations, for WeChat.

Riders open it on a phone inside WeChat, one-handed, on a weak signal, so it is built to be
small rather than clever: Leaflet (served by us) and 30 KB of hand-written JS and CSS (11 KB
gzip), no framework and nothing from another host but map tiles. The first load with the 98
E-Town stations is about 60 KB gzip against a budget of 80 (``bench/map_bench.py``).

How the stations reach the page
-------------------------------
* Up to ``INLINE_MAX`` stations, every marker is inlined in the HTML as a compact row
  ``[id, x, y, open, bits, name]`` (``bits``: the amenities, and one more bit for "usable
  without a smartphone", :func:`marker_bits`): the markers appear with the first paint (no
  second round trip, which costs most on a weak mobile link) and the chips filter them in the
  browser. For the 98 demo stations that is 2.4 KB gzip, against 6.3 KB for the same stations as
  GeoJSON from ``/api/v1/stations`` (measured in the benchmark).
* Above it (a city or a country), the page draws the stations in service from the vector
  tiles (``/api/v1/tiles/stations/{z}/{x}/{y}.mvt?status=open``, in the basemap's CRS, with
  the chips as the tiles' filter, read by ``static/common/tiles.js``): grid clusters below
  the tiles' cluster zoom, single stations with their open-now state above it, so the page
  weighs the same for 1,001 stations or 200,000, and a tile is the same for every rider in
  a minute (cached by the server). ``/embed/markers`` still answers one view as compact rows
  for other clients.
* The bottom list always comes from ``/api/v1/nearest`` (geodesic distance, open-now and the
  navigation links), for the rider's position or, before that is known, the map centre.

Coordinates: stored WGS-84; on the AMap basemap (GCJ-02) every coordinate the page receives
is GCJ-02 (``crs=gcj02``), so markers sit on the right street. The script converts the
rider's fix into the map's CRS itself with ``static/common/crs.js`` (the GCJ-02 formula of
``geodata.crs``, inverse iterated), the one copy the map pages and the staff editor load too.

Inside WeChat
-------------
When the service has an Official Account (app id and secret) the page, and only inside WeChat
(user agent ``MicroMessenger``), loads the vendored JS-SDK (``static/embed/jweixin-1.6.5.js``,
npm ``weixin-js-sdk`` 1.6.5, MIT, the official jweixin-1.6.0), signs ``wx.config`` through
``/api/v1/wechat/jssdk-config``, locates with ``wx.getLocation({type: 'gcj02'})`` and navigates
with ``wx.openLocation`` (GCJ-02 latitude/longitude as numbers, name, address, scale 16).
If the SDK does not become ready within 3 s (no bridge, a signature refused, the domain not
registered as a JS-SDK safe domain) it falls back to ``navigator.geolocation`` and the map-app
links. In a Mini Program ``<web-view>`` (``window.__wxjs_environment === 'miniprogram'``,
also checked after ``WeixinJSBridgeReady``) the page does the same: the web-view supports
``wx.getLocation``/``wx.openLocation`` once ``wx.config`` succeeds — signed for an Official
Account of the same subject (主体) as the Mini Program, with this domain registered both as the
OA's JS-SDK safe domain and the Mini Program's business domain (the check files of
``/{name}.txt``) — whereas ``wx.miniProgram.navigateTo`` would need a map page inside the
Mini Program, which this service does not own. Without an account, links to AMap/Baidu/Tencent remain, but a web-view
only opens its registered business domains, so editors embedding the page in a Mini Program
should configure the Official Account. The SDK's telemetry beacon (an image request to
``open.weixin.qq.com``) is refused by the page's Content-Security-Policy.

Everything user-supplied is escaped twice over: the HTML holds station data only inside a
JSON block with ``<``, ``>`` and ``&`` escaped, and the script builds the DOM with
``textContent``, never ``innerHTML``.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import numpy as np

from geodata.crs import from_wgs84
from maps.assets import asset_url
from maps.basemaps import Basemap
from stations.errors import NotFound
from stations.features import feature
from stations.model import StationData
from stations.search import Hit, ListQuery, StationCatalog, StationFilter
from stations.trust.board import TrustBoard
from stations.vocabulary import AMENITIES, ENTRY_METHODS

__all__ = [
    "BIT_CODES",
    "CHIP_ORDER",
    "EMBED_K",
    "INLINE_MAX",
    "VIEW_MAX_POINTS",
    "EmbedRequest",
    "amenity_bits",
    "content_security_policy",
    "embed_filter",
    "marker_bits",
    "markers_in_view",
    "render_embed_page",
]

#: How many nearest stations the bottom list shows.
EMBED_K = 10
#: Networks up to this size are inlined in the page; larger ones load by view.
INLINE_MAX = 1000
#: At most this many single markers per view answer; more become grid clusters.
VIEW_MAX_POINTS = 400
_CLUSTER_CELL_PX = 64
_DEFAULT_CENTER = (116.4074, 39.9042)  # Beijing, for an empty catalog

#: The chips riders see, most asked-for first (hot water, charging, toilet …).
CHIP_ORDER: tuple[str, ...] = (
    "hot_water",
    "charging",
    "toilet",
    "microwave",
    "drinking_water",
    "seating",
    "air_conditioning",
    "heating",
    "first_aid",
    "wifi",
    "umbrella",
    "repair_tools",
    "fridge",
    "reading",
)
# Shorter labels where the vocabulary's would crowd a chip on a 360 px screen.
_SHORT_LABELS = {"charging": "充电", "seating": "座椅", "wifi": "WiFi"}
#: The chip for stations one can get into without a smartphone (no code to scan): worded as
#: the card's 进门 line says it, since every rider carries a phone but not always a charged
#: one; after the amenities, as it is asked for less.
NO_SMARTPHONE_CHIP = ("no_smartphone_ok", "不用手机能进")
#: What each bit of a marker row's ``bits`` stands for: the amenities, then the flag.
BIT_CODES: tuple[str, ...] = (*AMENITIES, NO_SMARTPHONE_CHIP[0])
_BIT = {code: 1 << i for i, code in enumerate(BIT_CODES)}


@dataclass(frozen=True)
class EmbedRequest:
    """What an editor can preset through the page's query string (already validated)."""

    center: tuple[float, float] | None = None  # WGS-84 lon, lat
    zoom: int | None = None
    amenities: frozenset[str] = frozenset()
    open_now: bool = False
    no_smartphone_ok: bool = False
    station_id: int | None = None
    #: A Chinese notice shown on the page (e.g. a broken link's parameters were ignored).
    notice: str | None = None


def embed_filter(rider: StationFilter | None = None) -> StationFilter:
    """The page's filter: only stations in service (``status=open``), and what the rider asked
    for (chips, entry, host type…); a ``status`` asked for is the caller's to check."""
    return replace(rider or StationFilter(), status=frozenset({"open"}))


def amenity_bits(codes: Sequence[str]) -> int:
    """Amenity codes as one integer (bit ``i`` = ``AMENITIES``' ``i``-th code) for the page."""
    bits = 0
    for code in codes:
        bits |= _BIT[code]
    return bits


def marker_bits(data: StationData) -> int:
    """A marker row's ``bits``: :func:`amenity_bits`, and the bit of ``no_smartphone_ok``
    (:data:`BIT_CODES`) when the station is recorded as usable without a smartphone."""
    flag = _BIT[NO_SMARTPHONE_CHIP[0]] if data.no_smartphone_ok is True else 0
    return amenity_bits(data.amenities) | flag


def _round(values: np.ndarray) -> list[float]:
    return [round(v, 6) for v in values.tolist()]


def _points(hits: Sequence[Hit], crs: str) -> list[list[Any]]:
    """Compact marker rows ``[id, x, y, open (1/0/null), bits, name]`` in ``crs``."""
    if not hits:
        return []
    lon = np.fromiter((h.station.data.lon for h in hits), float, len(hits))
    lat = np.fromiter((h.station.data.lat for h in hits), float, len(hits))
    x, y = from_wgs84(lon, lat, crs)
    rows = []
    for h, xi, yi in zip(hits, _round(np.atleast_1d(x)), _round(np.atleast_1d(y)), strict=True):
        state = None if h.open_now is None else int(h.open_now)
        rows.append(
            [
                h.station.id,
                xi,
                yi,
                state,
                marker_bits(h.station.data),
                h.station.data.name,
            ]
        )
    return rows


def _clusters(hits: Sequence[Hit], crs: str, zoom: int) -> tuple[list[list[Any]], list[list[Any]]]:
    """Grid clusters (~64 px Web-Mercator cells at ``zoom``): (single points, [x, y, n] rows)."""
    lon = np.fromiter((h.station.data.lon for h in hits), float, len(hits))
    lat = np.fromiter((h.station.data.lat for h in hits), float, len(hits))
    x, y = (np.atleast_1d(a) for a in from_wgs84(lon, lat, crs))
    world = 256.0 * 2.0**zoom / _CLUSTER_CELL_PX
    phi = np.radians(np.clip(y, -85.05, 85.05))
    cx = np.floor((x + 180.0) / 360.0 * world).astype(np.int64)
    cy = np.floor((1.0 - np.log(np.tan(phi) + 1.0 / np.cos(phi)) / math.pi) / 2.0 * world)
    key = cx * (int(world) + 2) + cy.astype(np.int64)
    _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    sx = np.bincount(inverse, weights=x)
    sy = np.bincount(inverse, weights=y)
    singles = [hits[i] for i in np.flatnonzero(counts[inverse] == 1).tolist()]
    many = np.flatnonzero(counts > 1)
    clusters = [
        [round(sx[c] / counts[c], 6), round(sy[c] / counts[c], 6), int(counts[c])]
        for c in many.tolist()
    ]
    return _points(singles, crs), clusters


def markers_in_view(
    catalog: StationCatalog,
    bbox: tuple[float, float, float, float] | None,
    zoom: int,
    flt: StationFilter,
    *,
    crs: str = "wgs84",
    at: datetime | None = None,
    max_points: int = VIEW_MAX_POINTS,
) -> dict[str, Any]:
    """The markers of one map view: single stations, or grid clusters when there are many.

    Parameters
    ----------
    bbox : (west, south, east, north) in WGS-84, or None for everything
    zoom : int
        The map's zoom; sets the cluster cell size (~64 px) when clustering.
    flt : StationFilter
        Usually :func:`embed_filter` with the rider's chips.
    crs : str
        CRS of the returned coordinates (the basemap's).

    Returns
    -------
    dict
        ``points`` (rows ``[id, x, y, open, bits, name]``), ``clusters`` (rows
        ``[x, y, count]``), ``total`` (stations in view) and ``complete`` (true when every
        station in view is a single point, so the page need not ask again for this view).
    """
    hits, total = catalog.search(ListQuery(bbox=bbox, filter=flt, at=at, limit=max_points))
    if total <= max_points:
        return {"points": _points(hits, crs), "clusters": [], "total": total, "complete": True}
    hits, total = catalog.search(ListQuery(bbox=bbox, filter=flt, at=at, limit=total))
    points, clusters = _clusters(hits, crs, zoom)
    return {"points": points, "clusters": clusters, "total": total, "complete": False}


def _bounds(catalog: StationCatalog, flt: StationFilter, crs: str) -> list[list[float]] | None:
    stations = [s for s in catalog.all() if s.data.status in flt.status or not flt.status]
    if not stations:
        return None
    lon = np.fromiter((s.data.lon for s in stations), float, len(stations))
    lat = np.fromiter((s.data.lat for s in stations), float, len(stations))
    x, y = (np.atleast_1d(a) for a in from_wgs84(lon, lat, crs))
    return [
        [round(float(y.min()), 6), round(float(x.min()), 6)],
        [round(float(y.max()), 6), round(float(x.max()), 6)],
    ]


def _json_for_html(value: Any) -> str:
    """JSON safe inside ``<script type="application/json">``: no ``</script>``, no entities."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (
        text.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _chips(selected: frozenset[str], open_now: bool, no_smartphone_ok: bool) -> str:
    def chip(code: str, label: str, pressed: bool) -> str:
        return (
            f'<button type="button" class="chip" data-code="{html.escape(code)}" '
            f'aria-pressed="{"true" if pressed else "false"}">{html.escape(label)}</button>'
        )

    out = [chip("open_now", "营业中", open_now)]
    out += [
        chip(code, _SHORT_LABELS.get(code, AMENITIES[code]), code in selected)
        for code in CHIP_ORDER
    ]
    out.append(chip(*NO_SMARTPHONE_CHIP, no_smartphone_ok))
    return "".join(out)


def content_security_policy(basemap: Basemap, frame_ancestors: Sequence[str]) -> str:
    """The page's Content-Security-Policy: our own scripts only, tiles from the basemap."""
    ancestors = " ".join(a for a in frame_ancestors if a and not any(c in a for c in ";,\r\n"))
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",  # Leaflet positions tiles with style attributes
            "img-src 'self' data: " + " ".join(basemap.tile_origins()),
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors " + (ancestors or "'none'"),
        ]
    )


def render_embed_page(
    catalog: StationCatalog,
    request: EmbedRequest,
    *,
    basemap: Basemap,
    wechat: bool = False,
    at: datetime | None = None,
    inline_max: int = INLINE_MAX,
    trust: TrustBoard | None = None,
    bounds: list[list[float]] | None = None,
) -> str:
    """The whole ``/embed`` HTML page for ``request``.

    Parameters
    ----------
    catalog : StationCatalog
        The stations; up to ``inline_max`` of them are inlined as markers.
    request : EmbedRequest
        The editor's presets (centre, zoom, chips, highlighted station).
    basemap : maps.basemaps.Basemap
        The configured basemap; its CRS is the CRS of every coordinate in the page.
    wechat : bool
        Whether the service can sign ``wx.config`` (an Official Account is configured): the
        page then loads the JS-SDK inside WeChat, and only there.
    bounds : list, optional
        Leaflet bounds of the stations in service in the basemap's CRS, when the caller has
        them from arrays (a national network); computed from the catalog otherwise.

    Returns
    -------
    str
        A complete HTML document, UTF-8, with every station value escaped.
    """
    crs = basemap.crs
    when = at or datetime.now().astimezone()
    service = embed_filter()
    hits, total = catalog.search(ListQuery(filter=service, at=when, limit=inline_max))
    markers = (
        {"points": _points(hits, crs), "clusters": [], "total": total, "complete": True}
        if total <= inline_max
        else None
    )

    notice = request.notice
    station = None
    if request.station_id is not None:
        try:
            found = catalog.get(request.station_id)
        except NotFound:
            notice = "链接中的驿站不存在或已撤销，请查看附近的其他驿站。"
        else:
            hit = Hit(found, None, catalog.open_now(found, when))
            station = feature(hit, crs, navigation=True, trust=trust)

    center = zoom = None
    if request.center is not None:
        x, y = from_wgs84(request.center[0], request.center[1], crs)
        center = [round(float(y), 6), round(float(x), 6)]
        zoom = request.zoom if request.zoom is not None else 15
    elif station is not None:
        x, y = station["geometry"]["coordinates"]
        center, zoom = [y, x], request.zoom if request.zoom is not None else 16
    elif request.zoom is not None:
        zoom = request.zoom
    if center is not None:
        bounds = None
    elif bounds is None:
        bounds = _bounds(catalog, service, crs)
    if center is None and bounds is None:
        x, y = from_wgs84(*_DEFAULT_CENTER, crs)
        center, zoom = [round(float(y), 6), round(float(x), 6)], zoom or 11

    config = {
        "crs": crs,
        "basemap": [
            {
                "url": layer.url,
                "attribution": layer.attribution,
                "subdomains": layer.subdomains,
                "maxZoom": layer.max_zoom,
                "maxNativeZoom": layer.max_native_zoom,
            }
            for layer in basemap.layers
        ],
        "center": center,
        "zoom": zoom,
        "bounds": bounds,
        "bits": list(BIT_CODES),
        "labels": dict(AMENITIES),
        "entries": dict(ENTRY_METHODS),
        "selected": sorted(request.amenities)
        + ([NO_SMARTPHONE_CHIP[0]] if request.no_smartphone_ok else []),
        "openNow": request.open_now,
        "markers": markers,
        "station": station,
        "notice": notice,
        "locate": request.center is None and station is None,
        "k": EMBED_K,
        "api": {
            "nearest": "/api/v1/nearest",
            "station": "/api/v1/stations/",
            "tiles": "/api/v1/tiles/stations/",
        },
        "wechat": (
            {
                "sdk": asset_url("app/embed/jweixin-1.6.5.js"),
                "config": "/api/v1/wechat/jssdk-config",
            }
            if wechat
            else None
        ),
    }
    css = html.escape(asset_url("app/embed/embed.css"))
    tiles_script = (
        ""
        if markers is not None
        else f'\n<script src="{html.escape(asset_url("app/common/tiles.js"))}" defer></script>'
    )
    return f"""<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1,viewport-fit=cover">
<meta name="format-detection" content="telephone=no">
<title>暖心驿站 · 附近驿站</title>
<link rel="stylesheet" href="{html.escape(asset_url("leaflet/leaflet.css"))}">
<link rel="stylesheet" href="{css}">
</head>
<body>
<div id="app">
<div id="bar" role="toolbar" aria-label="筛选驿站">{_chips(request.amenities, request.open_now, request.no_smartphone_ok)}</div>
<div id="mapbox"><div id="map" aria-label="驿站地图"></div>
<button type="button" id="locate" aria-label="定位到我的位置" title="定位到我的位置"><span aria-hidden="true"></span></button></div>
<section id="sheet">
<div id="head"><h1>附近的暖心驿站</h1><span id="status" role="status">加载中…</span></div>
<p id="notice" hidden></p>
<div id="card" hidden></div>
<ol id="list"></ol>
</section>
</div>
<noscript><p class="noscript">本页需要启用 JavaScript 才能显示地图和附近驿站。</p></noscript>
<script type="application/json" id="embed-config">{_json_for_html(config)}</script>
<script src="{html.escape(asset_url("leaflet/leaflet.js"))}" defer></script>
<script src="{html.escape(asset_url("app/common/crs.js"))}" defer></script>{tiles_script}
<script src="{html.escape(asset_url("app/common/here.js"))}" defer></script>
<script src="{html.escape(asset_url("app/common/words.js"))}" defer></script>
<script src="{html.escape(asset_url("app/embed/embed.js"))}" defer></script>
</body>
</html>
"""
