"""The coverage report for the union leadership's meeting: A4 PDF or XLSX, same content.

What it holds: title, district, date; a map of the coverage (drawn with matplotlib from the
geometries — no tiles, no browser controls; the legend sits beside the map, covering
nothing); the KPI table of the "双15" measures (1 km, 15-minute walk, double coverage, night
coverage at 22:00); the ranked gaps and the proposed sites with their street and GCJ-02
coordinates (what Chinese map apps use).

Why ReportLab: a well-kept PDF library with no system dependencies beyond a font; the
Chinese text uses Debian's WenQuanYi Micro Hei or Noto Sans CJK (``fonts-wqy-microhei`` /
``fonts-noto-cjk``).  Station names are user text: ReportLab paragraphs get them escaped,
spreadsheet cells get formula-like text quoted.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shapely.geometry.base import BaseGeometry

from stations.analysis.service import Analysis
from stations.errors import FieldError, ValidationFailed
from stations.i18n import Message
from stations.model import Station

if TYPE_CHECKING:
    from stations.orgs.scope import ReadScope

__all__ = ["CJK_FONTS", "ReportData", "build_report", "write_leadership_report"]

CJK_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)
"""Debian's CJK fonts, tried in this order (install ``fonts-wqy-microhei``)."""

NIGHT_HOUR = 22


@dataclass
class ReportData:
    """Everything a report shows, computed once for both formats."""

    title: str
    district: str
    day: date
    kpis: list[tuple[str, str, str]]
    gaps: list[dict[str, Any]]
    sites: list[dict[str, Any]]
    notes: list[str]
    map_png: bytes = field(repr=False, default=b"")


def _night(day: date) -> datetime:
    """22:00 on the next working day (Mon–Fri) from ``day``."""
    d = day
    while d.weekday() >= 5:
        d += timedelta(days=1)
    return datetime(d.year, d.month, d.day, NIGHT_HOUR, 0)


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def build_report(
    stations: Sequence[Station],
    area: BaseGeometry,
    *,
    network: str | Path | None = None,
    demand: Any = None,
    new_sites: int = 5,
    district: str = "北京经济技术开发区",
    day: date | None = None,
    tz: str = "Asia/Shanghai",
    top: int = 10,
    scope: ReadScope | None = None,
) -> ReportData:
    """Compute the report's content: four coverage runs, gaps and a plan, of the stations
    in ``scope`` (a reader's organisation and below; see
    :func:`stations.analysis.service.select_stations`).
    """
    from geodata.crs import from_wgs84

    day = day or date.today()
    runs = {
        "km": Analysis.for_stations(
            stations, area=area, radius_m=1000.0, demand_source=demand, scope=scope
        ),
        "walk": Analysis.for_stations(
            stations,
            area=area,
            radius_m=1125.0,
            network=network,
            demand_source=demand,
            scope=scope,
        ),
        "rule": Analysis.for_stations(
            stations,
            area=area,
            rule="double15",
            network=network,
            demand_source=demand,
            scope=scope,
        ),
    }
    night_at = _night(day)
    night = Analysis.for_stations(
        stations, area=area, rule="double15", network=network, demand_source=demand,
        at=night_at, tz=tz, scope=scope,
    )  # fmt: skip
    walk_kind = "路网" if network else "直线 1125 m"
    cov = {k: a.coverage() for k, a in runs.items()}
    n_cov = night.coverage()
    sel = night.selection
    kpis = [
        ("1 公里覆盖率 within 1 km", _pct(cov["km"].covered_weight_share), "直线 1 km"),
        (
            "步行 15 分钟覆盖率 15-min walk",
            _pct(cov["walk"].covered_weight_share),
            f"4.5 km/h，{walk_kind}",
        ),
        (
            "双15 覆盖率 double15",
            _pct(cov["rule"].covered_weight_share),
            "1 km 且步行 15 分钟",
        ),
        (
            "交叉覆盖率 double coverage",
            _pct(cov["rule"].double_covered_weight_share),
            "双15 口径下 ≥2 个驿站",
        ),
        (
            "夜间覆盖率 night coverage",
            _pct(n_cov.covered_weight_share),
            f"{night_at:%m-%d %H:%M} 开放的 {len(sel.counted) if sel else 0} 个驿站"
            f"（营业时间未知 {len(sel.unknown_hours) if sel else 0} 个未计入）",
        ),
    ]
    rule = runs["rule"]
    found = rule.gaps()
    gaps = []
    for g in found[:top]:
        x, y = from_wgs84(g.centroid_lon, g.centroid_lat, "gcj02")
        gaps.append(
            {
                "排名 rank": g.rank,
                "面积 km²": round(g.area_km2, 2),
                "未覆盖需求 demand": round(g.uncovered_weight, 1),
                "最近道路 street": g.street or "—",
                "中心 GCJ-02": f"{float(x):.6f}, {float(y):.6f}",
            }
        )
    sites: list[dict[str, Any]] = []
    notes: list[str] = []
    if new_sites > 0:
        from stations.analysis.report import plan_explanation

        try:
            plan, cands = rule.plan(new_sites)
        except ValidationFailed:
            plan = None
        if plan is not None:
            streets = _streets(rule, [s.lon for s in plan.sites], [s.lat for s in plan.sites])
            for s, street in zip(plan.sites, streets, strict=True):
                x, y = from_wgs84(s.lon, s.lat, "gcj02")
                sites.append(
                    {
                        "排名 rank": s.rank,
                        "候选点 site": cands.labels[s.candidate_index],
                        "地址 address": street,
                        "新增覆盖 gain": _pct(s.marginal_gain / plan.total_weight),
                        "GCJ-02": f"{float(x):.6f}, {float(y):.6f}",
                    }
                )
            notes += plan_explanation(rule, plan)
    from stations.analysis.report import reach_text

    notes.insert(
        0,
        f"覆盖口径：{reach_text(rule)}；需求：{'均匀分布' if rule.uniform else rule.demand.label}",
    )
    return ReportData(
        title="户外劳动者暖心驿站覆盖报告",
        district=district,
        day=day,
        kpis=kpis,
        gaps=gaps,
        sites=sites,
        notes=notes,
        map_png=_map_png(rule, found[:top], sites_lonlat=[(s.lon, s.lat) for s in plan.sites]
                         if new_sites > 0 and plan is not None else []),
    )  # fmt: skip


