"""The basemaps the maps can draw on, and the coordinate system each one speaks.

OpenStreetMap and Tianditu (天地图) draw WGS-84 coordinates; AMap (高德) tiles are in GCJ-02,
so a WGS-84 point drawn on them lands 100–700 m off in China. A page therefore picks one
basemap, draws every overlay in that basemap's CRS, and offers in its layer control only the
basemaps of the same CRS; the others are reached by a link to the page rendered for them
(``?basemap=amap``). Shifting overlays in the browser on every basemap switch was the other
option; one page per CRS keeps the browser code free of coordinate maths for the overlays and
makes every page's coordinates checkable on the server.

Tianditu needs a key (``STATIONS_TIANDITU_KEY``); without one it is left out everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from stations.errors import FieldError, ValidationFailed

__all__ = [
    "BASEMAP_CODES",
    "Basemap",
    "TileSource",
    "available_basemaps",
    "choose_basemap",
    "get_basemap",
    "same_crs",
]

BASEMAP_CODES: tuple[str, ...] = ("osm", "amap", "tianditu")

_OSM_ATTR = (
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> 贡献者 contributors'
)
_AMAP_ATTR = '&copy; <a href="https://www.amap.com/">高德地图 AMap</a>'
_TIANDITU_ATTR = (
    '&copy; <a href="https://www.tianditu.gov.cn/">天地图 Tianditu</a> 国家地理信息公共服务平台'
)


def _unavailable(message: str, code: str) -> ValidationFailed:
    return ValidationFailed([FieldError("basemap", message, code)])


@dataclass(frozen=True)
class TileSource:
    """One Leaflet tile layer: URL template, subdomains, attribution (HTML we wrote)."""

    url: str
    attribution: str
    subdomains: str = "abc"
    max_zoom: int = 18
    max_native_zoom: int = 18


@dataclass(frozen=True)
class Basemap:
    """A named basemap: one or more tile layers drawn together, all in ``crs``.

    ``layers`` holds more than one source when a provider splits roads and labels (Tianditu's
    ``vec_w`` + ``cva_w``); they are switched on and off as one base layer.
    """

    code: str
    label: str
    crs: str  # "wgs84" | "gcj02"
    layers: tuple[TileSource, ...]
    page: str  # the basemap code whose page carries this one (its ``?basemap=``)

    @property
    def tile_urls(self) -> tuple[str, ...]:
        return tuple(layer.url for layer in self.layers)

    def tile_origins(self) -> list[str]:
        """Every ``https://host`` the tiles come from (for a CSP ``img-src``)."""
        out = []
        for layer in self.layers:
            origin = layer.url.split("/", 3)[:3]
            base = "/".join(origin)
            subs = layer.subdomains if "{s}" in base else ""
            out += [base.replace("{s}", s) for s in subs] if subs else [base]
        return list(dict.fromkeys(out))


def _tianditu(layer: str, key: str) -> TileSource:
    url = (
        f"https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
        f"&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
        f"&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={quote(key, safe='')}"
    )
    return TileSource(url, _TIANDITU_ATTR, subdomains="01234567", max_zoom=18)


def _all(tianditu_key: str | None) -> list[Basemap]:
    out = [
        Basemap(
            "osm",
            "OpenStreetMap",
            "wgs84",
            (
                TileSource(
                    "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                    _OSM_ATTR,
                    subdomains="",
                    max_zoom=19,
                    max_native_zoom=19,
                ),
            ),
            page="osm",
        ),
        Basemap(
            "amap",
            "高德地图 AMap",
            "gcj02",
            (
                TileSource(
                    "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
                    "&x={x}&y={y}&z={z}",
                    _AMAP_ATTR,
                    subdomains="1234",
                ),
            ),
            page="amap",
        ),
        Basemap(
            "amap_satellite",
            "高德卫星 AMap satellite",
            "gcj02",
            (
                TileSource(
                    "https://webst0{s}.is.autonavi.com/appmaptile?style=6&x={x}&y={y}&z={z}",
                    _AMAP_ATTR,
                    subdomains="1234",
                ),
                TileSource(
                    "https://webst0{s}.is.autonavi.com/appmaptile?style=8&x={x}&y={y}&z={z}",
                    _AMAP_ATTR,
                    subdomains="1234",
                ),
            ),
            page="amap",
        ),
    ]
    if tianditu_key:
        out.append(
            Basemap(
                "tianditu",
                "天地图 Tianditu",
                "wgs84",
                (_tianditu("vec", tianditu_key), _tianditu("cva", tianditu_key)),
                page="tianditu",
            )
        )
    return out


def available_basemaps(tianditu_key: str | None = None) -> list[Basemap]:
    """Every basemap this configuration can draw (Tianditu only with a key)."""
    return _all(tianditu_key)


def get_basemap(code: str, tianditu_key: str | None = None) -> Basemap:
    """The basemap called ``code`` (osm | amap | tianditu).

    Raises
    ------
    stations.errors.ValidationFailed
        For an unknown code, or ``tianditu`` without a key — saying which and how to fix it.
    """
    if code not in BASEMAP_CODES:
        raise _unavailable(f"unknown basemap; choose one of {', '.join(BASEMAP_CODES)}", code)
    for b in _all(tianditu_key):
        if b.code == code:
            return b
    raise _unavailable("Tianditu needs a key: set STATIONS_TIANDITU_KEY (天地图需要配置密钥)", code)


def choose_basemap(
    requested: str | None, configured: str, tianditu_key: str | None = None
) -> Basemap:
    """The basemap for one page: the request's choice, else the configured default.

    An explicit request that cannot be met is an error; a configured ``tianditu`` without a
    key falls back to OpenStreetMap, so a missing key never takes the maps down.
    """
    if requested:
        return get_basemap(requested, tianditu_key)
    try:
        return get_basemap(configured, tianditu_key)
    except ValidationFailed:
        return get_basemap("osm")


def same_crs(basemap: Basemap, tianditu_key: str | None = None) -> list[Basemap]:
    """``basemap`` first, then the other basemaps drawn in its CRS (the layer control's list)."""
    others = [b for b in _all(tianditu_key) if b.crs == basemap.crs and b.code != basemap.code]
    return [basemap, *others]
