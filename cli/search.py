"""``stations nearest``: the rider's question from the command line."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from cli.common import app, console, open_services
from geodata.crs import CrsName, to_wgs84
from stations.errors import FieldError, ValidationFailed
from stations.features import feature_collection
from stations.search import NearestQuery, station_filter
from stations.vocabulary import AMENITIES

__all__ = ["nearest"]


@app.command("nearest")
def nearest(
    lat: Annotated[float, typer.Argument(help="纬度 / latitude")],
    lon: Annotated[float, typer.Argument(help="经度 / longitude")],
    k: Annotated[int, typer.Option("-k", min=1, help="返回几个驿站 / how many")] = 5,
    amenity: Annotated[
        list[str] | None,
        typer.Option(
            help="必须具备的设施（可重复）/ must have (repeatable): " + ", ".join(AMENITIES)
        ),
    ] = None,
    open_now: Annotated[
        bool, typer.Option("--open-now", help="只要现在开放的驿站 / only stations open now")
    ] = False,
    max_distance_m: Annotated[
        float | None, typer.Option(min=0.001, help="最远距离，米 / farthest, metres")
    ] = None,
    crs: Annotated[
        CrsName,
        typer.Option(
            help="查询坐标（LAT LON）及 --json 输出的坐标系 / CRS of LAT LON and of --json output"
        ),
    ] = CrsName.wgs84,
    as_json: Annotated[
        bool, typer.Option("--json", help="输出 GeoJSON FeatureCollection / GeoJSON on stdout")
    ] = False,
) -> None:
    """最近的驿站 / The nearest stations (geodesic distance), optionally open now."""
    errors = []
    if not -90 <= lat <= 90:
        errors.append(
            FieldError.from_catalog("LAT", "must be between -{bound} and {bound}", lat, bound=90)
        )
    if not -180 <= lon <= 180:
        errors.append(
            FieldError.from_catalog("LON", "must be between -{bound} and {bound}", lon, bound=180)
        )
    if errors:
        raise ValidationFailed(errors)
    flt = station_filter(amenity=amenity, open_now=open_now)
    qlon, qlat = to_wgs84(lon, lat, crs.value)
    with open_services() as services:
        catalog = services.catalog
        hits = catalog.nearest(
            NearestQuery(
                float(qlon),
                float(qlat),
                k,
                max_distance_m,
                flt,
            )
        )
    if as_json:
        print(
            json.dumps(
                feature_collection(hits, crs.value, navigation=True), ensure_ascii=False, indent=1
            )
        )
        return
    table = Table(title=f"最近的驿站 nearest stations ({len(hits)})")
    for col in (
        "名称 name",
        "距离 distance",
        "开放 open now",
        "服务设施 amenities",
        "地址 address",
    ):
        table.add_column(col)
    mark = {True: "开放 open", False: "关闭 closed", None: "未知 unknown"}
    for h in hits:
        d = h.station.data
        dist = f"{h.distance_m:,.0f} m" if h.distance_m is not None else ""
        table.add_row(
            d.name, dist, mark[h.open_now], "、".join(AMENITIES[c] for c in d.amenities), d.address
        )
    console.print(table)
