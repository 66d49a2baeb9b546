"""Writing the four station file formats, each file replaced atomically."""

from __future__ import annotations

import csv
import json
import math
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from stations.errors import FieldError, ValidationFailed
from stations.io.formula import looks_like_formula, neutralise

__all__ = ["atomic_path", "write_csv", "write_geojson", "write_gpkg", "write_xlsx"]


class atomic_path:  # noqa: N801 - used as a context manager, reads like a function
    """Write to a temporary file beside ``path`` and move it into place only on success.

    An export interrupted half-way must never leave a truncated file that looks complete.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def __enter__(self) -> Path:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            prefix=f".{self.path.stem}.", suffix=self.path.suffix, dir=self.path.parent
        )
        os.close(fd)
        os.unlink(tmp)  # some writers (GPKG) refuse to write over an existing file
        self.tmp = Path(tmp)
        return self.tmp

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        if exc_type is None:
            os.replace(self.tmp, self.path)
        else:
            self.tmp.unlink(missing_ok=True)


def write_csv(
    path: str | os.PathLike[str],
    columns: Sequence[str],
    rows: Iterator[Sequence[Any]] | Sequence[Sequence[Any]],
) -> None:
    """CSV in UTF-8 *with* BOM: without it Excel in China reads UTF-8 as GBK and garbles it.

    Every cell is neutralised against formula injection (:mod:`stations.io.formula`).
    """
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([neutralise(c) for c in columns])
        writer.writerows([neutralise(c) for c in row] for row in rows)


_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


#: The widest a column is made; longer text wraps within it (a clerk reads an address on two
#: lines rather than a sheet several pages wide).
_MAX_WIDTH = 28
#: Up to this total width the sheet prints one page wide on A4 landscape, at a size still read
#: without a magnifier; a wider one prints across pages, its first two columns (the station's
#: number and name) repeated on each.
_FIT_WIDTH = 200
#: Numbers shown with up to 6 decimals (0.1 m in a coordinate), stored in full.
_FLOAT_FORMAT = "0.0#####"


def _text_width(value: Any) -> int:
    """Columns ``value`` takes in a spreadsheet: a Chinese character is two."""
    if isinstance(value, datetime):
        return 16
    if isinstance(value, float):
        return min(len(repr(value)), 11)
    text = str(value)
    return len(text) + sum(1 for ch in text if unicodedata.east_asian_width(ch) in "WF")


def _wider_than(text: str, width: int) -> bool:
    """``_text_width(text) > width``, measuring only when the length cannot tell (a character
    takes one or two columns): the writer asks it of every text cell of a national export.
    """
    if len(text) > width:
        return True
    if 2 * len(text) <= width:
        return False
    return _text_width(text) > width


def _widths(columns: Sequence[str], table: list[list[Any]], sample: int = 500) -> list[int]:
    """A width per column that shows its header and most values, within 8 and
    :data:`_MAX_WIDTH` (a clerk should not have to widen every column before reading it).
    """
    widest = [_text_width(c) for c in columns]
    for row in table[:sample]:
        for i, value in enumerate(row):
            if value is not None:
                widest[i] = max(widest[i], _text_width(value))
    return [min(_MAX_WIDTH, max(8, w + 2)) for w in widest]


def write_xlsx(
    path: str | os.PathLike[str],
    columns: Sequence[str],
    rows: Iterator[Sequence[Any]] | Sequence[Sequence[Any]],
    *,
    sheet_name: str = "驿站",
) -> None:
    """XLSX with a bold, frozen header; every ``str`` is written as a text cell.

    Text cells matter twice: ``001`` and phone numbers stay text, and a note starting
    with ``=`` stays a note instead of becoming a live formula (spreadsheet injection).
    Such a note also gets the cell's quote prefix, so a clerk who edits it in Excel or WPS
    (F2, Enter) still has text, not a formula. The sheet is set up for the clerk's desk: a
    filter on the header, long text wrapped in columns of a readable width, coordinates shown
    to six decimals (stored in full), and printing on A4 landscape with the header on every
    page: one page wide when that stays readable, else across pages with the station's first
    two columns repeated.

    Raises
    ------
    ValidationFailed
        When a value holds a control character the XLSX format cannot store.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.properties import PageSetupProperties

    table = [list(row) for row in rows]
    for number, row in enumerate(table, start=2):  # check first: a failed write-only save
        for name, value in zip(columns, row, strict=True):  # leaves openpyxl half-open
            if isinstance(value, str) and _XLSX_ILLEGAL.search(value):
                raise ValidationFailed(
                    [
                        FieldError.from_catalog(
                            name,
                            "contains a control character that XLSX cannot store; "
                            "export to .csv or .geojson instead",
                            value[:40],
                            number,
                        )
                    ]
                )
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet_name)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(max(len(columns), 1))}{len(table) + 1}"
    ws.print_title_rows = "1:1"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = "9"  # A4
    widths = _widths(columns, table)
    if sum(widths) <= _FIT_WIDTH:
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0  # as many pages down as the rows need
        ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    elif len(columns) > 2:
        ws.print_title_cols = "A:B"
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    wrap = Alignment(wrap_text=True, vertical="top")
    bold = Font(bold=True)
    header = []
    for name in columns:
        cell = WriteOnlyCell(ws, value=name)
        cell.font = bold
        header.append(cell)
    ws.append(header)
    for row in table:
        out: list[Any] = []
        for value, width in zip(row, widths, strict=True):
            if isinstance(value, str):
                cell = WriteOnlyCell(ws, value=value)
                cell.data_type = "s"
                if looks_like_formula(value):
                    cell.quotePrefix = True
                if _wider_than(value, width):
                    cell.alignment = wrap
                out.append(cell)
            elif isinstance(value, datetime):  # local wall-clock time, to the minute
                cell = WriteOnlyCell(ws, value=value)
                cell.number_format = "yyyy-mm-dd hh:mm"
                out.append(cell)
            elif isinstance(value, float):
                cell = WriteOnlyCell(ws, value=value)
                cell.number_format = _FLOAT_FORMAT
                out.append(cell)
            else:
                out.append(value)
        ws.append(out)
    with atomic_path(path) as tmp:
        wb.save(tmp)


