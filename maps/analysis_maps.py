"""Coverage and gap maps: what the stations reach, where they do not, where to add one.

Both pages draw the same plain inputs (``AnalysisData``: WGS-84 GeoJSON of the service
area, the stations, the H3 cells with their demand and covered flag, the gaps and the
planner's ranked sites) — nothing here knows how they were computed. The coverage map leads
with reach circles and covered/uncovered cells; the gap map with the ranked gaps, the
uncovered cells and the suggested sites. A legend says what every colour means, with the
demand classes' numbers, and a summary panel gives the headline figures.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from branca.element import Figure
from shapely.geometry import shape

from maps.basemaps import Basemap, available_basemaps, same_crs
from maps.folium_page import (
    JsonBlock,
    ScriptCall,
    ScriptLayer,
    base_page,
    basemap_links,
    finish_page,
)
from maps.reproject import bounds_of, to_page_crs

__all__ = [
    "AnalysisData",
    "CELL_COLOURS",
    "analysis_map",
    "coverage_map",
    "demand_classes",
    "gap_map",
]

#: Fill colours of cells by demand class (0 = no demand, then low → high).
CELL_COLOURS: dict[str, tuple[str, ...]] = {
    "covered": ("#e0f2e9", "#a5d6a7", "#4caf50", "#1b5e20"),
    "uncovered": ("#eeeeee", "#ffcc80", "#fb8c00", "#c62828"),
}
_STYLE = {
    "area": "#37474f",
    "circle": "#1565c0",
    "station": "#1565c0",
    "gap": "#6a1b9a",
    "site": "#6a1b9a",
}
_EMPTY: dict[str, Any] = {"type": "FeatureCollection", "features": []}


@dataclass(frozen=True)
class AnalysisData:
    """What a coverage or gap map draws, as plain WGS-84 GeoJSON.

    Attributes
    ----------
    area
        The service area: a Polygon/MultiPolygon geometry, Feature or FeatureCollection.
    stations
        Point features; ``properties.name`` is shown on hover. Reach circles are drawn
        around them with ``radius_m``.
    cells
        H3 cell polygons with ``properties.covered`` (bool) and ``properties.weight``
        (demand in the cell, ≥ 0).
    gaps
        Gap polygons with ``rank``, ``uncovered_weight``, ``area_km2``, ``cell_count``.
    sites
        Suggested sites (points) with ``rank`` and, when known, ``added_weight`` (demand
        newly covered) and ``added_share`` (of the total demand).
    summary
        Headline figures: ``covered_weight_share``, ``covered_area_share``,
        ``n_stations``, ``total_weight``… (all optional).
    radius_m, resolution, demand_label
        The analysis settings, repeated in the legend.
    reach_areas
        Per-station reach polygons (street isochrones); when given they are drawn instead
        of the circles.
    reach_label
        Which reach was used, in words (shown in the legend).
    """

    area: dict[str, Any]
    stations: dict[str, Any]
    cells: dict[str, Any]
    radius_m: float
    gaps: dict[str, Any] = field(default_factory=lambda: dict(_EMPTY))
    sites: dict[str, Any] = field(default_factory=lambda: dict(_EMPTY))
    summary: Mapping[str, Any] = field(default_factory=dict)
    resolution: int | None = None
    demand_label: str = ""
    reach_areas: dict[str, Any] = field(default_factory=lambda: dict(_EMPTY))
    reach_label: str = ""


def demand_classes(weights: np.ndarray) -> tuple[np.ndarray, list[float]]:
    """Class of each cell's demand: 0 for none, then 1–3 by terciles of the positive weights.

    Returns the classes and the two break values (empty when all positive weights are
    equal, e.g. uniform demand — then every cell with demand is class 2, "medium").
    """
    w = np.asarray(weights, float)
    classes = np.zeros(w.size, np.int8)
    pos = w > 0
    if not pos.any():
        return classes, []
    low, high = (float(v) for v in np.quantile(w[pos], [1 / 3, 2 / 3]))
    if np.isclose(w[pos].min(), w[pos].max()):
        classes[pos] = 2
        return classes, []
    classes[pos] = 1 + (w[pos] > low).astype(np.int8) + (w[pos] > high).astype(np.int8)
    return classes, [low, high]


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 10 else f"{x:.3g}"


def _cells_with_classes(cells: dict[str, Any]) -> tuple[dict[str, Any], list[float]]:
    feats = cells.get("features", [])
    weights = np.array([float(f["properties"].get("weight", 0.0)) for f in feats], float)
    classes, breaks = demand_classes(weights)
    out = []
    for f, c in zip(feats, classes.tolist(), strict=True):
        p = f["properties"]
        out.append(
            {
                "type": "Feature",
                "geometry": f["geometry"],
                "properties": {
                    "covered": bool(p.get("covered")),
                    "weight": round(float(p.get("weight", 0.0)), 3),
                    "c": c,
                },
            }
        )
    return {"type": "FeatureCollection", "features": out}, breaks


def _class_labels(breaks: list[float]) -> list[str]:
    if not breaks:
        return ["无需求", "有需求"]
    low, high = breaks
    return ["无需求", f"需求低 ≤ {_fmt(low)}", f"需求中 ≤ {_fmt(high)}", f"需求高 > {_fmt(high)}"]


def _legend(
    kind: str, data: AnalysisData, cells: dict[str, Any], breaks: list[float]
) -> dict[str, Any]:
    labels = _class_labels(breaks)
    present = {(f["properties"]["covered"], f["properties"]["c"]) for f in cells["features"]}
    items: list[dict[str, Any]] = []
    for covered, text in ((False, "未覆盖"), (True, "已覆盖")):
        ramp = CELL_COLOURS["covered" if covered else "uncovered"]
        for c in range(len(ramp)):
            if (covered, c) not in present:
                continue
            label = labels[min(c, 1)] if not breaks else labels[c]
            items.append({"color": ramp[c], "shape": "square", "label": f"{text}网格 · {label}"})
    radius = f"{data.radius_m:,.0f} m"
    items.append({"color": _STYLE["area"], "shape": "line", "label": "服务区范围 service area"})
    if kind == "coverage" and data.reach_areas.get("features"):
        items.append(
            {"color": _STYLE["circle"], "shape": "ring", "label": "驿站沿街可达范围 street reach"}
        )
    elif kind == "coverage":
        items.append(
            {"color": _STYLE["circle"], "shape": "ring", "label": f"驿站覆盖圈（半径 {radius}）"}
        )
    items.append({"color": _STYLE["station"], "shape": "dot", "label": "现有驿站 station"})
    if data.gaps.get("features"):
        items.append(
            {
                "color": _STYLE["gap"],
                "shape": "square",
                "fill": "transparent",
                "label": "空白区（按未覆盖需求排名）gap",
            }
        )
    if data.sites.get("features"):
        items.append(
            {
                "color": _STYLE["site"],
                "shape": "dot",
                "label": "建议新站点（数字为排名）suggested site",
            }
        )
    notes = [
        f"覆盖口径：{data.reach_label}"
        if data.reach_areas.get("features")
        else f"覆盖：网格中心到最近驿站的测地距离 ≤ {radius}"
    ]
    if data.resolution is not None:
        notes.append(f"网格：第 {data.resolution} 级六边形网格")
    if data.demand_label:
        notes.append(f"需求：{data.demand_label}")
    title = "覆盖分析 Coverage" if kind == "coverage" else "空白区与选址 Gaps"
    return {"title": title, "items": items, "notes": notes}


def _summary(kind: str, data: AnalysisData) -> dict[str, Any]:
    s = dict(data.summary)
    lines = []
    if "covered_weight_share" in s:
        lines.append(f"需求覆盖率 {100 * float(s['covered_weight_share']):.1f}%")
    if "covered_area_share" in s:
        lines.append(f"面积覆盖率 {100 * float(s['covered_area_share']):.1f}%")
    n_st = s.get("n_stations", len(data.stations.get("features", [])))
    lines.append(f"驿站 {n_st} 个 · 半径 {data.radius_m:,.0f} m")
    n_gaps = len(data.gaps.get("features", []))
    if kind == "gaps" or n_gaps:
        lines.append(f"空白区 {n_gaps} 处")
    n_sites = len(data.sites.get("features", []))
    if n_sites and "covered_share_with_sites" in s:
        lines.append(
            f"新增 {n_sites} 个站点后需求覆盖率 {100 * float(s['covered_share_with_sites']):.1f}%"
        )
    sites = []
    for f in sorted(data.sites.get("features", []), key=lambda f: f["properties"]["rank"]):
        p = f["properties"]
        text = f"#{int(p['rank'])}"
        if p.get("added_weight") is not None:
            text += f" 新增覆盖需求 {_fmt(float(p['added_weight']))}"
        if p.get("added_share") is not None:
            text += f"（{100 * float(p['added_share']):.1f}%）"
        sites.append({"rank": int(p["rank"]), "text": text})
    title = "覆盖分析 Coverage" if kind == "coverage" else "空白区与选址 Gaps & sites"
    return {"title": title, "lines": lines, "sites": sites[:20]}


# part, layer-control name, shown at first on the coverage page, on the gap page
_LAYERS: tuple[tuple[str, str, bool, bool], ...] = (
    ("cells", "网格 cells（按需求着色）", True, True),
    ("area", "服务区 service area", True, True),
    ("circles", "覆盖圈 reach circles", True, False),
    ("gaps", "空白区 gaps", False, True),
    ("stations", "驿站 stations", True, True),
    ("sites", "建议新站点 suggested sites", True, True),
)


def _gap_labels(gaps: dict[str, Any], limit: int = 30) -> dict[str, Any]:
    """A point inside each of the first ``limit`` gaps, carrying its rank (the map's label)."""
    out = []
    for f in gaps.get("features", [])[:limit]:
        point = shape(f["geometry"]).representative_point()
        out.append(
            {
                "type": "Feature",
                "properties": {"rank": f["properties"]["rank"]},
                "geometry": {"type": "Point", "coordinates": [point.x, point.y]},
            }
        )
    return {"type": "FeatureCollection", "features": out}


def analysis_map(
    kind: str,
    data: AnalysisData,
    basemap: Basemap,
    *,
    tianditu_key: str | None = None,
    inline: bool = False,
    title: str | None = None,
) -> Figure:
    """Build the coverage (``kind="coverage"``) or gap (``kind="gaps"``) map page.

    Every layer is converted to the basemap's CRS (GCJ-02 on AMap) before it is embedded.
    ``inline`` writes a self-contained page (no links to other basemap pages).
    """
    if kind not in ("coverage", "gaps"):
        raise ValueError(f"kind must be 'coverage' or 'gaps', not {kind!r}")
    crs = basemap.crs
    cells, breaks = _cells_with_classes(data.cells)
    if kind == "gaps":  # covered cells would only hide what this page is about
        cells = {
            "type": "FeatureCollection",
            "features": [f for f in cells["features"] if not f["properties"]["covered"]],
        }
    layers = {
        "gap_labels": to_page_crs(_gap_labels(data.gaps), crs),
        "area": to_page_crs(data.area, crs, 6),
        "stations": to_page_crs(data.stations, crs),
        "cells": to_page_crs(cells, crs, 6),
        "gaps": to_page_crs(data.gaps, crs, 6),
        "sites": to_page_crs(data.sites, crs),
        "reach_areas": to_page_crs(data.reach_areas, crs, 6),
    }
    default_title = "驿站覆盖分析 Coverage" if kind == "coverage" else "驿站空白区 Gaps"
    figure, m = base_page(
        same_crs(basemap, tianditu_key),
        title=title or default_title,
        assets=["app/map/analysis.js"],
        inline=inline,
    )
    config = {
        "kind": kind,
        "crs": crs,
        "radius_m": data.radius_m,
        "colours": {k: list(v) for k, v in CELL_COLOURS.items()},
        "style": _STYLE,
        "legend": _legend(kind, data, cells, breaks),
        "summary": _summary(kind, data),
        "basemap_links": [] if inline else basemap_links(basemap, available_basemaps(tianditu_key)),
        "bounds": bounds_of(layers["area"]) or bounds_of(layers["stations"]),
    }
    m.add_child(JsonBlock("ws-config", config))
    m.add_child(JsonBlock("ws-analysis", layers))
    for part, name, on_coverage, on_gaps in _LAYERS:
        if part in ("gaps", "sites") and not layers[part]["features"]:
            continue
        show = on_coverage if kind == "coverage" else on_gaps
        m.add_child(
            ScriptLayer(
                "WarmMap.analysisLayer",
                {"config": "ws-config", "data": "ws-analysis", "part": part},
                name=name,
                show=show,
            )
        )
    finish_page(m)  # before the summary panel, so the layer control sits above it
    m.add_child(ScriptCall("WarmMap.analysisPage", {"config": "ws-config"}))
    return figure


def coverage_map(data: AnalysisData, basemap: Basemap, **options: Any) -> Figure:
    """The coverage map (see ``analysis_map``)."""
    return analysis_map("coverage", data, basemap, **options)


def gap_map(data: AnalysisData, basemap: Basemap, **options: Any) -> Figure:
    """The gap map (see ``analysis_map``)."""
    return analysis_map("gaps", data, basemap, **options)
