"""Write analysis results for union staff: an .xlsx report to forward, GeoJSON, or CSV.

The xlsx has a summary sheet (Chinese labels first) and one sheet per result: ranked new
sites, gaps, and each station's catchment — what a union clerk attaches to an email.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from shapely.geometry import mapping

from geodata.coverage import CoverageResult, Gap
from geodata.planning import PlanResult
from stations.analysis.service import Analysis, Candidates
from stations.errors import FieldError, ValidationFailed

__all__ = ["coverage_rows", "gap_rows", "site_rows", "summary_rows", "write_report"]

FORMATS = (".xlsx", ".geojson", ".json", ".csv")


def summary_rows(
    analysis: Analysis, cov: CoverageResult, plan: PlanResult | None = None
) -> list[tuple[str, Any]]:
    """(label, value) pairs for the summary sheet and the CLI."""
    s = cov.summary()
    rows: list[tuple[str, Any]] = [
        ("驿站数（开放）stations (open)", s["n_stations"]),
        ("服务半径 reach (m)", round(s["radius_m"], 1)),
        ("服务区面积 area (km²)", round(s["area_km2"], 3)),
        ("覆盖面积 covered area (km²)", round(s["covered_area_km2"], 3)),
        ("面积覆盖率 area covered", f"{s['covered_area_share']:.1%}"),
        ("需求总量 demand", round(s["total_weight"], 3)),
        ("需求覆盖率 demand covered", f"{s['covered_weight_share']:.1%}"),
        ("平均距离 mean distance (m)", _round(s["mean_distance_m"])),
        ("中位距离 median distance (m)", _round(s["median_distance_m"])),
        ("95% 距离 p95 distance (m)", _round(s["p95_distance_m"])),
        (
            "需求图层 demand layer",
            analysis.demand.label
            + (
                "（合成 synthetic）"
                if analysis.demand.synthetic and "synthetic" not in analysis.demand.label.lower()
                else ""
            ),
        ),
        ("H3 分辨率 resolution", analysis.resolution),
    ]
    if plan is not None:
        rows += [
            ("新增站点 new sites", len(plan.sites)),
            ("新增覆盖需求 newly covered", round(plan.new_covered_weight, 3)),
            ("规划后需求覆盖率 covered after plan", f"{plan.covered_share:.1%}"),
            ("求解方法 method", plan.method + (f" (gap {plan.gap:.2%})" if plan.gap else "")),
        ]
    return rows


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def site_rows(plan: PlanResult, cands: Candidates) -> list[dict[str, Any]]:
    return [
        {
            "rank 排名": s.rank,
            "label 候选点": cands.labels[s.candidate_index],
            "lon": round(s.lon, 7),
            "lat": round(s.lat, 7),
            "marginal_gain 新增覆盖": round(s.marginal_gain, 3),
            "cumulative_share 累计覆盖率": round(s.cumulative_share, 4),
        }
        for s in plan.sites
    ]


def gap_rows(found: list[Gap]) -> list[dict[str, Any]]:
    return [
        {
            "rank 排名": g.rank,
            "uncovered_demand 未覆盖需求": round(g.uncovered_weight, 3),
            "area_km2 面积": round(g.area_km2, 3),
            "cells 网格数": g.cell_count,
            "centroid_lon": round(g.centroid_lon, 7),
            "centroid_lat": round(g.centroid_lat, 7),
        }
        for g in found
    ]


def coverage_rows(analysis: Analysis, cov: CoverageResult) -> list[dict[str, Any]]:
    """Per station: demand whose nearest station it is (overloaded vs idle stations)."""
    return [
        {
            "id": s.id,
            "external_id": s.data.external_id or "",
            "name 名称": s.data.name,
            "catchment_weight 服务需求": round(float(cov.catchment_weight_in_reach[i]), 3),
            "catchment_all 最近需求（含超距）": round(float(cov.catchment_weight[i]), 3),
        }
        for i, s in enumerate(analysis.stations)
    ]


def write_report(
    path: str | Path,
    analysis: Analysis,
    *,
    plan: PlanResult | None = None,
    cands: Candidates | None = None,
    kind: str = "coverage",
) -> Path:
    """Write the results of ``kind`` (coverage | gaps | plan); format from the extension."""
    out = Path(path)
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise ValidationFailed(
            [
                FieldError(
                    "output",
                    f"unsupported report format {suffix!r}; use one of {', '.join(FORMATS)}",
                    str(out),
                )
            ]
        )
    cov = analysis.coverage()
    if suffix == ".xlsx":
        _write_xlsx(out, analysis, cov, plan, cands)
    elif suffix in (".geojson", ".json"):
        out.write_text(
            json.dumps(_geojson(analysis, cov, plan, kind), ensure_ascii=False), encoding="utf-8"
        )
    else:
        rows = (
            site_rows(plan, cands)
            if kind == "plan" and plan is not None and cands
            else gap_rows(analysis.gaps())
            if kind == "gaps"
            else coverage_rows(analysis, cov)
        )
        with out.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]) if rows else ["empty"])
            writer.writeheader()
            writer.writerows(rows)
    return out


def _geojson(
    analysis: Analysis, cov: CoverageResult, plan: PlanResult | None, kind: str
) -> dict[str, Any]:
    feats: list[dict[str, Any]] = []
    if kind == "plan" and plan is not None:
        feats = [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [s.lon, s.lat]},
                "properties": s.to_dict(),
            }
            for s in plan.sites
        ]
    elif kind == "gaps":
        feats = [
            {"type": "Feature", "geometry": mapping(g.polygon), "properties": g.properties()}
            for g in analysis.gaps()
        ]
    else:
        covered = cov.covered_geometry()
        feats = [
            {
                "type": "Feature",
                "geometry": None if covered.is_empty else mapping(covered),
                "properties": {"kind": "covered", **cov.summary()},
            }
        ]
    return {"type": "FeatureCollection", "features": feats}


def _write_xlsx(
    out: Path,
    analysis: Analysis,
    cov: CoverageResult,
    plan: PlanResult | None,
    cands: Candidates | None,
) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "摘要 summary"
    ws.append(["指标 item", "数值 value"])
    for label, value in summary_rows(analysis, cov, plan):
        ws.append([label, value])
    ws.column_dimensions["A"].width = 34
    sheets: list[tuple[str, list[dict[str, Any]]]] = []
    if plan is not None and cands is not None:
        sheets.append(("新增站点 sites", site_rows(plan, cands)))
    sheets.append(("空白区 gaps", gap_rows(analysis.gaps())))
    sheets.append(("驿站服务量 catchment", coverage_rows(analysis, cov)))
    for title, rows in sheets:
        sheet = wb.create_sheet(title)
        header = list(rows[0]) if rows else ["（无 none）"]
        sheet.append(header)
        for row in rows:
            sheet.append([row[h] for h in header])
        sheet.freeze_panes = "A2"
    for sheet in wb.worksheets:
        for cell in sheet[1]:
            cell.font = Font(bold=True)
    tmp = out.with_name(out.name + ".tmp")
    wb.save(tmp)
    tmp.replace(out)
