"""Reading a station file of any supported format into one :class:`Sheet`.

Union staff keep their station lists in Excel (often saved as GBK CSV by Excel in China),
GIS staff in GeoPackage or GeoJSON. Each becomes a :class:`~stations.io.sheet.Sheet`: the
original columns, the field each column maps to, and the rows as read, so the importer
validates one thing.

Text fields are read as text wherever the format allows it (CSV always; XLSX cells written as
text stay text), so phone numbers and external ids like ``001`` survive a round trip.
"""

from __future__ import annotations

import csv
import io
import os
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from stations.errors import FieldError, ImportFailed
from stations.io.formula import restore
from stations.io.headers import blank as _blank
from stations.io.headers import file_format, header_key, is_ignored, map_header
from stations.io.limits import DEFAULT_LIMITS, SheetLimits, bounded, check_archive, check_size
from stations.io.read_geo import read_geojson, read_gpkg
from stations.io.sheet import Sheet, file_error

__all__ = ["Sheet", "read_sheet"]


def read_sheet(path: str | os.PathLike[str], limits: SheetLimits = DEFAULT_LIMITS) -> Sheet:
    """Read a station file of any supported format into a :class:`Sheet`.

    ``limits`` (:mod:`stations.io.limits`) bound the file size, an .xlsx archive's inflated
    size and ratio, and the rows and columns read; ``limits.should_stop`` ends the read.

    Raises
    ------
    ImportFailed
        For a file that cannot be read as a whole: missing, unsupported type, undecodable,
        no recognisable header, two columns naming the same field, or past a limit
        (:class:`~stations.io.limits.ImportCancelled` when stopped).
    """
    p = Path(path)
    fmt = file_format(p)
    if not p.is_file():
        raise ImportFailed([FieldError.from_catalog("file", "file not found", str(p))])
    check_size(p, limits)
    readers: dict[str, Callable[[Path], Sheet]] = {
        "csv": lambda q: _read_csv(q, limits),
        "xlsx": lambda q: _read_xlsx(q, limits),
        "geojson": read_geojson,
        "gpkg": read_gpkg,
    }
    sheet = readers[fmt](p)
    _check_columns(sheet)
    return sheet


def _tabular_sheet(
    path: Path, fmt: str, raw_rows: Iterator[tuple[int, Sequence[Any]]], encoding: str | None
) -> Sheet:
    """Find the header row (title rows above it are common in union sheets) and collect rows."""
    header: Sequence[Any] | None = None
    header_row = None
    skipped: list[tuple[int, Sequence[Any]]] = []
    for number, values in raw_rows:
        if all(_blank(v) for v in values):
            continue
        known = sum(1 for v in values if map_header(v) is not None)
        if known >= 2 or (known == 1 and len([v for v in values if not _blank(v)]) == 1):
            header, header_row = values, number
            break
        skipped.append((number, values))
        if len(skipped) >= 10:
            break
    if header is None:
        found = ", ".join(str(v) for v in (skipped[0][1] if skipped else []) if not _blank(v))
        raise file_error(
            path,
            "no header row with known column names in the first rows "
            "(found: {found}); expected e.g. name/名称, lon/经度, "
            "lat/纬度 — see docs/import-format.md",
            found=found or "nothing",
        )
    columns = ["" if _blank(h) else str(h).strip() for h in header]
    rows: list[list[Any]] = []
    numbers: list[int] = []
    for number, values in raw_rows:
        if all(_blank(v) for v in values):
            continue
        rows.append(list(values))
        numbers.append(number)
    return Sheet(
        path,
        fmt,
        columns,
        [map_header(c) if c else None for c in columns],
        rows,
        numbers,
        encoding=encoding,
        header_row=header_row,
    )


def _decode(path: Path) -> tuple[str, str]:
    data = path.read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text" is UTF-16
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise file_error(path, "broken UTF-16 text (byte {byte})", byte=exc.start) from exc
    try:
        text = data.decode("utf-8-sig")
        return text, "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        # GB18030 is a superset of GBK and GB2312: what Excel in China writes as "CSV".
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        raise file_error(
            path, "neither UTF-8 nor GBK/GB18030 text (byte {byte})", byte=exc.start
        ) from exc


def _delimiter(text: str) -> str:
    """``,`` unless the first line clearly uses ``;`` or tabs (Excel in some locales).

    Only the delimiter is taken from the first line: ``csv.Sniffer`` also guesses
    ``doublequote=False`` for a header without quotes, which would break ``""`` escapes.
    """
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


