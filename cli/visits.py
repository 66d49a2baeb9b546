"""Visit commands: door posters, the monthly report, hand tallies from a sheet, upkeep."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from cli.common import (
    app,
    command_group,
    console,
    err_console,
    field_line,
    open_configured_store,
    settings,
)
from stations.errors import FieldError, ValidationFailed
from stations.store.visits import SqlVisitStore

__all__ = ["poster", "visits_app"]

visits_app = command_group(
    "visits",
    "服务人次 / Visits served: the monthly report, hand tallies, upkeep.",
    invoke_without_command=True,
    no_args_is_help=False,
)


def _visit_store(store: object) -> SqlVisitStore:
    from api.services import visit_policy

    return SqlVisitStore.beside(store, visit_policy(settings()))


@app.command("poster")
def poster(
    output: Annotated[
        Path, typer.Option("-o", "--output", help="要写入的 PDF 文件 / the PDF to write")
    ],
    station_id: Annotated[int | None, typer.Argument(help="驿站 id / station id")] = None,
    all_stations: Annotated[
        bool, typer.Option("--all", help="每座在用驿站一页 / one page per live station")
    ] = False,
    size: Annotated[str, typer.Option(help="尺寸：a4 | a5 | sticker 贴纸 / size")] = "a4",
) -> None:
    """打印驿站二维码海报 / Print door posters with each station's QR code (needs STATIONS_PUBLIC_URL)."""
    from stations.visits.poster import PosterStation, render_posters, station_url

    if (station_id is None) == (not all_stations):
        raise typer.BadParameter("give a station ID or --all (one of them)")
    public = settings().public_url
    station_url(public, "X")  # fail before any work when STATIONS_PUBLIC_URL is missing
    store = open_configured_store()
    try:
        visits = _visit_store(store)
        codes = visits.codes(None if all_stations else [station_id])
        if not all_stations and station_id not in codes:
            raise ValidationFailed(
                [FieldError.from_catalog("ID", "no live station has this id", station_id)]
            )
        stations = {s.id: s for s in store.get_many(codes)}
        items = [
            PosterStation(stations[i], codes[i], station_url(public, codes[i]))
            for i in sorted(codes)
        ]
        pages = render_posters(output, items, size)
    finally:
        store.close()
    console.print(f"已生成 {pages} 页海报 wrote {pages} page(s) to {output}", highlight=False)


@visits_app.callback()
def monthly(
    ctx: typer.Context,
    month: Annotated[str | None, typer.Option(help="月份 YYYY-MM，如 2026-11 / month")] = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="要写入的 .xlsx 文件 / the .xlsx to write")
    ] = None,
) -> None:
    """月度服务人次表 / The monthly table: stations × worker types, hand tallies, totals."""
    if ctx.invoked_subcommand is not None:
        return
    if month is None or output is None:
        raise typer.BadParameter("give --month YYYY-MM and -o FILE.xlsx")
    from stations.store.visit_stats import VisitStats
    from stations.visits.monthly import month_range, write_monthly_lines

    start, end = month_range(month)
    store = open_configured_store()
    try:
        visits = _visit_store(store)
        visits.ensure_codes()
        lines = VisitStats(visits.engine).monthly_lines(start, end)
        count, totals = write_monthly_lines(output, start, lines)
    finally:
        store.close()
    console.print(
        f"{start.year}年{start.month}月：{count} 个驿站，服务人次合计 {totals['服务人次合计']}"
        f"（扫码 {totals['扫码签到小计']}，手工登记 {totals['手工登记']}） → {output}",
        highlight=False,
        markup=False,
    )


@visits_app.command("import")
def import_tallies(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            readable=True,
            help="签到表格 .xlsx 或 .csv / check-in file",
        ),
    ],
) -> None:
    """导入手工登记人次 / Import hand tallies (编号, 日期, 人次); all rows checked, all or nothing."""
    from stations.visits.tally_sheet import read_tally_sheet, resolve_tallies

    try:
        rows = read_tally_sheet(file)
        store = open_configured_store()
        try:
            visits = _visit_store(store)
            by_code = {c: i for i, c in visits.codes().items()}
            external = {s.data.external_id: s.id for s in store.all() if s.data.external_id}
            today = datetime.now(ZoneInfo(settings().timezone)).date()
            resolved = resolve_tallies(rows, by_code, external, today=today)
            written = visits.set_tallies(resolved, actor="cli-import")
        finally:
            store.close()
    except ValidationFailed as exc:  # staff read Chinese first: one line per bad row
        err_console.print(
            f"错误 error: 未导入，{len(exc.errors)} 处问题 nothing imported, "
            f"{len(exc.errors)} problem(s)",
            highlight=False,
            markup=False,
        )
        for item in exc.errors:
            err_console.print(
                f"  {field_line(item)}", highlight=False, markup=False, soft_wrap=True
            )
        raise typer.Exit(1) from None
    total = sum(n for _s, _d, n in resolved)
    console.print(
        f"已导入 {written} 行，共 {total} 人次 imported {written} row(s)", highlight=False
    )


@visits_app.command("prune")
def prune() -> None:
    """整理签到数据 / Make next months' partitions; forget old device hashes and raw rows."""
    store = open_configured_store()
    try:
        visits = _visit_store(store)
        today = datetime.now(UTC).date().replace(day=1)
        months = [today, (today + timedelta(days=32)).replace(day=1)]
        made = visits.ensure_partitions(months)
        out = visits.prune()
    finally:
        store.close()
    console.print(
        f"partitions made {len(made)}; device hashes forgotten {out['devices']}; "
        f"raw check-ins pruned {out['checkins']} ({out['partitions']} partitions dropped)",
        highlight=False,
    )
