"""``stations coverage | gaps | plan``: what union staff ask of their network."""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from cli.common import (
    ReadAsOpt,
    app,
    console,
    err_console,
    open_configured_store,
    read_scope_as,
    settings,
)
from geodata.crs import CrsName

if TYPE_CHECKING:
    from stations.analysis.service import Analysis

# stations.analysis.service and its report writer (shapely, h3, pulp, openpyxl: ~0.3 s) are imported
# by these commands only, not on every start of the CLI (an import of 100k rows counts it).

__all__ = ["coverage_cmd", "gaps_cmd", "plan_cmd", "report_cmd"]

RadiusOpt = Annotated[
    float | None, typer.Option("--radius-m", help="覆盖半径，米（默认 500）/ reach in metres (500)")
]
MinutesOpt = Annotated[
    float | None, typer.Option(help="按出行分钟数计算覆盖 / reach as minutes of travel")
]
SpeedOpt = Annotated[
    str,
    typer.Option(
        help="出行速度：步行 walk（4.5 km/h）| 电动车 ebike（15 km/h）| 数字 km/h / travel speed"
    ),
]
AreaOpt = Annotated[
    Path | None,
    typer.Option(
        help="服务区范围多边形（GeoJSON/GPKG/SHP），默认经开区 / service area polygon; default: the E-Town area",
        exists=True,
    ),
]
AreaCrsOpt = Annotated[
    CrsName, typer.Option(help="服务区（--area）顶点的坐标系 / CRS of --area vertices")
]
DemandOpt = Annotated[
    str | None,
    typer.Option(
        help="需求图层：文件（带权点或面）、etown-synthetic（经开区合成需求）、"
        "visits（到站签到）或 searches（骑手搜索位置）；默认在服务区内均匀分布 / "
        "demand layer: a file (weighted points or polygons), 'etown-synthetic', "
        "'visits' (check-ins) or 'searches' (where riders searched from); "
        "default: uniform over the area"
    ),
]
ResOpt = Annotated[int, typer.Option(min=5, max=11, help="六边形网格精度（5–11）/ H3 resolution")]
JsonOpt = Annotated[bool, typer.Option("--json", help="在标准输出打印 JSON / JSON on stdout")]
OutOpt = Annotated[
    Path | None,
    typer.Option("-o", "--output", help="输出报告文件 .xlsx | .geojson | .csv / report file"),
]
NetworkOpt = Annotated[
    Path | None,
    typer.Option(
        "--network",
        exists=True,
        dir_okay=False,
        help="路网文件（OpenStreetMap .osm.pbf | .osm）：沿路网计算覆盖；默认 STATIONS_NETWORK_FILE，"
        "没有则按直线距离 / OpenStreetMap streets: reach along streets; "
        "default STATIONS_NETWORK_FILE, else straight line",
    ),
]
RuleOpt = Annotated[
    str,
    typer.Option(
        "--rule",
        help="覆盖规则：radius 半径 | double15 双15（1 公里且步行 15 分钟）/ coverage rule",
    ),
]
AtOpt = Annotated[
    str | None,
    typer.Option(
        "--at",
        help="只算该时刻开放的驿站（当地时间），如 2026-12-07T22:00 / only stations open then",
    ),
]
CloseOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--close",
        help="假设关闭：驿站 id 或编号（可重复）/ what if: station id or code closed (repeatable)",
    ),
]
CloseTypeOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--close-host-type",
        help="假设关闭某类承建单位的全部驿站 / what if: all stations of a host type closed",
    ),
]
MaxGapOpt = Annotated[
    float,
    typer.Option(
        "--max-gap-km2",
        min=0.01,
        help="每块空白区的最大面积，km²（默认 1）/ largest gap piece in km² (1)",
    ),
]
CrsOpt = Annotated[
    CrsName, typer.Option("--crs", help="打印坐标所用的坐标系 / CRS of the coordinates printed")
]
MinGainOpt = Annotated[
    float,
    typer.Option(
        "--min-gain",
        min=0,
        max=99,
        help="新选址最小增益，占总需求的百分比（1 即一个百分点）/ "
        "smallest gain worth a new site, % of total demand",
    ),
]


def _speed(value: str) -> str | float:
    try:
        return float(value)
    except ValueError:
        return value