def _read_csv(path: Path, limits: SheetLimits) -> Sheet:
    text, encoding = _decode(path)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    rows = ((n, [restore(c) for c in values]) for n, values in enumerate(reader, start=1))
    rows = bounded(path, rows, limits)
    try:
        return _tabular_sheet(path, "csv", rows, encoding)
    except csv.Error as exc:
        raise file_error(
            path, "malformed CSV at record {record}: {error}", record=reader.line_num, error=exc
        ) from exc


def _cell(value: Any) -> Any:
    # Dates and times are text fields here (hours, notes); keep what the clerk saw.
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return value


def _read_xlsx(path: Path, limits: SheetLimits) -> Sheet:
    from openpyxl import load_workbook

    check_archive(path, limits)
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken archive
        raise file_error(path, "not a readable .xlsx workbook ({error})", error=exc) from exc
    try:
        wanted = {header_key("驿站"), header_key("stations")}
        ws = next((s for s in wb.worksheets if header_key(s.title) in wanted), wb.worksheets[0])
        title = ws.title
        ws.reset_dimensions()  # dimensions written by other tools are often wrong
        rows = (
            (n, [_cell(v) for v in values])
            for n, values in enumerate(ws.iter_rows(values_only=True), start=1)
        )
        sheet = _tabular_sheet(path, "xlsx", bounded(path, rows, limits), None)
    finally:
        wb.close()
    _refuse_formulas(sheet, _formula_cells(path, title))
    return sheet


#: A formula element in a worksheet's XML (``<f>``, ``<f t="shared" …/>``, or prefixed).
_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")


def _has_formulas(path: Path) -> bool:
    """Whether any worksheet of the workbook holds a formula: its XML read as bytes, so a
    sheet of plain values (nearly every clerk's) costs no second pass.
    """
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
                continue
            with archive.open(name) as part:
                tail = b""
                while chunk := part.read(1 << 20):
                    if _FORMULA_TAG.search(tail + chunk):
                        return True
                    tail = chunk[-32:]
    return False


def _formula_cells(path: Path, title: str) -> dict[tuple[int, int], str]:
    """The cells of sheet ``title`` that hold a formula: (row, column index) → its text.

    Read with cached values, a formula cell gives what Excel last showed (or nothing, when
    the file was never opened in Excel): a name "点我" from ``=HYPERLINK(…,"点我")``, or an
    empty "required" cell the clerk sees filled. Such cells are told as formulas instead.
    """
    if not _has_formulas(path):
        return {}
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=False)
    try:
        ws = wb[title]
        ws.reset_dimensions()
        return {
            (n, j): str(cell.value)
            for n, row in enumerate(ws.iter_rows(), start=1)
            for j, cell in enumerate(row)
            if getattr(cell, "data_type", None) == "f"
        }
    finally:
        wb.close()


def _refuse_formulas(sheet: Sheet, formulas: dict[tuple[int, int], str]) -> None:
    """A row error for each formula in a column the import reads (others are left alone)."""
    if not formulas:
        return
    rows = set(sheet.row_numbers)
    for (n, j), text in sorted(formulas.items()):
        if n in rows and j < len(sheet.fields) and sheet.fields[j] is not None:
            sheet.row_errors.setdefault(n, []).append(
                FieldError.from_catalog(
                    sheet.columns[j],
                    "holds a formula ({formula}); type the value itself, or paste it as "
                    "values only",
                    text[:60],
                    n,
                    formula=text[:60],
                )
            )


def _check_columns(sheet: Sheet) -> None:
    """Two columns for one field is a file error; unknown columns are ignored with a warning."""
    seen: dict[str, str] = {}
    problems: list[FieldError] = []
    for column, name in zip(sheet.columns, sheet.fields, strict=True):
        if name is None:
            if column and not is_ignored(column):
                sheet.warnings.append(
                    FieldError.from_catalog(
                        column, "unknown column, ignored", None, sheet.header_row
                    )
                )
            continue
        if name in seen:
            problems.append(
                FieldError.from_catalog(
                    column,
                    "column {other} already gives {target}; keep one of them",
                    None,
                    sheet.header_row,
                    other=repr(seen[name]),
                    target=name,
                )
            )
        seen[name] = column
    if not seen:
        problems.append(
            FieldError.from_catalog(
                "file",
                "no known columns; see docs/import-format.md",
                str(sheet.path),
                sheet.header_row,
            )
        )
    if problems:
        raise ImportFailed(
            problems, f"cannot read {sheet.path.name}: " + "; ".join(str(p) for p in problems)
        )