def _streets(run: Analysis, lon: list[float], lat: list[float]) -> list[str]:
    reach = run.reach
    if not lon or not hasattr(reach, "network"):
        return ["—"] * len(lon)
    from geodata.network.snap import nearest_street

    names, _ = nearest_street(reach.network, lon, lat)
    return [n or "—" for n in names]


def _map_png(run: Analysis, gaps: list[Any], sites_lonlat: list[tuple[float, float]]) -> bytes:
    """The coverage map as a PNG: area, reach, stations, top gaps, proposed sites; legend
    below the map, so it covers nothing.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager
    from shapely.plotting import plot_polygon

    font = next((f for f in CJK_FONTS if Path(f).exists()), None)
    if font:
        font_manager.fontManager.addfont(font)
        name = font_manager.FontProperties(fname=font).get_name()
        plt.rcParams["font.sans-serif"] = [name]
    fig, ax = plt.subplots(figsize=(7.0, 6.4), dpi=150)
    cov = run.coverage()
    region = cov.covered_geometry()
    plot_polygon(run.area, ax=ax, add_points=False, facecolor="#fafafa", edgecolor="#37474f",
                 linewidth=1.2, label="服务区 service area")  # fmt: skip
    if not region.is_empty:
        plot_polygon(region, ax=ax, add_points=False, facecolor="#a5d6a7", edgecolor="none",
                     alpha=0.8, label="覆盖范围 covered")  # fmt: skip
    for i, g in enumerate(gaps):
        plot_polygon(g.polygon, ax=ax, add_points=False, facecolor="none", edgecolor="#6a1b9a",
                     linewidth=1.2, label="空白区（前 10）gaps" if i == 0 else None)  # fmt: skip
        p = g.polygon.representative_point()
        ax.annotate(f"{g.rank}", (p.x, p.y), ha="center", va="center", fontsize=7, color="#6a1b9a")
    ax.scatter(run.lon, run.lat, s=8, color="#1565c0", label="驿站 stations", zorder=3)
    if sites_lonlat:
        xs, ys = zip(*sites_lonlat, strict=True)
        ax.scatter(xs, ys, s=60, marker="*", color="#c62828", label="建议新站点 sites", zorder=4)
    ax.set_aspect(1 / 0.7674)  # 1° lon vs 1° lat at 39.8° N
    ax.set_axis_off()
    fig.legend(loc="lower center", ncol=3, frameon=False, fontsize=8)
    fig.subplots_adjust(left=0.01, right=0.99, top=0.99, bottom=0.1)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def _font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    for path in CJK_FONTS:
        if Path(path).exists():
            pdfmetrics.registerFont(TTFont("CJK", path, subfontIndex=0))
            return "CJK"
    raise ValidationFailed(
        [
            FieldError.from_catalog(
                "font", "no Chinese font found: install Debian's fonts-wqy-microhei"
            )
        ]
    )


def _write_pdf(path: Path, data: ReportData) -> None:
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = _font()
    h1 = ParagraphStyle("h1", fontName=font, fontSize=18, leading=24, spaceAfter=4)
    h2 = ParagraphStyle("h2", fontName=font, fontSize=12, leading=16, spaceBefore=8)
    body = ParagraphStyle("body", fontName=font, fontSize=8.5, leading=12)

    def table(rows: list[list[Any]], widths: list[float]) -> Table:
        cells = [[Paragraph(escape(str(v)), body) for v in r] for r in rows]
        t = Table(cells, colWidths=[w * mm for w in widths], repeatRows=1)
        t.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eceff1")),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ]
            )
        )
        return t

    story: list[Any] = [
        Paragraph(escape(data.title), h1),
        Paragraph(escape(f"{data.district} · {data.day:%Y年%m月%d日}"), body),
        Spacer(1, 4 * mm),
        Image(io.BytesIO(data.map_png), width=150 * mm, height=137 * mm),
        Paragraph("主要指标 Key figures", h2),
        table([["指标", "数值", "口径"], *[list(k) for k in data.kpis]], [55, 25, 95]),
    ]
    if data.gaps:
        story += [
            Paragraph("空白区（按未覆盖需求排名）Gaps", h2),
            table([list(data.gaps[0]), *[list(g.values()) for g in data.gaps]], [15, 20, 25, 45, 70]),
        ]  # fmt: skip
    story.append(Paragraph("建议新增站点 Proposed sites", h2))
    if data.sites:
        story.append(
            table([list(data.sites[0]), *[list(s.values()) for s in data.sites]], [15, 30, 45, 25, 60])
        )  # fmt: skip
    else:
        story.append(Paragraph("无（见说明）", body))
    for note in data.notes:
        story.append(Paragraph(escape(note), body))
    tmp = path.with_name(path.name + ".tmp")
    doc = SimpleDocTemplate(
        str(tmp), pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm,
        bottomMargin=15 * mm, title=data.title, author="Warm Stations",
    )  # fmt: skip
    doc.build(story)
    tmp.replace(path)


def _write_xlsx(path: Path, data: ReportData) -> None:
    from openpyxl import Workbook
    from openpyxl.drawing.image import Image as XlImage
    from openpyxl.styles import Font

    from stations.analysis.report import _cell

    wb = Workbook()
    ws = wb.active
    ws.title = "指标 KPI"
    ws.append([data.title])
    ws.append([f"{data.district} · {data.day:%Y-%m-%d}"])
    ws.append([])
    ws.append(["指标", "数值", "口径"])
    for row in data.kpis:
        ws.append(list(row))
    ws.append([])
    for note in data.notes:
        ws.append([_cell(note)])
    ws.column_dimensions["A"].width = 34
    ws.column_dimensions["C"].width = 40
    ws["A1"].font = Font(bold=True, size=14)
    for title, rows in (("空白区 gaps", data.gaps), ("建议新站点 sites", data.sites)):
        sheet = wb.create_sheet(title)
        header = list(rows[0]) if rows else ["（无 none）"]
        sheet.append(header)
        for r in rows:
            sheet.append([_cell(r[h]) for h in header])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
    pic = wb.create_sheet("地图 map")
    img = XlImage(io.BytesIO(data.map_png))
    pic.add_image(img, "A1")
    tmp = path.with_name(path.name + ".tmp")
    wb.save(tmp)
    tmp.replace(path)


def write_leadership_report(path: str | Path, data: ReportData) -> Path:
    """Write the report as ``.pdf`` (A4) or ``.xlsx`` (same content), atomically."""
    out = Path(path)
    suffix = out.suffix.lower()
    if suffix == ".pdf":
        _write_pdf(out, data)
    elif suffix == ".xlsx":
        _write_xlsx(out, data)
    else:
        raise ValidationFailed(
            [
                FieldError.from_catalog(
                    "output",
                    "the report must end in .pdf or .xlsx, not {suffix}",
                    str(out),
                    suffix=suffix or Message("nothing"),
                )
            ]
        )
    return out
