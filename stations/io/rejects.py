"""The reject file ``--skip-invalid`` writes: the bad rows as the clerk wrote them, and why."""

from __future__ import annotations

import math
import os
import re
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from stations.errors import FieldError
from stations.i18n import both
from stations.io.sheet import Sheet
from stations.io.write import write_csv, write_geojson, write_gpkg, write_xlsx

_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

__all__ = ["REJECT_ERROR_COLUMN", "reject_path_for", "write_rejects"]

REJECT_ERROR_COLUMN = "错误 error"
_OWN_FORMATS = (".csv", ".xlsx", ".geojson", ".gpkg")


def reject_path_for(path: str | os.PathLike[str]) -> Path:
    """Where ``skip_invalid`` saves the bad rows: beside the input, in its own format.

    ``站点.xlsx`` → ``站点.rejected.xlsx``, ``站点.csv`` → ``站点.rejected.csv``,
    ``站点.geojson`` → ``站点.rejected.geojson``, ``站点.gpkg`` → ``站点.rejected.gpkg``: the
    clerk fixes the rows in the tool that made the file and imports them again.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".json":
        suffix = ".geojson"
    elif suffix not in _OWN_FORMATS:
        suffix = ".csv"
    return p.with_name(f"{p.stem}.rejected{suffix}")


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if math.isnan(value) else (str(int(value)) if value.is_integer() else repr(value))
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)
    return str(value)


def write_rejects(sheet: Sheet, bad_rows: set[int], errors: Sequence[FieldError]) -> Path:
    """The bad rows as the clerk wrote them, plus what is wrong (Chinese first)."""
    by_row: dict[int, list[str]] = defaultdict(list)
    headers = {f: c for c, f in zip(sheet.columns, sheet.fields, strict=True) if f and c}
    for e in errors:
        header = headers.get(e.field, e.field)
        zh, en = e.text("zh-CN"), e.text("en")
        val = "" if e.value is None else f" ({e.value!r})"
        by_row[e.row or 0].append(f"{header}: {en if zh == en else f'{zh} / {en}'}{val}")
    columns = [c or f"column {k + 1}" for k, c in enumerate(sheet.columns)]
    width = len(columns)
    rows = []
    for number, values in zip(sheet.row_numbers, sheet.rows, strict=True):
        if number not in bad_rows:
            continue
        cells = [_cell_text(v) for v in values[:width]] + [""] * (width - len(values))
        cells.append(f"{both('row {ref}', ref=number)}: " + "; ".join(by_row.get(number, [])))
        rows.append(cells)
    target = reject_path_for(sheet.path)
    if target.suffix in (".geojson", ".gpkg"):
        _write_geo_rejects(target, sheet, columns, rows)
    elif target.suffix == ".xlsx":
        clean = [[_XLSX_ILLEGAL.sub("", c) for c in row] for row in rows]
        write_xlsx(target, [*columns, REJECT_ERROR_COLUMN], clean, sheet_name="无效行")
    else:
        write_csv(target, [*columns, REJECT_ERROR_COLUMN], rows)
    return target


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _write_geo_rejects(
    target: Path, sheet: Sheet, columns: list[str], rows: list[list[str]]
) -> None:
    """GeoJSON/GeoPackage rejects: the feature's properties, its point, and the error.

    The reader turned the point into ``lon``/``lat`` columns; they go back into the geometry
    (null when the feature had none or a non-point one), the rest stay properties.
    """
    lon_j = sheet.fields.index("lon") if "lon" in sheet.fields else None
    lat_j = sheet.fields.index("lat") if "lat" in sheet.fields else None
    keep = [j for j in range(len(columns)) if j not in (lon_j, lat_j)]
    names = [columns[j] for j in keep] + [REJECT_ERROR_COLUMN]
    points: list[tuple[float, float] | None] = []
    props: list[list[str | None]] = []
    for cells in rows:
        x = _number(cells[lon_j]) if lon_j is not None else None
        y = _number(cells[lat_j]) if lat_j is not None else None
        points.append((x, y) if x is not None and y is not None else None)
        props.append([cells[j] or None for j in keep] + [cells[-1]])
    if target.suffix == ".geojson":
        write_geojson(
            target,
            [
                {
                    "type": "Feature",
                    "geometry": None if p is None else {"type": "Point", "coordinates": list(p)},
                    "properties": dict(zip(names, values, strict=True)),
                }
                for p, values in zip(points, props, strict=True)
            ],
        )
    else:
        write_gpkg(
            target,
            {name: [r[k] for r in props] for k, name in enumerate(names)},
            [None if p is None else p[0] for p in points],
            [None if p is None else p[1] for p in points],
        )
