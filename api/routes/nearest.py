"""``/api/v1/nearest``: what a rider asks — the nearest open stations with what they need."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import CatalogDep, SettingsDep
from api.params import AtDep, CrsName, FilterDep
from api.schemas import GEOJSON, GeoJSONResponse, StationCollectionOut
from geodata.crs import to_wgs84
from stations.errors import FieldError, ValidationFailed
from stations.features import feature_collection
from stations.search import NearestQuery

router = APIRouter(prefix="/api/v1", tags=["nearest"])


@router.get("/nearest", response_model=StationCollectionOut, responses=GEOJSON,
            summary="Nearest stations by geodesic distance, with navigation links")
def nearest(
    catalog: CatalogDep,
    settings: SettingsDep,
    flt: FilterDep,
    at: AtDep,
    lat: Annotated[float, Query(ge=-90, le=90, description="Latitude in `crs`")],
    lon: Annotated[float, Query(ge=-180, le=180, description="Longitude in `crs`")],
    k: Annotated[int, Query(ge=1, description="How many stations (max 50 by default)")] = 5,
    max_distance_m: Annotated[float | None, Query(gt=0, le=20_037_509)] = None,
    crs: CrsName = CrsName.wgs84,
) -> Any:
    if k > settings.max_k:
        raise ValidationFailed([FieldError("k", f"must be at most {settings.max_k}", k)])
    qlon, qlat = to_wgs84(lon, lat, crs.value)
    hits = catalog.nearest(NearestQuery(float(qlon), float(qlat), k, max_distance_m, flt, at))
    return GeoJSONResponse(feature_collection(hits, crs.value, navigation=True,
                                              numberReturned=len(hits)))
