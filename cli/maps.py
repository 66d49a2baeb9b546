"""``stations map``: write a self-contained HTML map (assets inlined) for reports and mail."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from cli.common import ReadAsOpt, app, console, open_services, read_scope_as, settings
from stations.errors import FieldError, ValidationFailed

__all__ = ["map_command"]


class MapKind(StrEnum):
    stations = "stations"
    coverage = "coverage"
    gaps = "gaps"


class BasemapChoice(StrEnum):
    osm = "osm"
    amap = "amap"
    tianditu = "tianditu"


@app.command("map")
def map_command(
    output: Annotated[
        Path,
        typer.Option(
            "-o", "--output", dir_okay=False, help="要写入的 .html 文件 / the .html file to write"
        ),
    ],
    kind: Annotated[
        MapKind,
        typer.Option(help="地图类型：stations 驿站 | coverage 覆盖 | gaps 空白区 / map kind"),
    ] = MapKind.stations,
    basemap: Annotated[
        BasemapChoice | None,
        typer.Option(
            help="底图：osm | amap 高德（gcj02）| tianditu 天地图（需 STATIONS_TIANDITU_KEY），"
            "默认 STATIONS_BASEMAP / basemap"
        ),
    ] = None,
    amenity: Annotated[
        list[str] | None,
        typer.Option(
            help="驿站地图：初始勾选的设施（可重复）/ stations map: amenity chips checked at first"
        ),
    ] = None,
    radius_m: Annotated[
        float | None,
        typer.Option(
            min=1,
            help="覆盖/空白区地图：覆盖半径，米（默认 STATIONS_DEFAULT_RADIUS_M）/ reach in metres",
        ),
    ] = None,
    resolution: Annotated[
        int, typer.Option(min=5, max=11, help="覆盖/空白区地图：六边形网格精度 / H3 resolution")
    ] = 9,
    new_sites: Annotated[
        int,
        typer.Option(
            min=0, max=50, help="覆盖/空白区地图：建议的新选址数（0 为不建议）/ new sites suggested"
        ),
    ] = 5,
    network: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="覆盖/空白区地图：路网文件（.osm.pbf | .osm），画出等时圈 / streets; isochrones are drawn",
        ),
    ] = None,
    rule: Annotated[
        str,
        typer.Option(
            help="覆盖/空白区地图：radius 半径 | double15 双15（1 公里且步行 15 分钟）/ coverage rule"
        ),
    ] = "radius",
    at: Annotated[
        str | None,
        typer.Option(
            help="覆盖/空白区地图：只算该时刻开放的驿站，如 2026-12-07T22:00 / only stations open then"
        ),
    ] = None,
    as_user: ReadAsOpt = None,
) -> None:
    """生成离线地图文件 / Write a self-contained HTML map that opens offline.

    ``--as USER`` narrows the coverage and gap maps to that user's organisation and below; the
    station map is the riders' public one and always shows every station.
    """
    from maps.basemaps import choose_basemap
    from maps.station_map import catalog_hits, station_map
    from stations.vocabulary import UnknownCode, normalise_code

    if output.suffix.lower() not in (".html", ".htm"):
        raise ValidationFailed(
            [FieldError.from_catalog("-o", "the output file must end in .html", str(output))]
        )
    cfg = settings()
    chosen = choose_basemap(basemap.value if basemap else None, cfg.basemap, cfg.tianditu_key)
    codes = []
    for raw in amenity or []:
        try:
            codes.append(normalise_code("amenity", raw))
        except UnknownCode as exc:
            raise ValidationFailed([exc.error("--amenity", raw)]) from None
    with open_services() as services:
        catalog = services.catalog
        if kind is MapKind.stations:
            page = station_map(
                catalog_hits(catalog),
                chosen,
                tianditu_key=cfg.tianditu_key,
                amenities=codes,
                tz=cfg.timezone,
                inline=True,
            )
            what = f"{len(catalog)} 个驿站 stations"
        else:
            from cli.analysis import _parse_at
            from maps.analysis_page import draw_analysis_page

            page, counted = draw_analysis_page(
                kind.value,
                catalog,
                chosen,
                radius_m=radius_m or cfg.default_radius_m,
                resolution=resolution,
                new_sites=new_sites,
                network=network if network is not None else cfg.network_file,
                rule=rule,
                at=_parse_at(at),
                tz=cfg.timezone,
                tianditu_key=cfg.tianditu_key,
                inline=True,
                scope=read_scope_as(services.store, as_user),
            )
            what = f"{len(counted)} 个开放驿站 open stations"
    output.write_text(page.render(), encoding="utf-8")
    console.print(
        f"已生成 wrote {output} ({kind.value}, {chosen.label}, {what})",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
