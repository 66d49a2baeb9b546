"""Exporting stations to .csv, .xlsx, .geojson or .gpkg — losslessly.

``import(export(x))`` must reproduce ``x``: ids (so a re-import updates rather than
duplicates), amenities, hours, coordinates (full ``repr`` precision in CSV/GeoJSON, the
double itself in GPKG, 16 significant digits in XLSX), empty strings, and text that looks
like a number (``001``, phone numbers) — which is why text is always written as text.
``version``, ``updated_at`` and ``verified_at`` are written for people and ignored on import.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from geodata.crs import crs_name, from_wgs84
from geodata.errors import GeodataError
from stations.errors import FieldError, ImportFailed, ValidationFailed
from stations.hours.evaluate import DEFAULT_TZ
from stations.io.headers import file_format
from stations.io.staff import STAFF_COLUMNS, staff_rows
from stations.io.write import write_csv, write_geojson, write_gpkg, write_xlsx
from stations.model import Station

__all__ = ["EXPORT_COLUMNS", "export_stations"]

#: Column order of every export (GeoJSON/GPKG carry lon/lat as the point geometry instead).
EXPORT_COLUMNS: tuple[str, ...] = (
    "id",
    "external_id",
    "name",
    "address",
    "district",
    "lon",
    "lat",
    "host_type",
    "host_org",
    "amenities",
    "opening_hours",
    "opening_hours_text",
    "phone",
    "status",
    "notes",
    "geocoded",
    "entry",
    "no_smartphone_ok",
    "version",
    "updated_at",
    "verified_at",
)
_PROPERTY_COLUMNS = tuple(c for c in EXPORT_COLUMNS if c not in ("lon", "lat"))


def _coordinates(stations: Sequence[Station], crs: str) -> tuple[list[float], list[float]]:
    lon = [s.data.lon for s in stations]
    lat = [s.data.lat for s in stations]
    if crs == "wgs84" or not stations:
        return lon, lat
    x, y = from_wgs84(lon, lat, crs)
    return [float(v) for v in x], [float(v) for v in y]


def _value(station: Station, column: str) -> Any:
    """A column's value as a plain Python object (lists and bools kept)."""
    if column == "id":
        return station.id
    if column == "version":
        return station.version
    if column == "updated_at":
        return station.updated_at.isoformat()
    if column == "verified_at":
        return None if station.verified_at is None else station.verified_at.isoformat()
    if column == "amenities":
        return list(station.data.amenities)
    return getattr(station.data, column)


def _text_rows(
    stations: Sequence[Station], lon: list[float], lat: list[float], *, as_text: bool
) -> Iterator[list[Any]]:
    """Rows for CSV (all text) or XLSX (numbers and booleans as such, text as text)."""
    for k, s in enumerate(stations):
        row: list[Any] = []
        for column in EXPORT_COLUMNS:
            if column == "lon":
                value: Any = lon[k]
            elif column == "lat":
                value = lat[k]
            else:
                value = _value(s, column)
            if column == "amenities":
                value = ";".join(value)
            elif value is None:
                value = ""
            if as_text:
                if isinstance(value, bool):
                    value = "true" if value else "false"
                elif isinstance(value, float):
                    value = repr(value)  # the shortest string that reads back to the same double
                else:
                    value = str(value)
            row.append(value)
        yield row


def export_stations(
    stations: Sequence[Station],
    path: str | os.PathLike[str],
    *,
    crs: str = "wgs84",
    layout: str = "standard",
    tz: str = DEFAULT_TZ,
) -> int:
    """Write ``stations`` to ``path``, the format chosen by its extension.

    Parameters
    ----------
    stations : sequence of Station
        Written in id order.
    path : path
        ``.csv`` (UTF-8 with BOM, for Excel in China), ``.xlsx`` (bold frozen header),
        ``.geojson`` (FeatureCollection, amenities as a list) or ``.gpkg`` (layer
        ``stations``, EPSG:4326). The file is replaced atomically.
    crs : {"wgs84", "gcj02", "bd09"}
        Coordinates for a CSV/XLSX bound for a Chinese basemap tool; re-import such a file
        with the same ``--crs``. GeoJSON and GPKG declare WGS-84, so anything else there
        mislabels the data: refused.
    layout : {"standard", "staff"}
        ``staff`` (CSV/XLSX only) writes the union clerk's sheet: Chinese headers and labels,
        hours as written (:mod:`stations.io.staff`); it imports back unchanged.
    tz : str
        The staff layout's 上次核查 is the wall clock of this zone (the stations' own).

    Returns
    -------
    int
        The number of stations written.
    """
    target = Path(path)
    try:
        fmt = file_format(target)
    except ImportFailed as exc:  # the same problem, but no import failed: not its title
        raise ValidationFailed(exc.errors) from None
    try:
        name = crs_name(crs)
    except GeodataError as exc:
        raise ValidationFailed([FieldError.of(exc, crs)]) from None
    if fmt in ("geojson", "gpkg") and name != "wgs84":
        raise ValidationFailed(
            [
                FieldError.from_catalog(
                    "crs",
                    "{fmt} files are WGS-84 by definition; export GCJ-02/BD-09 coordinates "
                    "to .csv or .xlsx",
                    crs,
                    None,
                    fmt=fmt,
                )
            ]
        )
    if layout not in ("standard", "staff"):
        raise ValidationFailed(
            [FieldError.from_catalog("layout", "must be standard or staff", layout)]
        )
    if layout == "staff" and fmt not in ("csv", "xlsx"):
        raise ValidationFailed(
            [
                FieldError.from_catalog(
                    "layout",
                    "the staff layout is a spreadsheet: export it to .xlsx or .csv",
                    layout,
                )
            ]
        )
    ordered = sorted(stations, key=lambda s: s.id)
    lon, lat = _coordinates(ordered, name)
    if layout == "staff":
        headers = [h for h, _ in STAFF_COLUMNS]
        if fmt == "csv":
            write_csv(target, headers, staff_rows(ordered, lon, lat, as_text=True, tz=tz))
        else:
            write_xlsx(target, headers, staff_rows(ordered, lon, lat, as_text=False, tz=tz))
        return len(ordered)
    if fmt == "csv":
        write_csv(target, EXPORT_COLUMNS, _text_rows(ordered, lon, lat, as_text=True))
    elif fmt == "xlsx":
        write_xlsx(target, EXPORT_COLUMNS, _text_rows(ordered, lon, lat, as_text=False))
    elif fmt == "geojson":
        write_geojson(
            target,
            [
                {
                    "type": "Feature",
                    "id": s.id,
                    "geometry": {"type": "Point", "coordinates": [lon[k], lat[k]]},
                    "properties": {c: _value(s, c) for c in _PROPERTY_COLUMNS},
                }
                for k, s in enumerate(ordered)
            ],
        )
    else:
        columns = {c: [_value(s, c) for s in ordered] for c in _PROPERTY_COLUMNS}
        columns["amenities"] = [";".join(v) for v in columns["amenities"]]
        write_gpkg(
            target,
            columns,
            lon,
            lat,
            layer="stations",
            dtypes={"id": "int64", "version": "int64", "geocoded": "bool"},
        )
    return len(ordered)
