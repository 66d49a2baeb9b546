"""``/api/v1/stations``: list (filters, paging) and one station."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from api.deps import CatalogDep, SettingsDep, base_url
from api.paging import page_links
from api.params import AtDep, CrsName, FilterDep, parse_bbox
from api.schemas import GEOJSON, GeoJSONResponse, StationCollectionOut, StationFeatureOut
from geodata.crs import to_wgs84
from stations.features import feature, feature_collection
from stations.search import Hit, ListQuery

router = APIRouter(prefix="/api/v1/stations", tags=["stations"])


@router.get("", response_model=StationCollectionOut, responses=GEOJSON,
            summary="List stations (filters, text search, paging)")
def list_stations(
    request: Request,
    catalog: CatalogDep,
    settings: SettingsDep,
    flt: FilterDep,
    at: AtDep,
    bbox: Annotated[str | None, Query(description="west,south,east,north in `crs`")] = None,
    q: Annotated[str | None, Query(max_length=100,
                                   description="Substring of name or address")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    crs: CrsName = CrsName.wgs84,
) -> Any:
    box = parse_bbox(bbox)
    if box is not None and crs is not CrsName.wgs84:
        west, south = to_wgs84(box[0], box[1], crs.value)
        east, north = to_wgs84(box[2], box[3], crs.value)
        box = (west, south, east, north)
    limit = min(limit, settings.max_page)
    hits, total = catalog.search(ListQuery(bbox=box, q=q, filter=flt, at=at, limit=limit,
                                           offset=offset))
    links = page_links(request, base_url(request, settings), offset=offset, limit=limit,
                       returned=len(hits), matched=total)
    return GeoJSONResponse(feature_collection(hits, crs.value, numberMatched=total,
                                              numberReturned=len(hits), links=links))


@router.get("/{station_id}", response_model=StationFeatureOut, responses=GEOJSON,
            summary="One station")
def get_station(
    catalog: CatalogDep,
    at: AtDep,
    station_id: Annotated[int, Path(ge=1, le=2**62)],
    crs: CrsName = CrsName.wgs84,
) -> Any:
    station = catalog.get(station_id)
    when = at or datetime.now().astimezone()
    body = feature(Hit(station, None, catalog.open_now(station, when)), crs.value, navigation=True)
    return GeoJSONResponse(body, headers={"ETag": f'"{station.version}"'})