def write_geojson(path: str | os.PathLike[str], features: Sequence[Mapping[str, Any]]) -> None:
    """A FeatureCollection in UTF-8 (RFC 7946: WGS-84 lon/lat, full float precision)."""
    doc = {"type": "FeatureCollection", "features": list(features)}
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, ensure_ascii=False, allow_nan=False)


def write_gpkg(
    path: str | os.PathLike[str],
    columns: Mapping[str, Sequence[Any]],
    lon: Sequence[float | None],
    lat: Sequence[float | None],
    *,
    layer: str = "stations",
    dtypes: Mapping[str, str] | None = None,
) -> None:
    """A GeoPackage point layer in EPSG:4326, one attribute column per ``columns`` entry.

    A row whose ``lon`` or ``lat`` is None gets a null geometry (a rejected feature that
    had no point).
    """
    import geopandas as gpd
    import pandas as pd

    frame = pd.DataFrame(
        {
            name: pd.Series(list(values), dtype=(dtypes or {}).get(name, object))
            for name, values in columns.items()
        }
    )
    missing = [i for i, (x, y) in enumerate(zip(lon, lat, strict=True)) if x is None or y is None]
    xs = [math.nan if x is None else x for x in lon] if missing else lon
    ys = [math.nan if y is None else y for y in lat] if missing else lat
    points = gpd.points_from_xy(xs, ys)
    if missing:
        points[missing] = None
    gdf = gpd.GeoDataFrame(frame, geometry=points, crs="EPSG:4326")
    with atomic_path(path) as tmp:
        gdf.to_file(tmp, layer=layer, driver="GPKG", engine="pyogrio")
