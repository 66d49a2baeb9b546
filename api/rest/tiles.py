"""``/api/v1/tiles/stations/{z}/{x}/{y}.mvt``: the stations as Mapbox Vector Tiles.

Clustered below zoom 13 (``count`` per feature), single stations from there on (``id``,
``name``, ``status`` and ``open``: 1 open now, 0 closed now, -1 hours unknown); ``crs=gcj02``
shifts them for AMap basemaps; the station filters (``amenity``, ``open_now``, ``status``, …)
of ``/api/v1/stations`` choose which stations are counted and drawn. Empty tiles answer 204.
The ETag is the catalog's change counter, the filter and the minute (``open`` changes with
the hours), so a map reloading after an edit refetches only what changed.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Response

from api.deps import TilesDep
from api.http.params import CrsName, FilterDep
from stations.errors import NotFound
from stations.search import StationFilter
from stations.tiles import MAX_ZOOM, TileCache

router = APIRouter(tags=["tiles"])

MVT = "application/vnd.mapbox-vector-tile"


def tile_response(
    tiles: TileCache,
    z: int,
    x: int,
    y: int,
    crs: str,
    if_none_match: str | None,
    flt: StationFilter | None = None,
) -> Response:
    """The tile, 204 when empty, 304 when the caller has it; 404 outside the matrix."""
    if not (0 <= z <= MAX_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z):
        raise NotFound(f"no tile {z}/{x}/{y}: zoom 0–{MAX_ZOOM}, column and row 0–2^zoom−1")
    found = tiles.tile(z, x, y, crs, None if flt is None or flt.is_empty() else flt)
    headers = {"ETag": found.etag, "Cache-Control": "public, max-age=30"}
    if if_none_match and found.etag in [
        t.strip().removeprefix("W/") for t in if_none_match.split(",")
    ]:
        return Response(status_code=304, headers=headers)
    if not found.body:
        return Response(status_code=204, headers=headers)
    return Response(found.body, media_type=MVT, headers=headers)


@router.get(
    "/api/v1/tiles/stations/{z}/{x}/{y}.mvt",
    summary="Stations as a Mapbox Vector Tile (clustered below zoom 13)",
    responses={200: {"content": {MVT: {}}}, 204: {"description": "No station in this tile"}},
)
async def station_tile(
    tiles: TilesDep,
    z: Annotated[int, Path(ge=0, le=MAX_ZOOM)],
    x: Annotated[int, Path(ge=0)],
    y: Annotated[int, Path(ge=0)],
    flt: FilterDep,
    crs: CrsName = CrsName.wgs84,
    if_none_match: Annotated[str | None, Header(max_length=1000)] = None,
) -> Response:
    # On the event loop, not the thread pool: a warm tile is about a millisecond of work,
    # less than the hop to a worker thread and back under load.
    return tile_response(tiles, z, x, y, crs.value, if_none_match, flt)
