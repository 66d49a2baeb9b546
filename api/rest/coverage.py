"""``/api/v1/coverage``, ``/api/v1/gaps``, ``/api/v1/plan``: the union staff's questions."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from shapely.geometry import mapping

from api.deps import CatalogDep
from api.http.params import CrsName
from api.rest.schemas import GEOJSON, GeoJSONResponse
from geodata.areas import area_from_geojson
from geodata.crs import to_wgs84
from geodata.demand import demand_from_geojson
from stations.analysis.report import coverage_rows
from stations.analysis.service import SYNTHETIC_DEMAND, Analysis, Candidates, reach_metres
from stations.errors import FieldError, ValidationFailed
from stations.search import StationCatalog

router = APIRouter(prefix="/api/v1", tags=["coverage"])

Radius = Annotated[float | None, Query(gt=0, le=100_000, description="Reach in metres")]
Minutes = Annotated[float | None, Query(gt=0, le=600, description="Reach as minutes")]
Speed = Annotated[Literal["walk", "ebike"], Query(description="walk 4.5 km/h, ebike 15 km/h")]
Resolution = Annotated[int, Query(ge=5, le=11, description="H3 resolution")]
DemandName = Annotated[
    Literal["uniform", "etown-synthetic"],
    Query(description="uniform over the area, or the shipped synthetic E-Town layer"),
]


def _analysis(
    catalog: StationCatalog,
    radius_m: float | None,
    minutes: float | None,
    speed: str,
    resolution: int,
    demand: str,
    area: Any = None,
    demand_obj: Any = None,
) -> Analysis:
    reach = reach_metres(radius_m, minutes, speed)
    source: Any = SYNTHETIC_DEMAND if demand == "etown-synthetic" else None
    a = Analysis.for_stations(
        list(catalog.all()), area=area, radius_m=reach, resolution=resolution, demand_source=source
    )
    if demand_obj is not None:
        a.demand_source = demand_from_geojson(demand_obj, area=a.area, resolution=resolution)
    return a


@router.get("/coverage", summary="Coverage of the area and its demand by the open stations")
def get_coverage(
    catalog: CatalogDep,
    radius_m: Radius = None,
    minutes: Minutes = None,
    speed: Speed = "walk",
    resolution: Resolution = 9,
    demand: DemandName = "uniform",
) -> dict[str, Any]:
    a = _analysis(catalog, radius_m, minutes, speed, resolution, demand)
    cov = a.coverage()
    return {
        **cov.summary(),
        "demand_label": a.demand.label,
        "demand_synthetic": a.demand.synthetic,
        "stations": coverage_rows(a, cov),
    }


@router.get("/gaps", responses=GEOJSON, summary="Uncovered areas ranked by uncovered demand")
def get_gaps(
    catalog: CatalogDep,
    radius_m: Radius = None,
    minutes: Minutes = None,
    speed: Speed = "walk",
    resolution: Resolution = 9,
    demand: DemandName = "uniform",
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> Any:
    a = _analysis(catalog, radius_m, minutes, speed, resolution, demand)
    found = a.gaps()
    return GeoJSONResponse(
        {
            "type": "FeatureCollection",
            "numberMatched": len(found),
            "features": [
                {"type": "Feature", "geometry": mapping(g.polygon), "properties": g.properties()}
                for g in found[:limit]
            ],
        }
    )


class PlanRequest(BaseModel):
    """Body of ``POST /api/v1/plan``: how many sites (or a target share) and the inputs."""

    model_config = ConfigDict(extra="forbid")

    new_sites: int | None = Field(None, ge=1, le=500)
    target_share: float | None = Field(None, gt=0, le=1)
    radius_m: float | None = Field(None, gt=0, le=100_000)
    minutes: float | None = Field(None, gt=0, le=600)
    speed: Literal["walk", "ebike"] = "walk"
    resolution: int = Field(9, ge=5, le=11)
    demand: Literal["uniform", "etown-synthetic"] | dict[str, Any] = "uniform"
    candidates: dict[str, Any] | None = Field(
        None, description="GeoJSON FeatureCollection of candidate points (properties.name)"
    )
    area: dict[str, Any] | None = Field(None, description="GeoJSON polygon of the area")
    crs: CrsName = CrsName.wgs84
    method: Literal["auto", "exact", "greedy"] = "auto"


def _candidates(obj: dict[str, Any], crs: str) -> Candidates:
    feats = obj.get("features") if obj.get("type") == "FeatureCollection" else None
    if not isinstance(feats, list) or not feats:
        raise ValidationFailed(
            [FieldError("candidates", "must be a non-empty GeoJSON FeatureCollection of points")]
        )
    lons, lats, labels, errors = [], [], [], []
    for i, f in enumerate(feats, start=1):
        geom = (f or {}).get("geometry") or {}
        coords = geom.get("coordinates")
        ok = (
            geom.get("type") == "Point"
            and isinstance(coords, list)
            and len(coords) >= 2
            and all(isinstance(c, int | float) for c in coords[:2])
            and abs(coords[0]) <= 180
            and abs(coords[1]) <= 90
        )
        if not ok:
            errors.append(
                FieldError(f"candidates.features[{i}]", "must be a Point with valid lon/lat")
            )
            continue
        lons.append(float(coords[0]))
        lats.append(float(coords[1]))
        props = f.get("properties") or {}
        labels.append(str(props.get("name") or f"#{i}"))
    if errors:
        raise ValidationFailed(errors)
    lon, lat = to_wgs84(np.array(lons), np.array(lats), crs)
    return Candidates(np.asarray(lon, float), np.asarray(lat, float), labels)


@router.post("/plan", summary="Where new stations would newly cover the most demand")
def post_plan(body: PlanRequest, catalog: CatalogDep) -> dict[str, Any]:
    if (body.new_sites is None) == (body.target_share is None):
        raise ValidationFailed(
            [FieldError("new_sites", "give new_sites or target_share (exactly one)")]
        )
    area = area_from_geojson(body.area, crs=body.crs.value) if body.area else None
    demand = body.demand if isinstance(body.demand, str) else "uniform"
    demand_obj = body.demand if isinstance(body.demand, dict) else None
    a = _analysis(
        catalog, body.radius_m, body.minutes, body.speed, body.resolution, demand, area, demand_obj
    )
    cands = _candidates(body.candidates, body.crs.value) if body.candidates else None
    if body.new_sites is not None:
        plan, used = a.plan(body.new_sites, cands, body.method)
    else:
        assert body.target_share is not None
        plan, used = a.min_sites(body.target_share, cands, body.method)
    out = plan.to_dict()
    for site, row in zip(out["sites"], plan.sites, strict=True):
        site["label"] = used.labels[row.candidate_index]
    out["radius_m"] = a.radius_m
    out["demand_label"] = a.demand.label
    return out
