"""``stations coverage | gaps | plan``: what union staff ask of their network."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from cli.common import app, console, err_console, open_configured_store
from geodata.crs import CrsName

if TYPE_CHECKING:
    from stations.analysis.service import Analysis

# stations.analysis.service and its report writer (shapely, h3, pulp, openpyxl: ~0.3 s) are imported
# by these commands only, not on every start of the CLI (an import of 100k rows counts it).

__all__ = ["coverage_cmd", "gaps_cmd", "plan_cmd"]

RadiusOpt = Annotated[float | None, typer.Option("--radius-m", help="Reach in metres (500)")]
MinutesOpt = Annotated[float | None, typer.Option(help="Reach as minutes of travel")]
SpeedOpt = Annotated[str, typer.Option(help="walk (4.5 km/h) | ebike (15 km/h) | km/h")]
AreaOpt = Annotated[
    Path | None,
    typer.Option(
        help="Service area polygon (GeoJSON/GPKG/SHP); default: the E-Town area", exists=True
    ),
]
AreaCrsOpt = Annotated[CrsName, typer.Option(help="CRS of --area vertices")]
DemandOpt = Annotated[
    str | None,
    typer.Option(
        help="Demand layer file (weighted points or polygons), or 'etown-synthetic'; "
        "default: uniform over the area"
    ),
]
ResOpt = Annotated[int, typer.Option(min=5, max=11, help="H3 resolution")]
JsonOpt = Annotated[bool, typer.Option("--json", help="JSON on stdout")]
OutOpt = Annotated[
    Path | None, typer.Option("-o", "--output", help="report.xlsx | .geojson | .csv")
]


def _speed(value: str) -> str | float:
    try:
        return float(value)
    except ValueError:
        return value


def _analysis(
    radius_m: float | None,
    minutes: float | None,
    speed: str,
    area: Path | None,
    area_crs: CrsName,
    demand: str | None,
    resolution: int,
) -> Analysis:
    from stations.analysis.service import Analysis, reach_metres

    reach = reach_metres(radius_m, minutes, _speed(speed))
    store = open_configured_store()
    try:
        stations = store.all()
    finally:
        store.close()
    return Analysis.for_stations(
        stations,
        area=area,
        area_crs=area_crs.value,
        radius_m=reach,
        resolution=resolution,
        demand_source=demand,
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


@app.command("coverage")
def coverage_cmd(
    radius_m: RadiusOpt = None,
    minutes: MinutesOpt = None,
    speed: SpeedOpt = "walk",
    area: AreaOpt = None,
    area_crs: AreaCrsOpt = CrsName.wgs84,
    demand: DemandOpt = None,
    resolution: ResOpt = 9,
    as_json: JsonOpt = False,
    output: OutOpt = None,
) -> None:
    """覆盖分析 Coverage: share of area and demand within reach, distances, catchments."""
    from stations.analysis.report import summary_rows, write_report

    a = _analysis(radius_m, minutes, speed, area, area_crs, demand, resolution)
    cov = a.coverage()
    if output is not None:
        write_report(output, a, kind="coverage")
        err_console.print(f"已写入 written {output}", highlight=False, markup=False)
    if as_json:
        print(json.dumps(cov.summary(), ensure_ascii=False, indent=1))
        return
    _print_summary(summary_rows(a, cov))


@app.command("gaps")
def gaps_cmd(
    radius_m: RadiusOpt = None,
    minutes: MinutesOpt = None,
    speed: SpeedOpt = "walk",
    area: AreaOpt = None,
    area_crs: AreaCrsOpt = CrsName.wgs84,
    demand: DemandOpt = None,
    resolution: ResOpt = 9,
    as_json: JsonOpt = False,
    output: OutOpt = None,
    top: Annotated[int, typer.Option(min=1)] = 20,
) -> None:
    """空白区 Gaps: uncovered areas, merged from H3 cells, ranked by uncovered demand."""
    from stations.analysis.report import gap_rows, write_report

    a = _analysis(radius_m, minutes, speed, area, area_crs, demand, resolution)
    found = a.gaps()
    if output is not None:
        write_report(output, a, kind="gaps")
        err_console.print(f"已写入 written {output}", highlight=False, markup=False)
    if as_json:
        print(json.dumps([g.properties() for g in found[:top]], ensure_ascii=False, indent=1))
        return
    _rows_table(f"空白区 gaps: {len(found)}", gap_rows(found[:top]))


@app.command("plan")
def plan_cmd(
    new_sites: Annotated[int | None, typer.Option(min=1, help="How many new sites")] = None,
    target: Annotated[
        float | None,
        typer.Option(help="Instead: fewest sites to reach this demand coverage, e.g. 0.8"),
    ] = None,
    candidates: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            help="Possible hosts (any station-file format); default: centres of uncovered H3 cells",
        ),
    ] = None,
    candidates_crs: Annotated[CrsName, typer.Option(help="CRS of --candidates")] = CrsName.wgs84,
    method: Annotated[str, typer.Option(help="auto | exact | greedy")] = "auto",
    radius_m: RadiusOpt = None,
    minutes: MinutesOpt = None,
    speed: SpeedOpt = "walk",
    area: AreaOpt = None,
    area_crs: AreaCrsOpt = CrsName.wgs84,
    demand: DemandOpt = None,
    resolution: ResOpt = 9,
    as_json: JsonOpt = False,
    output: OutOpt = None,
) -> None:
    """选址建议 Plan: where N new stations would newly cover the most demand (ranked)."""
    if (new_sites is None) == (target is None):
        raise typer.BadParameter("give --new-sites N or --target SHARE", param_hint="--new-sites")
    from stations.analysis.report import site_rows, summary_rows, write_report
    from stations.analysis.service import load_candidates

    a = _analysis(radius_m, minutes, speed, area, area_crs, demand, resolution)
    given = load_candidates(candidates, candidates_crs.value) if candidates else None
    if new_sites is not None:
        plan, cands = a.plan(new_sites, given, method)
    else:
        assert target is not None
        plan, cands = a.min_sites(target, given, method)
    if output is not None:
        write_report(output, a, plan=plan, cands=cands, kind="plan")
        err_console.print(f"已写入 written {output}", highlight=False, markup=False)
    if as_json:
        body = plan.to_dict()
        for site, row in zip(body["sites"], plan.sites, strict=True):
            site["label"] = cands.labels[row.candidate_index]
        print(json.dumps(body, ensure_ascii=False, indent=1))
        return
    _print_summary(summary_rows(a, a.coverage(), plan))
    _rows_table("建议新增站点 suggested sites", site_rows(plan, cands))
