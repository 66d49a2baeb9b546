"""Full-page interactive maps: ``/maps/stations``, ``/maps/coverage``, ``/maps/gaps``.

Each page is drawn for one basemap (``?basemap=osm|amap|tianditu``, default from the
configuration): on AMap every overlay is in GCJ-02, on the others in WGS-84. HTML is sent
``Cache-Control: no-cache`` (open-now and the data change); the assets it links are
content-hashed and cached for a year by ``/assets``.

The service's Content-Security-Policy allows no inline script; folium writes the map's set-up
inline, so these pages send the same policy with the SHA-256 of exactly those scripts added
to ``script-src`` (anything injected would not match), and ``img-src`` naming the tile hosts
of the basemaps on the page.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.auth import ReaderScope
from api.deps import CatalogDep, Services, ServicesDep, SettingsDep, TilesDep
from api.http.params import AtDep, FilterDep
from api.http.security_headers import content_security_policy
from api.settings import Settings
from maps.basemaps import Basemap, choose_basemap, same_crs
from stations.orgs.scope import ReadScope
from stations.search import StationCatalog, StationFilter
from stations.tiles import TileCache

__all__ = ["router"]

router = APIRouter(prefix="/maps", tags=["maps"])


class BasemapCode(StrEnum):
    osm = "osm"
    amap = "amap"
    tianditu = "tianditu"


BasemapQuery = Annotated[
    BasemapCode | None,
    Query(
        description="Basemap: osm (WGS-84), amap (高德, GCJ-02: every overlay is shifted) or "
        "tianditu (WGS-84, needs STATIONS_TIANDITU_KEY); default from configuration"
    ),
]


def _basemap(requested: BasemapCode | None, settings: Settings) -> Basemap:
    return choose_basemap(
        requested.value if requested else None, settings.basemap, settings.tianditu_key
    )


def _when(at: datetime | None, settings: Settings) -> datetime:
    if at is None:
        return datetime.now().astimezone()
    return at if at.tzinfo else at.replace(tzinfo=ZoneInfo(settings.timezone))


def _policy(request: Request, settings: Settings, html: str, basemap: Basemap) -> str:
    from maps.folium_page import inline_script_hashes

    directives: dict[str, list[str]] = {}
    for part in content_security_policy(request.url.path, settings).split(";"):
        name, *values = part.split()
        directives[name] = values
    directives["script-src"] = [
        *directives.get("script-src", ["'self'"]),
        *inline_script_hashes(html),
    ]
    tiles = [o for b in same_crs(basemap, settings.tianditu_key) for o in b.tile_origins()]
    directives["img-src"] = ["'self'", "data:", *dict.fromkeys(tiles)]
    return "; ".join(" ".join([name, *values]) for name, values in directives.items())


def _page(request: Request, settings: Settings, html: str, basemap: Basemap) -> HTMLResponse:
    return HTMLResponse(
        html,
        headers={
            "Cache-Control": "no-cache",
            "Content-Security-Policy": _policy(request, settings, html, basemap),
        },
    )


@router.get(
    "/stations",
    response_class=HTMLResponse,
    summary="Station map: clustered markers, Chinese popups, filters (HTML)",
)
def stations_map(
    request: Request,
    catalog: CatalogDep,
    settings: SettingsDep,
    tiles: TilesDep,
    flt: FilterDep,
    at: AtDep,
    basemap: BasemapQuery = None,
) -> HTMLResponse:
    """``amenity`` and ``open_now`` preset the filter chips (the user can widen the filter);
    ``status`` and ``host_type`` leave stations out. Up to ``map_inline_max``
    stations (``STATIONS_MAP_INLINE_MAX``) are inlined; a larger network is drawn from the
    vector tiles."""
    when = _when(at, settings)
    # folium (and pandas under it) cost ~80 MB per worker: load them on the first map.
    from maps.station_map import catalog_hits, station_map_html

    if len(catalog) > settings.map_inline_max:
        return _tiled_stations_map(
            request, catalog, tiles, settings, flt, when, basemap, fixed=at is not None
        )
    hits = catalog_hits(
        catalog, at=when, flt=StationFilter(status=flt.status, host_types=flt.host_types)
    )
    chosen = _basemap(basemap, settings)
    html = station_map_html(
        hits,
        chosen,
        tianditu_key=settings.tianditu_key,
        amenities=sorted(flt.amenities),
        open_now=flt.open_now,
        at=when,
        tz=settings.timezone,
    )
    return _page(request, settings, html, chosen)


def _tiled_stations_map(
    request: Request,
    catalog: StationCatalog,
    tiles: TileCache,
    settings: Settings,
    flt: StationFilter,
    when: datetime,
    basemap: BasemapCode | None,
    *,
    fixed: bool = False,
) -> HTMLResponse:
    """The station map of a large network: a summary in the page, the markers from tiles.

    With ``?at=`` (``fixed``) the tiles are asked for at that instant too, so markers are
    coloured as open or closed then, like the legend; without it they follow the minute.
    """
    from maps.station_map import station_tiles_map, tile_summary

    left_out = StationFilter(status=flt.status, host_types=flt.host_types)
    index = tiles.index()
    _, keep, states = catalog.states_by_id(None if left_out.is_empty() else left_out, when)
    if len(states) != len(index):  # the catalog moved on between the two reads
        index = tiles.index()
        _, keep, states = catalog.states_by_id(None if left_out.is_empty() else left_out, when)
    chosen = _basemap(basemap, settings)
    summary = tile_summary(index.lon, index.lat, index.status_codes, states, keep, chosen.crs)
    query = [("status", s) for s in sorted(flt.status)]
    query += [("host_type", h) for h in sorted(flt.host_types)]
    if fixed:
        query.append(("at", when.isoformat()))
    html = station_tiles_map(
        summary,
        chosen,
        tile_query=query,
        tianditu_key=settings.tianditu_key,
        amenities=sorted(flt.amenities),
        open_now=flt.open_now,
        at=when,
        tz=settings.timezone,
    ).render()
    return _page(request, settings, html, chosen)


RadiusQuery = Annotated[
    float | None,
    Query(gt=0, le=50_000, description="Reach in metres (default: STATIONS_DEFAULT_RADIUS_M)"),
]
ResolutionQuery = Annotated[int, Query(ge=5, le=11, description="H3 resolution of the grid")]
NewSitesQuery = Annotated[
    int,
    Query(
        ge=0,
        le=50,
        description="How many new sites the planner suggests (ranked numbered markers); 0 for none",
    ),
]


def _analysis_html(
    kind: str,
    catalog: StationCatalog,
    settings: Settings,
    chosen: Basemap,
    radius_m: float,
    resolution: int,
    new_sites: int,
    scope: ReadScope,
) -> str:
    from maps.analysis_page import draw_analysis_page

    page, _ = draw_analysis_page(
        kind,
        catalog,
        chosen,
        radius_m=radius_m,
        resolution=resolution,
        new_sites=new_sites,
        network=settings.network_file,
        tz=settings.timezone,
        tianditu_key=settings.tianditu_key,
        scope=scope,
    )
    return page.render()


def _analysis_page(
    kind: str,
    request: Request,
    services: Services,
    basemap: BasemapCode | None,
    radius_m: float | None,
    resolution: int,
    new_sites: int,
    scope: ReadScope,
) -> HTMLResponse:
    """A coverage or gap page of the reader's stations.

    These are the union staff's analysis pages, so they follow the reader's scope like the
    coverage API: a signed-in reader (console session or token) sees their organisation and
    everything below it, the root's users and anonymous visitors the whole network (what a
    public link always showed). The station map (``/maps/stations``) and ``/embed`` are the
    riders' public pages and always show every public station, whoever looks.
    """
    catalog, settings = services.catalog, services.settings
    chosen = _basemap(basemap, settings)
    radius = radius_m or settings.default_radius_m
    # The page depends only on the stations (the catalog's change counter) and the request's
    # settings, and takes a second to compute: the last few are kept.
    # One organisation's page is not another's: the scope is part of the key.
    key = (
        kind,
        catalog.counter,
        len(catalog),
        chosen.code,
        radius,
        resolution,
        new_sites,
        scope.key,
    )
    html = services.analysis_pages.get(
        key,
        lambda: _analysis_html(
            kind, catalog, settings, chosen, radius, resolution, new_sites, scope
        ),
    )
    return _page(request, settings, html, chosen)


@router.get(
    "/coverage",
    response_class=HTMLResponse,
    summary="Coverage map: reach circles, covered/uncovered cells by demand (HTML)",
)
def coverage_map(
    request: Request,
    services: ServicesDep,
    scope: ReaderScope,
    basemap: BasemapQuery = None,
    radius_m: RadiusQuery = None,
    resolution: ResolutionQuery = 9,
    new_sites: NewSitesQuery = 5,
) -> HTMLResponse:
    return _analysis_page(
        "coverage", request, services, basemap, radius_m, resolution, new_sites, scope
    )


@router.get(
    "/gaps",
    response_class=HTMLResponse,
    summary="Gap map: ranked gaps, uncovered cells, suggested sites (HTML)",
)
def gaps_map(
    request: Request,
    services: ServicesDep,
    scope: ReaderScope,
    basemap: BasemapQuery = None,
    radius_m: RadiusQuery = None,
    resolution: ResolutionQuery = 9,
    new_sites: NewSitesQuery = 5,
) -> HTMLResponse:
    return _analysis_page(
        "gaps", request, services, basemap, radius_m, resolution, new_sites, scope
    )
