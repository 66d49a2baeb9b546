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

__all__ = [
    "coverage_rows",
    "gap_rows",
    "plan_explanation",
    "reach_text",
    "site_rows",
    "summary_rows",
    "write_report",
]

FORMATS = (".xlsx", ".geojson", ".json", ".csv")


def reach_text(analysis: Analysis) -> str:
    """Which reach was used, in words (Chinese first): every output says it."""
    from geodata.coverage import describe_reach

    info = describe_reach(analysis.reach)
    if analysis.rule == "double15":
        where = "路网" if info.get("kind") == "network" else "直线（未提供路网）"
        return f"双15：1 km 直线且步行 15 分钟（{where}）double15: 1 km AND 15 min walk"
    if info.get("kind") == "network":
        net = info["network"]
        return (
            f"{info['mode_zh']}路网 {info['minutes']:.0f} 分钟（{info['budget_m']:.0f} m，"
            f"{net['source']}）street network, {info['mode']}"
        )
    return f"直线 {info['radius_m']:.0f} m straight line"


def _demand_unit(analysis: Analysis) -> str:
    return "km²" if analysis.uniform else "需求权重 weight"


def _cell_km2(analysis: Analysis) -> float:
    import h3

    return float(h3.average_hexagon_area(analysis.resolution, "km^2"))


def summary_rows(
    analysis: Analysis, cov: CoverageResult, plan: PlanResult | None = None
) -> list[tuple[str, Any]]:
    """(label, value) pairs for the summary sheet and the CLI."""
    s = cov.summary()
    sel = analysis.selection
    rows: list[tuple[str, Any]] = [
        ("覆盖口径 reach", reach_text(analysis)),
        ("驿站数（计入）stations counted", s["n_stations"]),
        ("服务区面积 area (km²)", round(s["area_km2"], 3)),
        ("覆盖面积 covered area (km²)", round(s["covered_area_km2"], 3)),
        ("面积覆盖率 area covered", f"{s['covered_area_share']:.1%}"),
        ("需求总量 demand", round(s["total_weight"], 3)),
        ("需求覆盖率 demand covered (≥1)", f"{s['covered_weight_share']:.1%}"),
        ("交叉覆盖率 double covered (≥2)", f"{s['double_covered_weight_share']:.1%}"),
        ("平均距离 mean distance (m)", _round(s["mean_distance_m"])),
        ("中位距离 median distance (m)", _round(s["median_distance_m"])),
        ("95% 距离 p95 distance (m)", _round(s["p95_distance_m"])),
        (
            "需求图层 demand layer",
            "均匀分布（每个网格计 1）uniform"
            if analysis.uniform
            else analysis.demand.label
            + (
                "（合成 synthetic）"
                if analysis.demand.synthetic and "synthetic" not in analysis.demand.label.lower()
                else ""
            ),
        ),
        ("网格分辨率 grid resolution (H3)", analysis.resolution),
    ]
    if sel is not None:
        if sel.at is not None:
            rows.append(("时刻 at", sel.at.isoformat(timespec="minutes")))
            rows.append(("此时休息中 closed then", len(sel.closed_at_time)))
            rows.append(
                ("营业时间未知（未计入）hours unknown, not counted", len(sel.unknown_hours))
            )
        if sel.closed_by_user:
            rows.append(("假设关闭 closed (what-if)", len(sel.closed_by_user)))
    far = analysis.snap_warnings()
    if far:
        rows.append(
            (
                "距道路超过 300 m 的驿站 stations > 300 m from a street",
                "、".join(f"{st.data.name}（{d:.0f} m）" for st, d in far),
            )
        )
    if plan is not None:
        unit = _demand_unit(analysis)
        factor = _cell_km2(analysis) if analysis.uniform else 1.0
        rows += [
            ("新增站点 new sites", len(plan.sites)),
            (f"新增覆盖需求 newly covered ({unit})", round(plan.new_covered_weight * factor, 3)),
            ("规划后需求覆盖率 covered after plan", f"{plan.covered_share:.1%}"),
            ("求解方法 method", plan.method + (f" (gap {plan.gap:.2%})" if plan.gap else "")),
        ]
        for line in plan_explanation(analysis, plan):
            rows.append(("说明 note", line))
    return rows


def plan_explanation(analysis: Analysis, plan: PlanResult) -> list[str]:
    """Why the plan is as it is, in Chinese: the negligible-gain stop, uniform demand."""
    out: list[str] = []
    total = plan.total_weight or 1.0
    limit = plan.min_gain_weight / total
    if plan.negligible_sites and plan.best_negligible_gain is not None:
        best = plan.best_negligible_gain / total
        lead = "没有值得新开的站点" if not plan.sites else "其余候选点不再列出"
        out.append(
            f"{lead}：每个候选点新增覆盖的需求都不足总需求的 {limit:.0%}"
            f"（最多 {best:.2%}），这样的站点不会让覆盖率提高一个百分点，不值得新开。"
            "可用 --min-gain 调整门槛。"
        )
    if analysis.uniform:
        out.append(
            "当前需求为均匀分布（每个网格计 1），排名只反映新增覆盖面积（km²），"
            "不反映骑手在哪里。请提供需求图层（如驿站服务人次、地图搜索量或自有数据，--demand）"
            "后再规划。"
        )
    if plan.method == "greedy-backup":
        out.append("本方案以交叉覆盖为目标：让更多需求在两个驿站的服务范围内，现有驿站全部保留。")
    return out


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _coords(lon: float, lat: float, crs: str) -> tuple[float, float]:
    from geodata.crs import from_wgs84

    x, y = from_wgs84(lon, lat, crs)
    return round(float(x), 7), round(float(y), 7)


