"""``/embed`` (the mobile page for WeChat), its marker feed, and WeChat's domain check files.

WeChat checks that an Official Account's JS-SDK domain (``MP_verify_<code>.txt``) and a Mini
Program's web-view business domain (a ``<random>.txt`` check file) belong to the account by
fetching a file from the site root; those files are served from ``verification_dir`` — only
``*.txt`` files directly in it, by a strictly checked name, and nothing else from there.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, JSONResponse, Response

from api.deps import CatalogDep, SettingsDep, TilesDep, TrustBoardDep
from api.http.params import CrsName, FilterDep, parse_bbox
from geodata.crs import crs_name, to_wgs84
from geodata.errors import GeodataError
from maps.basemaps import choose_basemap
from maps.embed import (
    EmbedRequest,
    content_security_policy,
    embed_filter,
    markers_in_view,
    render_embed_page,
)
from maps.tile_page import leaflet_bounds
from stations.errors import NotFound
from stations.vocabulary import UnknownCode, normalise_code

router = APIRouter(tags=["embed"])

_NO_CACHE = "no-cache"
_CHECK_FILE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
_CHECK_FILE_MAX_BYTES = 64 * 1024


def _amenities(values: list[str] | None, bad: list[str]) -> frozenset[str]:
    """The amenity codes a link names; an unknown one is dropped (and noted in ``bad``)."""
    found = set()
    for raw in values or []:
        for item in raw.split(","):
            if not item.strip():
                continue
            try:
                found.add(normalise_code("amenity", item))
            except UnknownCode:
                bad.append("amenity")
    return frozenset(found)


def _flag(text: str | None, name: str, bad: list[str]) -> bool:
    """``true``/``false`` (and 1/0, yes/no); anything else is False (noted in ``bad``)."""
    value = (text or "").strip().lower()
    if value in ("true", "1", "yes", "on"):
        return True
    if value not in ("", "false", "0", "no", "off"):
        bad.append(name)
    return False


def _crs(text: str | None, bad: list[str]) -> str:
    try:
        return crs_name(text or "wgs84")
    except GeodataError:
        bad.append("crs")
        return "wgs84"


def _number(text: str | None, name: str, low: float, high: float, bad: list[str]) -> float | None:
    """A finite number within ``[low, high]``, or None (and ``name`` noted in ``bad``)."""
    if text is None or not text.strip():
        return None
    try:
        value = float(text)
    except ValueError:
        bad.append(name)
        return None
    if not (math.isfinite(value) and low <= value <= high):
        bad.append(name)
        return None
    return value


@router.get(
    "/embed",
    response_class=HTMLResponse,
    summary="The mobile map of the nearest stations, for WeChat menus, articles and "
    "Mini Program web-views",
    description="A value the page cannot read (a link mangled in an article) is answered with "
    "the page and a Chinese notice, 链接中的参数有误, naming the parameters, not with a 422: "
    "riders cannot read a JSON problem.",
)
def embed_page(
    catalog: CatalogDep,
    settings: SettingsDep,
    board: TrustBoardDep,
    tiles: TilesDep,
    amenity: Annotated[
        list[str] | None,
        Query(max_length=200, description="Amenities the rider's filter starts with (codes)"),
    ] = None,
    open_now_text: Annotated[
        str | None,
        Query(alias="open_now", description="Start with only open stations"),
    ] = None,
    no_smartphone_text: Annotated[
        str | None,
        Query(
            alias="no_smartphone_ok",
            description="Start with only stations usable without a smartphone",
        ),
    ] = None,
    lat_text: Annotated[
        str | None,
        Query(alias="lat", description="Centre latitude in `crs` (-90…90)"),
    ] = None,
    lon_text: Annotated[
        str | None,
        Query(alias="lon", description="Centre longitude in `crs` (-180…180)"),
    ] = None,
    crs_text: Annotated[
        str | None,
        Query(alias="crs", description="CRS of `lat`/`lon`: wgs84, gcj02, bd09"),
    ] = None,
    zoom_text: Annotated[str | None, Query(alias="zoom", description="Initial zoom (3…19)")] = None,
    station_text: Annotated[
        str | None,
        Query(alias="station", description="Station to highlight and open"),
    ] = None,
) -> Any:
    # A link in an article may be mangled (lat=abc, amenity=热水器, crs=gcj, a station id run
    # into the next words): the page still opens, with a notice in Chinese, instead of a
    # JSON problem a rider cannot read; so no length limit here either, the parsers refuse.
    bad: list[str] = []
    amenities = _amenities(amenity, bad)
    open_now = _flag(open_now_text, "open_now", bad)
    no_smartphone_ok = _flag(no_smartphone_text, "no_smartphone_ok", bad)
    crs = _crs(crs_text, bad)
    lat = _number(lat_text, "lat", -90, 90, bad)
    lon = _number(lon_text, "lon", -180, 180, bad)
    zoom_f = _number(zoom_text, "zoom", 3, 19, bad)
    station_f = _number(station_text, "station", 1, 2**62, bad)
    zoom = int(zoom_f) if zoom_f is not None else None
    station = int(station_f) if station_f is not None and station_f.is_integer() else None
    if (lat is None) != (lon is None):
        bad.append("lat" if lat is None else "lon")
        lat = lon = None
    notice = (
        f"链接中的参数有误（{'、'.join(dict.fromkeys(bad))}），已按默认位置显示附近的驿站。"
        if bad
        else None
    )
    center = None
    if lat is not None and lon is not None:
        wlon, wlat = to_wgs84(lon, lat, crs)
        center = (float(wlon), float(wlat))
    # The configured basemap; a configured Tianditu without its key falls back to OSM, as on
    # the other maps (maps.basemaps.choose_basemap).
    basemap = choose_basemap(None, settings.basemap, settings.tianditu_key)
    wechat = bool(settings.wechat_app_id and settings.wechat_app_secret)
    bounds = None
    if len(catalog) > settings.embed_inline_max and center is None and station is None:
        # A national network: its bounds from the tile index's arrays, not a walk over
        # every station.
        index = tiles.index()
        _, keep, states = catalog.states_by_id(embed_filter(), None)
        if len(states) == len(index):
            bounds = leaflet_bounds(index.lon, index.lat, keep, basemap.crs)
    page = render_embed_page(
        catalog,
        EmbedRequest(
            center=center,
            zoom=zoom,
            amenities=amenities,
            open_now=open_now,
            no_smartphone_ok=no_smartphone_ok,
            station_id=station,
            notice=notice,
        ),
        basemap=basemap,
        wechat=wechat,
        trust=board,
        inline_max=settings.embed_inline_max,
        bounds=bounds,
    )
    return HTMLResponse(
        page,
        headers={
            "Cache-Control": _NO_CACHE,
            "Content-Security-Policy": content_security_policy(
                basemap, settings.embed_frame_ancestors
            ),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "strict-origin-when-cross-origin",
        },
    )


@router.get(
    "/embed/markers",
    summary="The embed page's markers for one map view "
    "(compact rows; grid clusters when a view holds many)",
)
def embed_markers(
    catalog: CatalogDep,
    settings: SettingsDep,
    flt: FilterDep,
    zoom: Annotated[int, Query(ge=0, le=22, description="The map's zoom (cluster size)")],
    bbox: Annotated[str | None, Query(description="west,south,east,north in `crs`")] = None,
    crs: CrsName = CrsName.wgs84,
) -> Any:
    box = parse_bbox(bbox, crs.value)
    if flt.status and "open" not in flt.status:  # the page shows stations in service only
        body: dict[str, Any] = {"points": [], "clusters": [], "total": 0, "complete": True}
    else:
        body = markers_in_view(catalog, box, zoom, embed_filter(flt), crs=crs.value)
    return JSONResponse(body, headers={"Cache-Control": _NO_CACHE})


@router.get("/{name}.txt", include_in_schema=False)
def verification_file(name: str, settings: SettingsDep) -> Response:
    folder = settings.verification_dir
    if folder is None or not _CHECK_FILE.fullmatch(name) or ".." in name:
        raise NotFound(f"no file {name}.txt")
    root = Path(folder).resolve()
    path = root / f"{name}.txt"
    # Only a regular file directly in the folder: no symlink out of it, no subfolder.
    if path.is_symlink() or not path.is_file() or path.resolve().parent != root:
        raise NotFound(f"no file {name}.txt")
    data = path.read_bytes()
    if len(data) > _CHECK_FILE_MAX_BYTES:
        raise NotFound(f"no file {name}.txt")
    return Response(
        data,
        media_type="text/plain; charset=utf-8",
        headers={"Cache-Control": _NO_CACHE, "X-Content-Type-Options": "nosniff"},
    )
