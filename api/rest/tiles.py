"""``/api/v1/tiles/stations/{z}/{x}/{y}.mvt``: the stations as Mapbox Vector Tiles.

Clustered below zoom 13 (``count`` per feature), single stations from there on (``id``,
``name``, ``status`` and ``open``: 1 open, 0 closed, -1 hours unknown, at ``at`` or now);
``crs=gcj02`` shifts them for AMap basemaps; the station filters (``amenity``, ``open_now``,
``status``, …) of ``/api/v1/stations`` choose which stations are counted and drawn. Empty
tiles answer 204. The ETag is the catalog's change counter, the filter and the minute
(``open`` changes with the hours), so a map reloading after an edit refetches only what
changed.

A map fetches dozens of tiles a view, so the route is a :class:`~api.http.params.
RequestRoute`: the path and the query are read in one pass here instead of by FastAPI's
dependency resolution, which cost more than cutting a tile.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from api.deps import services
from api.http.params import (
    CrsName,
    FilterParams,
    RequestRoute,
    openapi_parameters,
    parse_path,
    parse_query,
)
from stations.errors import NotFound
from stations.search import StationFilter
from stations.tiles import MAX_ZOOM, TileCache

router = APIRouter(tags=["tiles"], route_class=RequestRoute)

MVT = "application/vnd.mapbox-vector-tile"


def tile_response(
    tiles: TileCache,
    z: int,
    x: int,
    y: int,
    crs: str,
    if_none_match: str | None,
    flt: StationFilter | None = None,
    at: datetime | None = None,
) -> Response:
    """The tile, 204 when empty, 304 when the caller has it; 404 outside the matrix."""
    if not (0 <= z <= MAX_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z):
        raise NotFound(f"no tile {z}/{x}/{y}: zoom 0–{MAX_ZOOM}, column and row 0–2^zoom−1")
    found = tiles.tile(z, x, y, crs, None if flt is None or flt.is_empty() else flt, at)
    headers = {"ETag": found.etag, "Cache-Control": "public, max-age=30"}
    if if_none_match and found.etag in [
        t.strip().removeprefix("W/") for t in if_none_match.split(",")
    ]:
        return Response(status_code=304, headers=headers)
    if not found.body:
        return Response(status_code=204, headers=headers)
    return Response(found.body, media_type=MVT, headers=headers)


class TileParams(FilterParams):
    """The query of a station tile: the station filter, ``at`` and the CRS."""

    crs: CrsName = Field(CrsName.wgs84, description="wgs84, or gcj02 for AMap basemaps")


class TilePath(BaseModel):
    """A tile's address in the path: zoom, column and row (ranges past 2^zoom are 404)."""

    z: int = Field(ge=0, le=MAX_ZOOM, description="Zoom")
    x: int = Field(ge=0, description="Column")
    y: int = Field(ge=0, description="Row, from the north")


IF_NONE_MATCH = {
    "name": "if-none-match",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
}


@router.get(
    "/api/v1/tiles/stations/{z}/{x}/{y}.mvt",
    summary="Stations as a Mapbox Vector Tile (clustered below zoom 13)",
    responses={200: {"content": {MVT: {}}}, 204: {"description": "No station in this tile"}},
    openapi_extra={
        "parameters": [
            *openapi_parameters(TilePath, "path"),
            *openapi_parameters(TileParams),
            IF_NONE_MATCH,
        ]
    },
)
async def station_tile(request: Request) -> Response:
    # On the event loop, not the thread pool: a warm tile is about a millisecond of work,
    # less than the hop to a worker thread and back under load.
    where = parse_path(TilePath, request)
    q = parse_query(TileParams, request)
    return tile_response(
        services(request).tiles,
        where.z,
        where.x,
        where.y,
        q.crs.value,
        request.headers.get("if-none-match"),
        q.station_filter(),
        q.when(),
    )