def site_rows(
    plan: PlanResult, cands: Candidates, analysis: Analysis | None = None, crs: str = "wgs84"
) -> list[dict[str, Any]]:
    """One row per chosen site, in rank order, with its coordinates in ``crs``."""
    uniform = analysis is not None and analysis.uniform
    factor = _cell_km2(analysis) if uniform and analysis is not None else 1.0
    unit = "km²" if uniform else "需求权重"
    total = plan.total_weight or 1.0
    rows = []
    for s in plan.sites:
        x, y = _coords(s.lon, s.lat, crs)
        rows.append(
            {
                "rank 排名": s.rank,
                "label 候选点": cands.labels[s.candidate_index],
                f"lon 经度 ({crs})": x,
                f"lat 纬度 ({crs})": y,
                f"新增覆盖需求 newly covered ({unit})": round(s.marginal_gain * factor, 3),
                "新增占比 share of demand": f"{s.marginal_gain / total:.2%}",
                "累计覆盖率 cumulative": f"{s.cumulative_share:.1%}",
            }
        )
    return rows


def gap_rows(found: list[Gap], crs: str = "wgs84") -> list[dict[str, Any]]:
    """One row per gap, largest first, with its centre in ``crs``."""
    rows = []
    for g in found:
        x, y = _coords(g.centroid_lon, g.centroid_lat, crs)
        row: dict[str, Any] = {
            "rank 排名": g.rank,
            "未覆盖需求 uncovered demand": round(g.uncovered_weight, 3),
            "面积 area (km²)": round(g.area_km2, 3),
            f"中心经度 centre lon ({crs})": x,
            f"中心纬度 centre lat ({crs})": y,
        }
        if g.street is not None:
            row["最近道路 nearest street"] = g.street
        rows.append(row)
    return rows


def coverage_rows(analysis: Analysis, cov: CoverageResult) -> list[dict[str, Any]]:
    """Per station: its catchment and its criticality (demand only it reaches)."""
    return [
        {
            "id": s.id,
            "external_id": s.data.external_id or "",
            "name 名称": s.data.name,
            "catchment_weight 服务需求": round(float(cov.catchment_weight_in_reach[i]), 3),
            "catchment_all 最近需求（含超距）": round(float(cov.catchment_weight[i]), 3),
            "criticality 关键度（仅本站覆盖）": round(float(cov.criticality[i]), 3),
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
    crs: str = "wgs84",
) -> Path:
    """Write the results of ``kind`` (coverage | gaps | plan); format from the extension.

    Coordinates in tables are in ``crs``; GeoJSON stays WGS-84 (its standard).  Text cells
    that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``) are quoted.
    """
    out = Path(path)
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise ValidationFailed(
            [
                FieldError.from_catalog(
                    "output",
                    "unsupported report format {suffix!r}; use one of {valid}",
                    str(out),
                    suffix=suffix,
                    valid=", ".join(FORMATS),
                )
            ]
        )
    cov = analysis.coverage()
    if suffix == ".xlsx":
        _write_xlsx(out, analysis, cov, plan, cands, crs)
    elif suffix in (".geojson", ".json"):
        out.write_text(
            json.dumps(_geojson(analysis, cov, plan, kind), ensure_ascii=False), encoding="utf-8"
        )
    else:
        rows = (
            site_rows(plan, cands, analysis, crs)
            if kind == "plan" and plan is not None and cands
            else gap_rows(analysis.gaps(), crs)
            if kind == "gaps"
            else coverage_rows(analysis, cov)
        )
        with out.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]) if rows else ["empty"])
            writer.writeheader()
            writer.writerows({k: _cell(v) for k, v in r.items()} for r in rows)
    return out


def _cell(value: Any) -> Any:
    """A text value a spreadsheet would take for a formula, quoted so it stays text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


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
    crs: str = "wgs84",
) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "摘要 summary"
    ws.append(["指标 item", "数值 value"])
    for label, value in summary_rows(analysis, cov, plan):
        ws.append([label, _cell(value)])
    ws.column_dimensions["A"].width = 34
    sheets: list[tuple[str, list[dict[str, Any]]]] = []
    if plan is not None and cands is not None:
        sheets.append(("新增站点 sites", site_rows(plan, cands, analysis, crs)))
    sheets.append(("空白区 gaps", gap_rows(analysis.gaps(), crs)))
    sheets.append(("驿站服务量 catchment", coverage_rows(analysis, cov)))
    for title, rows in sheets:
        sheet = wb.create_sheet(title)
        header = list(rows[0]) if rows else ["（无 none）"]
        sheet.append(header)
        for row in rows:
            sheet.append([_cell(row[h]) for h in header])
        sheet.freeze_panes = "A2"
    for sheet in wb.worksheets:
        for cell in sheet[1]:
            cell.font = Font(bold=True)
    tmp = out.with_name(out.name + ".tmp")
    wb.save(tmp)
    tmp.replace(out)