def _parse_at(at: str | None) -> datetime | None:
    if at is None:
        return None
    try:
        return datetime.fromisoformat(at.strip())
    except ValueError:
        raise typer.BadParameter(
            f"{at!r} is not a date and time like 2026-12-07T22:00 (时间格式错误)",
            param_hint="--at",
        ) from None


@dataclass(frozen=True)
class _Scope:
    """The options every analysis command shares: what counts as reach, where, which demand
    and which stations."""

    radius_m: float | None
    minutes: float | None
    speed: str
    area: Path | None
    area_crs: CrsName
    demand: str | None
    resolution: int
    network: Path | None
    rule: str
    at: str | None
    close: list[str] | None
    close_host_type: list[str] | None
    as_user: str | None


#: ``_Scope``'s fields as command options, in the order ``--help`` lists them.
_SCOPE_OPTIONS: tuple[tuple[str, Any, Any], ...] = (
    ("radius_m", RadiusOpt, None),
    ("minutes", MinutesOpt, None),
    ("speed", SpeedOpt, "walk"),
    ("area", AreaOpt, None),
    ("area_crs", AreaCrsOpt, CrsName.wgs84),
    ("demand", DemandOpt, None),
    ("resolution", ResOpt, 9),
    ("network", NetworkOpt, None),
    ("rule", RuleOpt, "radius"),
    ("at", AtOpt, None),
    ("close", CloseOpt, None),
    ("close_host_type", CloseTypeOpt, None),
    ("as_user", ReadAsOpt, None),
)


