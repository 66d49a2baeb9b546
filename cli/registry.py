"""Registry commands: import, export, list, show, history."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from cli.common import (
    JsonFlag,
    StationIdArg,
    app,
    console,
    dry_run_flag,
    err_console,
    open_services,
    progress_bar,
    settings,
)
from geodata.crs import CrsName
from stations.errors import ImportFailed
from stations.i18n import both
from stations.io.report import ImportReport
from stations.model import Region
from stations.search import ListQuery, station_filter
from stations.vocabulary import AMENITIES, HOST_TYPES, STATUSES

if TYPE_CHECKING:
    from api.services import Services

__all__ = ["import_file", "export_file", "template", "list_stations", "show", "history"]


def _actor(services: Services, as_user: str | None) -> str:
    """``--as USER`` (checked to exist: the store scopes the write to them), else the
    command line itself, which has the database and so the whole tree."""
    if as_user is None:
        return "cli-import"
    services.orgs.user_org(as_user)  # NotFound for an unknown user
    return as_user.strip()


@app.command("import")
def import_file(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            readable=True,
            help="驿站表格 .csv .xlsx .geojson .gpkg / the station file",
        ),
    ],
    crs: Annotated[
        CrsName,
        typer.Option(help="表格坐标的坐标系（高德地图拾取的用 gcj02）/ CRS of the coordinates"),
    ] = CrsName.wgs84,
    dry_run: Annotated[
        bool,
        dry_run_flag("只检查并报告，不写入；退出码与正式导入相同 / report only, same exit code"),
    ] = False,
    skip_invalid: Annotated[
        bool,
        typer.Option(
            "--skip-invalid",
            is_flag=True,
            metavar="",
            help="写入正确的行，无效行另存为 FILE.rejected.csv/.xlsx/.geojson/.gpkg（与输入同格式）/ "
            "write the good rows, save the bad ones beside the file in its format",
        ),
    ] = False,
    geocode: Annotated[
        bool,
        typer.Option(
            "--geocode",
            is_flag=True,
            metavar="",
            help="按地址查找缺少的坐标（STATIONS_GEOCODER）/ geocode rows without coordinates",
        ),
    ] = False,
    as_user: Annotated[
        str | None,
        typer.Option(
            "--as",
            help="以该工作人员身份写入：只能写其组织范围内的驿站 / "
            "write as this staff user: only stations in their organisation's scope",
        ),
    ] = None,
) -> None:
    """导入驿站表格 / Import stations (all rows validated first; all or nothing)."""
    from stations.io.importing import run_import

    cfg = settings()
    if geocode and cfg.geocoder is None:
        raise typer.BadParameter(
            "set STATIONS_GEOCODER to baidu or nominatim", param_hint="--geocode"
        )
    try:
        with open_services() as services:
            store = services.store
            geocoder = services.geocoder if geocode else None
            with progress_bar(both("importing")) as progress:
                report = run_import(
                    store,
                    file,
                    crs=crs.value,
                    dry_run=dry_run,
                    skip_invalid=skip_invalid,
                    actor=_actor(services, as_user),
                    region=Region(*cfg.region_bbox),
                    geocoder=geocoder,
                    progress=progress,
                )
    except ImportFailed as exc:
        failed = getattr(exc, "report", None)
        if failed is None:
            raise
        report = failed
    _print_report(report)
    code = import_exit_code(report, skip_invalid=skip_invalid)
    if code:
        raise typer.Exit(code)


def import_exit_code(report: ImportReport, *, skip_invalid: bool) -> int:
    """1 when the import refuses the file (or would: ``--dry-run`` answers the same), or when
    the sheet has no rows at all; 0 otherwise."""
    if report.rows == 0:
        return 1
    return 1 if report.errors and not skip_invalid else 0


def _print_report(report: ImportReport) -> None:
    """Counts, then every problem (Chinese first, the sheet's own header named)."""
    out = err_console if report.errors or report.rows == 0 else console
    if report.rows == 0:
        out.print(
            f"{both('warning')}: "
            + both("{name} has headers but no rows: nothing imported", name=report.path.name),
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
    for line in report.summary_lines():
        console.print(line, highlight=False, markup=False, soft_wrap=True)
    for line in report.detail_lines():
        out.print(line, highlight=False, markup=False, soft_wrap=True)


class Layout(StrEnum):
    standard = "standard"
    staff = "staff"


@app.command("export")
def export_file(
    file: Annotated[
        Path,
        typer.Argument(dir_okay=False, help="导出文件 .csv .xlsx .geojson .gpkg / output file"),
    ],
    layout: Annotated[
        Layout,
        typer.Option(
            help="工作人员表格 staff：（中文表头、中文类型/状态/设施、开放时间按原文），"
            "仅 .xlsx/.csv / staff: the clerk's sheet, Chinese headers and labels"
        ),
    ] = Layout.standard,
    crs: Annotated[
        CrsName,
        typer.Option(help="坐标系（高德用 gcj02）/ CRS of the coordinates (.csv/.xlsx)"),
    ] = CrsName.wgs84,
) -> None:
    """导出全部驿站 / Export every station; the format follows the extension."""
    from stations.io.exporting import export_stations

    with open_services() as services:
        store = services.store
        stations = store.all()
        export_stations(
            stations, file, crs=crs.value, layout=layout.value, tz=services.settings.timezone
        )
    console.print(
        both("exported {n} stations to {file}", n=len(stations), file=file),
        highlight=False,
        markup=False,
    )


@app.command("template")
def template(
    file: Annotated[
        Path, typer.Argument(dir_okay=False, help="空白模板文件 .xlsx / template file")
    ],
) -> None:
    """生成空白驿站表格 / Write an empty station workbook (headers, example, drop-downs, 填写说明)."""
    from stations.io.template import write_template

    if file.suffix.lower() != ".xlsx":
        raise typer.BadParameter(
            "模板只能是 .xlsx / the template is an .xlsx file", param_hint="FILE"
        )
    write_template(file)
    console.print(both("template written to {file}", file=file), highlight=False, markup=False)


def _labels(codes: tuple[str, ...]) -> str:
    return "、".join(AMENITIES[c] for c in codes)


@app.command("list")
def list_stations(
    q: Annotated[
        str | None, typer.Option(help="名称或地址中的文字 / text in name or address")
    ] = None,
    amenity: Annotated[
        list[str] | None, typer.Option(help="必须具备的设施（可重复）/ must have (repeatable)")
    ] = None,
    status: Annotated[
        str | None,
        typer.Option(help="状态：open 开放 | temporarily_closed 暂停 | closed 关闭 / status"),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="最多列出条数 / at most this many")] = 100,
    offset: Annotated[int, typer.Option(min=0, help="跳过前面的条数 / skip this many")] = 0,
    as_json: JsonFlag = False,
) -> None:
    """列出驿站 / List stations."""
    with open_services() as services:
        catalog = services.catalog
        flt = station_filter(amenity=amenity, status=[status] if status else None)
        hits, total = catalog.search(ListQuery(q=q, filter=flt, limit=limit, offset=offset))
    if as_json:
        print(
            json.dumps(
                [h.station.record() | {"open_now": h.open_now} for h in hits],
                ensure_ascii=False,
                indent=1,
            )
        )
        return
    table = Table(title=f"驿站 stations: {len(hits)} / {total}")
    for col in ("id", "编号", "名称 name", "状态", "服务设施 amenities", "地址 address"):
        table.add_column(col)
    for h in hits:
        d = h.station.data
        table.add_row(
            str(h.station.id),
            d.external_id or "",
            d.name,
            STATUSES[d.status],
            _labels(d.amenities),
            d.address,
        )
    console.print(table)


@app.command("show")
def show(station_id: StationIdArg, as_json: JsonFlag = False) -> None:
    """显示一个驿站 / Show one station."""
    with open_services() as services:
        store = services.store
        station = store.get(station_id)
    record = station.record()
    if as_json:
        print(json.dumps(record, ensure_ascii=False, indent=1))
        return
    d = station.data
    record["host_type"] = f"{d.host_type} ({HOST_TYPES[d.host_type]})"
    record["status"] = f"{d.status} ({STATUSES[d.status]})"
    record["amenities"] = _labels(d.amenities)
    for key, value in record.items():
        console.print(f"{key:>14}: {value}", highlight=False, markup=False)


@app.command("history")
def history(station_id: StationIdArg, as_json: JsonFlag = False) -> None:
    """修改历史 / Show a station's change history (who, when, what)."""
    with open_services() as services:
        store = services.store
        entries = store.history(station_id)
    if as_json:
        print(
            json.dumps(
                [e.__dict__ | {"at": e.at.isoformat()} for e in entries],
                ensure_ascii=False,
                indent=1,
                default=str,
            )
        )
        return
    table = Table(title=f"驿站 {station_id} 修改历史 history")
    for col in ("版本 version", "时间 at", "操作 action", "用户 actor", "变更 changes"):
        table.add_column(col)
    skip = {"version", "updated_at", "created_at"}
    for e in entries:
        before, after = e.before or {}, e.after or {}
        changed = [k for k in after if k not in skip and before.get(k) != after.get(k)]
        table.add_row(
            str(e.version),
            e.at.isoformat(timespec="seconds"),
            e.action,
            e.actor,
            ", ".join(changed) if e.before else "—",
        )
    console.print(table)
