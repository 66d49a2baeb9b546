"""``/api/v1/nearest``: what a rider asks — the nearest open stations with what they need."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import Field

from api.deps import services
from api.http.params import (
    CrsName,
    FilterParams,
    RequestRoute,
    openapi_parameters,
    parse_query,
)
from api.rest.schemas import GEOJSON, GeoJSONResponse, StationCollectionOut
from geodata.crs import to_wgs84
from stations.errors import FieldError, ValidationFailed
from stations.nearest import nearest_json
from stations.search import NearestQuery

router = APIRouter(prefix="/api/v1", tags=["nearest"], route_class=RequestRoute)


class NearestParams(FilterParams):
    """The query of ``GET /api/v1/nearest``: where, how many, and the station filter."""

    lat: float = Field(ge=-90, le=90, description="Latitude in `crs`")
    lon: float = Field(ge=-180, le=180, description="Longitude in `crs`")
    k: int = Field(5, ge=1, le=10_000, description="How many stations (max 50 by default)")
    max_distance_m: float | None = Field(
        None, gt=0, le=20_037_509, description="Only stations within this distance"
    )
    crs: CrsName = Field(CrsName.wgs84, description="CRS of lat/lon and of the output")


@router.get(
    "/nearest",
    response_model=StationCollectionOut,
    responses=GEOJSON,
    summary="Nearest stations by geodesic distance, with navigation links",
    openapi_extra={"parameters": openapi_parameters(NearestParams)},
)
async def nearest(request: Request) -> Any:
    q = parse_query(NearestParams, request)
    svc = services(request)
    catalog, settings = svc.catalog, svc.settings
    if q.k > settings.max_k:
        raise ValidationFailed(
            [FieldError.from_catalog("k", "must be at most {limit}", q.k, limit=settings.max_k)]
        )
    qlon, qlat = to_wgs84(q.lon, q.lat, q.crs.value)
    query = NearestQuery(
        float(qlon), float(qlat), q.k, q.max_distance_m, q.station_filter(), q.when()
    )
    return GeoJSONResponse(nearest_json(catalog, query, q.crs.value, trust=svc.board))
