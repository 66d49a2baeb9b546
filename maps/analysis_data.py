"""Turn an analysis of a set of stations into what the maps draw.

The maps take plain GeoJSON (``maps.analysis_maps.AnalysisData``); the analysis itself
(coverage, gaps, the H3 grid, the planner) is ``stations.analysis.service.Analysis``, the same one
the CLI and the API use, so a map never disagrees with a report.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import h3
import numpy as np
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from geodata.areas import area_km2
from geodata.coverage import covered_mask, gaps_to_geojson
from geodata.demand import Demand
from geodata.hexgrid import HexGrid, cell_polygons, points_to_cells
from geodata.planning import PlanResult
from geodata.reach import as_reach
from maps.analysis_maps import AnalysisData
from stations.analysis.report import reach_text
from stations.analysis.service import Analysis
from stations.errors import FieldError, ValidationFailed
from stations.model import Station

__all__ = ["MAX_CELLS", "analysis_data", "cell_features"]

#: More cells than this make a page too heavy to draw; ask for a coarser grid instead.
MAX_CELLS = 40_000


def _check_cell_count(n: float, resolution: int) -> None:
    if n > MAX_CELLS:
        raise ValidationFailed(
            [
                FieldError(
                    "resolution",
                    f"the area has about {n:,.0f} H3 cells at resolution {resolution}, "
                    f"more than a map can show ({MAX_CELLS:,}); use a coarser resolution",
                    resolution,
                )
            ]
        )


def cell_features(grid: HexGrid, covered: np.ndarray, weight: np.ndarray) -> dict[str, Any]:
    """The grid's cells as GeoJSON polygons with ``covered`` and ``weight`` properties."""
    polygons = cell_polygons(grid.cells)
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": mapping(poly),
                "properties": {"covered": bool(c), "weight": float(w)},
            }
            for poly, c, w in zip(polygons, covered.tolist(), weight.tolist(), strict=True)
        ],
    }


def _cell_weights(grid: HexGrid, demand: Demand | None) -> np.ndarray:
    if demand is None:
        return np.ones(len(grid))
    if demand.cells is not None and demand.resolution == grid.resolution:
        cells = demand.cells
    else:
        cells = points_to_cells(demand.lon, demand.lat, grid.resolution)
    pos = grid.index_of(cells)
    inside = pos >= 0
    return np.bincount(pos[inside], demand.weight[inside], minlength=len(grid))


def _sites(plan: Sequence[Any], total_weight: float) -> dict[str, Any]:
    """Ranked sites (``geodata.planning.Site`` objects or dicts) as point features."""
    features = []
    for i, site in enumerate(plan, start=1):
        d = site if isinstance(site, dict) else site.to_dict()
        lon, lat = float(d["lon"]), float(d["lat"])
        props: dict[str, Any] = {"rank": int(d.get("rank") or i), "lon": lon, "lat": lat}
        gain = d.get("marginal_gain", d.get("added_weight"))
        if gain is not None:
            props["added_weight"] = float(gain)
            if total_weight > 0:
                props["added_share"] = float(gain) / total_weight
        if d.get("cumulative_share") is not None:
            props["cumulative_share"] = float(d["cumulative_share"])
        features.append(
            {
                "type": "Feature",
                "properties": props,
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _plan(run: Analysis, n: int) -> PlanResult | None:
    """The planner's best ``n`` new sites at uncovered cell centres; None when every cell is
    covered and there is nothing to suggest."""
    try:
        candidates = run.candidates(None)
    except ValidationFailed:
        return None
    return run.plan(min(n, len(candidates)), candidates)[0]


def _reach_areas(run: Analysis) -> dict[str, Any]:
    """Each station's street isochrone (WGS-84) when the reach is on a network; else empty
    (the page draws circles)."""
    reach = run.reach
    if not hasattr(reach, "isochrones") or not len(run.stations):
        return {"type": "FeatureCollection", "features": []}
    from geodata.projection import from_metric

    crs = reach.network.crs
    feats = []
    for st, poly in zip(run.stations, reach.isochrones(run.lon, run.lat), strict=True):
        if poly.is_empty:
            continue
        feats.append(
            {
                "type": "Feature",
                "geometry": mapping(from_metric(poly, crs)),
                "properties": {"id": st.id, "name": st.data.name},
            }
        )
    return {"type": "FeatureCollection", "features": feats}


def analysis_data(
    stations: Sequence[Station],
    area: BaseGeometry,
    *,
    demand: Demand | None = None,
    radius_m: float = 500.0,
    resolution: int = 9,
    new_sites: int = 0,
    sites: Sequence[Any] | None = None,
    network: str | Path | None = None,
    mode: str = "walk",
    rule: str = "radius",
) -> AnalysisData:
    """Coverage, cells and gaps of ``stations`` over ``area`` (WGS-84), ready to draw.

    Parameters
    ----------
    stations
        The stations whose reach is drawn (usually the open ones).
    area
        The service area, a WGS-84 (Multi)Polygon (``geodata.areas.load_area``).
    demand
        Weighted demand points; ``None`` counts every cell the same (uniform demand).
    radius_m, resolution
        Reach in metres and the H3 resolution of the grid.
    new_sites
        How many new sites to ask the planner for (``geodata.planning.plan_sites``, candidates
        at the centres of uncovered cells); 0 for none.
    sites
        Ranked sites chosen elsewhere (``Site`` objects or dicts with ``lon``, ``lat`` and
        optionally ``rank``, ``marginal_gain``), used instead of running the planner.
    network, mode, rule
        An OpenStreetMap street file: reach along the streets by ``mode`` (each station's
        isochrone is drawn instead of its circle); ``rule="double15"`` for 1 km AND 15 min.

    Raises
    ------
    stations.errors.ValidationFailed
        When the grid would have more than ``MAX_CELLS`` cells (choose a coarser resolution).
    """
    # Estimate first: building millions of cells only to refuse them would take seconds.
    _check_cell_count(area_km2(area) / h3.average_hexagon_area(resolution, "km^2"), resolution)
    run = Analysis(
        stations,
        area,
        radius_m=radius_m,
        resolution=resolution,
        demand_source=demand,
        network=network,
        mode=mode,
        rule=rule,
    )
    grid = run.grid
    _check_cell_count(len(grid), resolution)
    result = run.coverage()
    found = run.gaps()
    covered = covered_mask(as_reach(run.reach), run.lon, run.lat, grid.lon, grid.lat)
    weight = _cell_weights(grid, demand)
    summary = result.summary()
    if sites is None and new_sites > 0:
        plan = _plan(run, new_sites)
        if plan is not None:
            sites = plan.sites
            summary["covered_share_with_sites"] = plan.covered_share
    station_fc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [s.data.lon, s.data.lat]},
                "properties": {"id": s.id, "name": s.data.name},
            }
            for s in stations
        ],
    }
    return AnalysisData(
        area=dict(mapping(area)),
        stations=station_fc,
        cells=cell_features(grid, covered, weight),
        radius_m=float(as_reach(run.reach).radius_m),
        reach_areas=_reach_areas(run),
        reach_label=reach_text(run),
        gaps=gaps_to_geojson(found),
        sites=_sites(sites or [], result.total_weight),
        summary=summary,
        resolution=resolution,
        demand_label="均匀分布（每个网格计 1）uniform" if demand is None else demand.label,
    )
