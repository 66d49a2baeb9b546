"""``/api/v1/coverage``, ``/api/v1/gaps``, ``/api/v1/plan``: the union staff's questions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, Query, Response
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field
from shapely.geometry import mapping

from api.auth import ReaderScope
from api.deps import CatalogDep, SettingsDep
from api.http.params import CrsName
from api.rest.analysis_budget import AnalysisRoute
from api.rest.schemas import GEOJSON, GeoJSONResponse
from api.settings import Settings
from geodata.areas import area_from_geojson
from geodata.coverage import describe_reach
from geodata.crs import from_wgs84, to_wgs84
from geodata.demand import demand_from_geojson
from stations.analysis.report import coverage_rows, plan_explanation
from stations.analysis.service import SYNTHETIC_DEMAND, Analysis, Candidates, reach_metres
from stations.errors import FieldError, ValidationFailed
from stations.orgs.scope import EVERYWHERE, ReadScope
from stations.search import StationCatalog

# Budgeted: anonymous/staff size limits, a wall-clock limit, a worker process, a cache.
router = APIRouter(prefix="/api/v1", tags=["coverage"], route_class=AnalysisRoute)

Radius = Annotated[float | None, Query(gt=0, le=100_000, description="Reach in metres")]
Minutes = Annotated[float | None, Query(gt=0, le=600, description="Reach as minutes")]
Speed = Annotated[Literal["walk", "ebike"], Query(description="walk 4.5 km/h, ebike 15 km/h")]
Resolution = Annotated[int, Query(ge=5, le=11, description="H3 resolution")]
Rule = Annotated[
    Literal["radius", "double15"],
    Query(description="radius (the reach asked for) or double15: 1 km AND a 15-minute walk"),
]
At = Annotated[
    datetime | None,
    Query(description="Only stations open then (local time if no offset), e.g. 2026-12-07T22:00"),
]
Close = Annotated[
    list[str] | None, Query(description="What if: station id or 编号 closed (repeatable)")
]
CloseType = Annotated[
    list[str] | None, Query(description="What if: every station of this host type closed")
]
MaxGap = Annotated[float, Query(gt=0, le=10_000, description="Largest gap piece, km²")]
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
    *,
    settings: Settings | None = None,
    rule: str = "radius",
    at: datetime | None = None,
    close: list[str] | None = None,
    close_host_type: list[str] | None = None,
    max_gap_km2: float = 1.0,
    min_gain_pct: float = 1.0,
    scope: ReadScope = EVERYWHERE,
) -> Analysis:
    reach = reach_metres(radius_m, minutes, speed)
    source: Any = SYNTHETIC_DEMAND if demand == "etown-synthetic" else None
    a = Analysis.for_stations(
        catalog.all(),
        area=area,
        radius_m=reach,
        resolution=resolution,
        demand_source=source,
        at=at,
        close=close or (),
        close_host_types=close_host_type or (),
        tz=settings.timezone if settings else "Asia/Shanghai",
        network=settings.network_file if settings else None,
        mode=speed,
        rule=rule,
        max_gap_km2=max_gap_km2,
        min_gain_share=min_gain_pct / 100.0,
        scope=scope,
    )
    if demand_obj is not None:
        a.demand_source = demand_from_geojson(demand_obj, area=a.area, resolution=resolution)
    return a


def _scope(a: Analysis) -> dict[str, Any]:
    """Which reach and which stations an answer used."""
    sel = a.selection
    out: dict[str, Any] = {"reach": describe_reach(a.reach), "rule": a.rule}
    if sel is not None:
        # the organisation counted; None: the whole network
        out["organisation"] = (sel.scope.org_name if sel.scope else "") or None
        out["at"] = sel.at.isoformat() if sel.at else None
        out["closed_what_if"] = [s.id for s in sel.closed_by_user]
        out["closed_at_time"] = [s.id for s in sel.closed_at_time]
        out["unknown_hours"] = [s.id for s in sel.unknown_hours]
    return out


@router.get("/coverage", summary="Coverage of the area and its demand by the open stations")
def get_coverage(
    catalog: CatalogDep,
    settings: SettingsDep,
    scope: ReaderScope,
    radius_m: Radius = None,
    minutes: Minutes = None,
    speed: Speed = "walk",
    resolution: Resolution = 9,
    demand: DemandName = "uniform",
    rule: Rule = "radius",
    at: At = None,
    close: Close = None,
    close_host_type: CloseType = None,
    profile: Annotated[
        bool, Query(description="Coverage at each hour of a weekday and Sunday")
    ] = False,
) -> dict[str, Any]:
    a = _analysis(
        catalog, radius_m, minutes, speed, resolution, demand, settings=settings, rule=rule,
        at=at, close=close, close_host_type=close_host_type, scope=scope,
    )  # fmt: skip
    cov = a.coverage()
    body = {
        **cov.summary(),
        **_scope(a),
        "demand_label": a.demand.label,
        "demand_synthetic": a.demand.synthetic,
        "stations": coverage_rows(a, cov),
    }
    if profile:
        from stations.analysis.profile import day_profile

        body["profile"] = day_profile(a, at, settings.timezone)
    return body


@router.get("/gaps", responses=GEOJSON, summary="Uncovered areas ranked by uncovered demand")
def get_gaps(
    catalog: CatalogDep,
    settings: SettingsDep,
    scope: ReaderScope,
    radius_m: Radius = None,
    minutes: Minutes = None,
    speed: Speed = "walk",
    resolution: Resolution = 9,
    demand: DemandName = "uniform",
    rule: Rule = "radius",
    at: At = None,
    close: Close = None,
    close_host_type: CloseType = None,
    max_gap_km2: MaxGap = 1.0,
    crs: CrsName = CrsName.wgs84,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> Any:
    a = _analysis(
        catalog, radius_m, minutes, speed, resolution, demand, settings=settings, rule=rule,
        at=at, close=close, close_host_type=close_host_type, max_gap_km2=max_gap_km2,
        scope=scope,
    )  # fmt: skip
    found = a.gaps()
    feats = []
    for g in found[:limit]:
        props = g.properties()
        x, y = from_wgs84(g.centroid_lon, g.centroid_lat, crs.value)
        props.update(centre_lon=float(x), centre_lat=float(y), centre_crs=crs.value)
        feats.append({"type": "Feature", "geometry": mapping(g.polygon), "properties": props})
    return GeoJSONResponse(
        {
            "type": "FeatureCollection",
            "numberMatched": len(found),
            "numberReturned": len(feats),
            **_scope(a),
            "features": feats,
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
    backup: bool = Field(False, description="Maximise double coverage (交叉覆盖) instead")
    min_gain_pct: float = Field(
        1.0, ge=0, lt=100, description="Smallest gain worth a new site, % of total demand"
    )
    rule: Literal["radius", "double15"] = "radius"
    at: datetime | None = None
    close: list[str] = Field(default_factory=list, max_length=1000)
    close_host_type: list[str] = Field(default_factory=list, max_length=20)


def _candidates(obj: dict[str, Any], crs: str) -> Candidates:
    feats = obj.get("features") if obj.get("type") == "FeatureCollection" else None
    if not isinstance(feats, list) or not feats:
        raise ValidationFailed(
            [
                FieldError.from_catalog(
                    "candidates", "must be a non-empty GeoJSON FeatureCollection of points"
                )
            ]
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
                FieldError.from_catalog(
                    f"candidates.features[{i}]", "must be a Point with valid lon/lat"
                )
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
def post_plan(
    body: PlanRequest, catalog: CatalogDep, settings: SettingsDep, scope: ReaderScope
) -> dict[str, Any]:
    if (body.new_sites is None) == (body.target_share is None):
        raise ValidationFailed(
            [FieldError.from_catalog("new_sites", "give new_sites or target_share (exactly one)")]
        )
    area = area_from_geojson(body.area, crs=body.crs.value) if body.area else None
    demand = body.demand if isinstance(body.demand, str) else "uniform"
    demand_obj = body.demand if isinstance(body.demand, dict) else None
    a = _analysis(
        catalog, body.radius_m, body.minutes, body.speed, body.resolution, demand, area,
        demand_obj, settings=settings, rule=body.rule, at=body.at, close=body.close,
        close_host_type=body.close_host_type, min_gain_pct=body.min_gain_pct, scope=scope,
    )  # fmt: skip
    cands = _candidates(body.candidates, body.crs.value) if body.candidates else None
    if body.new_sites is not None:
        plan, used = a.plan(body.new_sites, cands, body.method, backup=body.backup)
    else:
        assert body.target_share is not None
        plan, used = a.min_sites(body.target_share, cands, body.method)
    out = plan.to_dict()
    for site, row in zip(out["sites"], plan.sites, strict=True):
        site["label"] = used.labels[row.candidate_index]
    out["radius_m"] = a.radius_m
    out["demand_label"] = a.demand.label
    out["explanation_zh"] = plan_explanation(a, plan)
    out.update(_scope(a))
    return out


@router.get(
    "/stations/{station_id}/reach",
    responses=GEOJSON,
    summary="What is within N minutes of a station: on the street network when one is set",
)
def get_reach(
    station_id: Annotated[int, PathParam(ge=1, le=2**62)],
    catalog: CatalogDep,
    settings: SettingsDep,
    minutes: Annotated[float, Query(gt=0, le=120, description="Travel time")] = 15.0,
    mode: Annotated[Literal["walk", "ebike"], Query(description="walk 4.5 km/h, ebike 15 km/h")] = (
        "walk"
    ),
    crs: CrsName = CrsName.wgs84,
) -> Any:
    from stations.analysis.reach import station_reach

    feature = station_reach(
        catalog.get(station_id), minutes, mode, settings.network_file, crs.value
    )
    return GeoJSONResponse(feature)


@router.get(
    "/coverage/report",
    summary="The coverage report for a meeting: A4 PDF or XLSX (map, 双15 KPIs, gaps, sites)",
    response_class=Response,
    responses={
        200: {
            "content": {
                "application/pdf": {},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
            }
        }
    },
)
def get_report(
    catalog: CatalogDep,
    settings: SettingsDep,
    scope: ReaderScope,
    format: Annotated[Literal["pdf", "xlsx"], Query(description="pdf (A4) or xlsx")] = "pdf",
    demand: DemandName = "uniform",
    new_sites: Annotated[int, Query(ge=0, le=20)] = 5,
) -> Response:
    import tempfile
    from pathlib import Path as FilePath

    from geodata.areas import load_area
    from stations.analysis.leadership import build_report, write_leadership_report

    data = build_report(
        catalog.all(),
        load_area(None),
        network=settings.network_file,
        demand=SYNTHETIC_DEMAND if demand == "etown-synthetic" else None,
        new_sites=new_sites,
        tz=settings.timezone,
        scope=scope,
    )
    with tempfile.TemporaryDirectory() as tmp:
        out = write_leadership_report(FilePath(tmp) / f"report.{format}", data)
        body = out.read_bytes()
    media = (
        "application/pdf"
        if format == "pdf"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    name = f"coverage-report-{data.day:%Y%m%d}.{format}"
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