def _analysis_command(name: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Register ``fn`` as command ``name``, its ``scope`` parameter spelled out as the shared
    options (declared once, in :data:`_SCOPE_OPTIONS`) and handed to it as one ``_Scope``."""

    def register(fn: Callable[..., None]) -> Callable[..., None]:
        own = list(inspect.signature(fn, eval_str=True).parameters.values())
        at = [p.name for p in own].index("scope")
        shared = [
            inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=d, annotation=t)
            for n, t, d in _SCOPE_OPTIONS
        ]
        params = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own]
        params[at : at + 1] = shared

        @functools.wraps(fn)
        def command(**options: Any) -> None:
            scope = _Scope(**{n: options.pop(n) for n, _, _ in _SCOPE_OPTIONS})
            fn(scope=scope, **options)

        command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in params}
        del command.__wrapped__  # typer reads the signature above, not fn's
        app.command(name)(command)
        return fn

    return register


def _analysis(scope: _Scope, *, max_gap_km2: float = 1.0, min_gain: float = 1.0) -> Analysis:
    from stations.analysis.service import Analysis, reach_metres

    reach = reach_metres(scope.radius_m, scope.minutes, _speed(scope.speed))
    cfg = settings()
    store = open_configured_store()
    demand = scope.demand
    source: Any = demand
    try:
        stations = store.all()
        readable = read_scope_as(store, scope.as_user)
        if demand in ("visits", "searches"):  # check-ins or searches from the database
            from zoneinfo import ZoneInfo

            from stations.visits.demand import demand_from_store

            source = demand_from_store(
                store,
                demand,
                today=datetime.now(ZoneInfo(cfg.timezone)).date(),
                resolution=scope.resolution,
            )
    finally:
        store.close()
    speed = str(scope.speed).strip().lower()
    return Analysis.for_stations(
        stations,
        area=scope.area,
        area_crs=scope.area_crs.value,
        at=_parse_at(scope.at),
        close=scope.close or (),
        close_host_types=scope.close_host_type or (),
        tz=cfg.timezone,
        radius_m=reach,
        resolution=scope.resolution,
        demand_source=source,
        network=scope.network if scope.network is not None else cfg.network_file,
        mode="ebike" if speed in ("ebike", "e-bike") else "walk",
        rule=scope.rule,
        max_gap_km2=max_gap_km2,
        min_gain_share=min_gain / 100.0,
        scope=readable,
        progress=lambda step: err_console.print(f"… {step}", highlight=False, markup=False),
    )


def _print_summary(rows: list[tuple[str, Any]]) -> None:
    table = Table(show_header=False)
    for label, value in rows:
        table.add_row(label, str(value))
    console.print(table)


def _rows_table(title: str, rows: list[dict[str, Any]]) -> None:
    table = Table(title=title)
    if not rows:
        console.print(f"{title}: —")
        return
    for h in rows[0]:
        table.add_column(h)
    for r in rows:
        table.add_row(*[str(v) for v in r.values()])
    console.print(table)


def _scope_json(a: Analysis) -> dict[str, Any]:
    """Which reach and which stations an answer used (every JSON output carries it)."""
    from geodata.coverage import describe_reach

    sel = a.selection
    out: dict[str, Any] = {"reach": describe_reach(a.reach), "rule": a.rule}
    if sel is not None:
        # the organisation counted; None: the whole network
        out["organisation"] = (sel.scope.org_name if sel.scope else "") or None
        out["at"] = sel.at.isoformat() if sel.at else None
        out["stations_counted"] = len(sel.counted)
        out["closed_what_if"] = [s.id for s in sel.closed_by_user]
        out["closed_at_time"] = [s.id for s in sel.closed_at_time]
        out["unknown_hours"] = [s.id for s in sel.unknown_hours]
    out["far_from_street"] = [
        {"id": st.id, "name": st.data.name, "snap_m": round(d, 1)} for st, d in a.snap_warnings()
    ]
    return out


@_analysis_command("coverage")
def coverage_cmd(
    *,
    scope: _Scope,
    profile: Annotated[
        bool,
        typer.Option(
            "--profile",
            help="工作日和周日每小时的覆盖 / coverage at each hour of a weekday and a Sunday",
        ),
    ] = False,
    as_json: JsonOpt = False,
    output: OutOpt = None,
) -> None:
    """覆盖分析 / Coverage: demand within reach of ≥1 and ≥2 stations, distances, criticality."""
    from stations.analysis.report import coverage_rows, summary_rows, write_report

    a = _analysis(scope)
    cov = a.coverage()
    hours = None
    if profile:
        from stations.analysis.profile import day_profile

        hours = day_profile(a, _parse_at(scope.at))
    if output is not None:
        write_report(output, a, kind="coverage")
        err_console.print(f"已写入 written {output}", highlight=False, markup=False)
    if as_json:
        body = {**cov.summary(), **_scope_json(a), "stations": coverage_rows(a, cov)}
        if hours is not None:
            body["profile"] = hours
        print(json.dumps(body, ensure_ascii=False, indent=1))
        return
    _print_summary(summary_rows(a, cov))
    critical = sorted(coverage_rows(a, cov), key=lambda r: -r["criticality 关键度（仅本站覆盖）"])
    _rows_table("最关键的驿站 most critical stations", critical[:10])
    if hours is not None:
        _rows_table("全天覆盖 coverage by hour", hours)


@_analysis_command("gaps")
def gaps_cmd(
    *,
    scope: _Scope,
    max_gap_km2: MaxGapOpt = 1.0,
    crs: CrsOpt = CrsName.wgs84,
    as_json: JsonOpt = False,
    output: OutOpt = None,
    top: Annotated[int, typer.Option(min=1, help="列出的空白区块数 / gaps to list")] = 20,
) -> None:
    """空白区 / Gaps: uncovered pieces (≤ --max-gap-km2), ranked by uncovered demand, then area."""
    from geodata.crs import from_wgs84
    from stations.analysis.report import gap_rows, write_report

    a = _analysis(scope, max_gap_km2=max_gap_km2)
    found = a.gaps()
    if output is not None:
        write_report(output, a, kind="gaps", crs=crs.value)
        err_console.print(f"已写入 written {output}", highlight=False, markup=False)
    if as_json:
        items = []
        for g in found[:top]:
            props = g.properties()
            x, y = from_wgs84(g.centroid_lon, g.centroid_lat, crs.value)
            props.update(centre_lon=float(x), centre_lat=float(y), crs=crs.value)
            items.append(props)
        body = {"gaps": items, "number_matched": len(found), **_scope_json(a)}
        print(json.dumps(body, ensure_ascii=False, indent=1))
        return
    console.print(f"覆盖口径 reach: {_reach_line(a)}", highlight=False, markup=False)
    _rows_table(
        f"空白区 gaps: {len(found)}（每块 ≤ {max_gap_km2:g} km²）", gap_rows(found[:top], crs.value)
    )


def _reach_line(a: Analysis) -> str:
    from stations.analysis.report import reach_text

    return reach_text(a)


@_analysis_command("plan")
def plan_cmd(
    *,
    new_sites: Annotated[
        int | None, typer.Option(min=1, help="新选址数量 / how many new sites")
    ] = None,
    target: Annotated[
        float | None,
        typer.Option(
            help="改为求达到该需求覆盖率的最少选址数，如 0.8 / instead: fewest sites to reach this coverage"
        ),
    ] = None,
    candidates: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            help="候选选址（任一驿站表格格式），默认未覆盖网格中心 / candidate hosts; default: centres of uncovered cells",
        ),
    ] = None,
    candidates_crs: Annotated[
        CrsName, typer.Option(help="候选选址（--candidates）的坐标系 / CRS of --candidates")
    ] = CrsName.wgs84,
    method: Annotated[
        str, typer.Option(help="求解方法：auto 自动 | exact 精确 | greedy 贪心 / solver method")
    ] = "auto",
    backup: Annotated[
        bool,
        typer.Option(
            "--backup",
            help="改为最大化交叉覆盖（两座驿站同时覆盖）/ maximise double coverage instead",
        ),
    ] = False,
    scope: _Scope,
    min_gain: MinGainOpt = 1.0,
    crs: CrsOpt = CrsName.wgs84,
    as_json: JsonOpt = False,
    output: OutOpt = None,
) -> None:
    """选址建议 / Plan: where new stations would newly cover the most demand (ranked)."""
    if (new_sites is None) == (target is None):
        raise typer.BadParameter("give --new-sites N or --target SHARE", param_hint="--new-sites")
    from stations.analysis.report import plan_explanation, site_rows, summary_rows, write_report
    from stations.analysis.service import load_candidates

    a = _analysis(scope, min_gain=min_gain)
    given = load_candidates(candidates, candidates_crs.value) if candidates else None
    if new_sites is not None:
        plan, cands = a.plan(new_sites, given, method, backup=backup)
    else:
        assert target is not None
        plan, cands = a.min_sites(target, given, method)
    if output is not None:
        write_report(output, a, plan=plan, cands=cands, kind="plan", crs=crs.value)
        err_console.print(f"已写入 written {output}", highlight=False, markup=False)
    if as_json:
        body = plan.to_dict()
        for site, row in zip(body["sites"], plan.sites, strict=True):
            site["label"] = cands.labels[row.candidate_index]
        body["explanation_zh"] = plan_explanation(a, plan)
        body.update(_scope_json(a))
        print(json.dumps(body, ensure_ascii=False, indent=1))
        return
    _print_summary(summary_rows(a, a.coverage(), plan))
    _rows_table("建议新增站点 suggested sites", site_rows(plan, cands, a, crs.value))


@app.command("report")
def report_cmd(
    output: Annotated[
        Path,
        typer.Option(
            "-o",
            "--output",
            dir_okay=False,
            help="要写入的报告文件，如 覆盖报告.pdf | .xlsx / the report file",
        ),
    ],
    area: AreaOpt = None,
    area_crs: AreaCrsOpt = CrsName.wgs84,
    demand: DemandOpt = None,
    network: NetworkOpt = None,
    new_sites: Annotated[
        int, typer.Option(min=0, max=50, help="建议的新选址数（默认 5）/ sites to propose (5)")
    ] = 5,
    district: Annotated[
        str, typer.Option(help="标题中的区县名称 / district named in the title")
    ] = "北京经济技术开发区",
    as_user: ReadAsOpt = None,
) -> None:
    """覆盖报告 / Report for the leadership meeting: map, 双15 KPIs, gaps, sites (A4 PDF or XLSX)."""
    from geodata.areas import load_area
    from stations.analysis.leadership import build_report, write_leadership_report

    cfg = settings()
    store = open_configured_store()
    try:
        stations = store.all()
        readable = read_scope_as(store, as_user)
    finally:
        store.close()
    err_console.print("… 计算覆盖 computing", highlight=False, markup=False)
    data = build_report(
        stations,
        load_area(area, crs=area_crs.value),
        network=network if network is not None else cfg.network_file,
        demand=demand,
        new_sites=new_sites,
        district=district,
        tz=cfg.timezone,
        scope=readable,
    )
    write_leadership_report(output, data)
    console.print(f"已生成 wrote {output}", highlight=False, markup=False)
