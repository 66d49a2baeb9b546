"""Reading and writing the four station file formats, and mapping their column headers.

Union staff keep their station lists in Excel (often saved as GBK CSV by Excel in China),
GIS staff in GeoPackage or GeoJSON. This module turns any of them into one shape — a
:class:`Sheet`: the original columns, the field each column maps to, and the rows as read —
so the importer validates one thing, and writes the same four formats back for the exporter.

Text fields are read as text wherever the format allows it (CSV always; XLSX cells written as
text stay text), so phone numbers and external ids like ``001`` survive a round trip.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from stations.errors import FieldError, ImportFailed, ValidationFailed

__all__ = [
    "FORMATS",
    "HEADER_ALIASES",
    "IGNORED_HEADERS",
    "Sheet",
    "atomic_path",
    "file_format",
    "header_key",
    "map_header",
    "read_sheet",
    "write_csv",
    "write_geojson",
    "write_gpkg",
    "write_xlsx",
]

#: File extension → format name. The format is always chosen from the extension.
FORMATS: Mapping[str, str] = {
    ".csv": "csv",
    ".xlsx": "xlsx",
    ".geojson": "geojson",
    ".gpkg": "gpkg",
}

#: Field → accepted column headers (English contract names first, then Chinese). Matching
#: ignores case, spaces, ``_``/``-``/``.``, a trailing ``*`` and any bracketed note, so
#: ``External ID``, ``经度（GCJ-02）`` and ``名称*`` all match. ``id`` is the store's own id
#: (exported files carry it); ``编号`` is the union's number, i.e. ``external_id``.
HEADER_ALIASES: Mapping[str, tuple[str, ...]] = {
    "id": ("id", "station_id", "系统编号", "系统id"),
    "external_id": ("external_id", "ext_id", "code", "编号", "驿站编号", "站点编号", "外部编号"),
    "name": ("name", "名称", "驿站名称", "站点名称", "驿站名"),
    "address": ("address", "addr", "地址", "详细地址", "驿站地址", "站点地址"),
    "district": ("district", "区", "所属区域", "区县", "所属区县", "所在区域", "所在区"),
    "lon": ("lon", "lng", "long", "longitude", "x", "经度"),
    "lat": ("lat", "latitude", "y", "纬度"),
    "host_type": ("host_type", "type", "类型", "依托类型", "驿站类型", "阵地类型"),
    "host_org": (
        "host_org",
        "host",
        "organisation",
        "organization",
        "依托单位",
        "所属单位",
        "建设单位",
        "运营单位",
    ),
    "amenities": (
        "amenities",
        "services",
        "facilities",
        "服务设施",
        "服务项目",
        "设施",
        "配套设施",
        "服务内容",
    ),
    "opening_hours": ("opening_hours", "hours", "开放时间", "服务时间", "营业时间"),
    "phone": ("phone", "tel", "telephone", "联系电话", "电话", "联系方式"),
    "status": ("status", "状态", "运营状态"),
    "notes": ("notes", "note", "remarks", "备注"),
    "geocoded": ("geocoded", "已地理编码", "地理编码"),
}

#: Headers dropped without a warning: what our own exports and reject files add.
IGNORED_HEADERS: tuple[str, ...] = (
    "version",
    "updated_at",
    "created_at",
    "错误 error",
    "错误",
    "error",
)

_BRACKETED = re.compile(r"[(\[【].*?[)\]】]")
_NOISE = re.compile(r"[\s_\-.:*]+")


def header_key(header: Any) -> str:
    """The comparison key of a column header: NFKC, casefolded, no brackets/spaces/punctuation."""
    text = unicodedata.normalize("NFKC", str(header)).strip()
    text = _BRACKETED.sub("", text)
    return _NOISE.sub("", text.casefold())


_ALIAS_TABLE: dict[str, str] = {
    header_key(alias): name for name, aliases in HEADER_ALIASES.items() for alias in aliases
}
_IGNORED_KEYS = frozenset(header_key(h) for h in IGNORED_HEADERS)


def map_header(header: Any) -> str | None:
    """The field a column header names, or ``None`` when it names none."""
    if header is None:
        return None
    return _ALIAS_TABLE.get(header_key(header))


def file_format(path: Path) -> str:
    """The format name for ``path``'s extension; ``ImportFailed`` for anything else."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ImportFailed(
            [
                FieldError(
                    "file",
                    f"unsupported file type {path.suffix or '(none)'!r}; use "
                    ".csv, .xlsx, .geojson or .gpkg",
                    str(path),
                    None,
                    "不支持的文件类型，请使用 .csv .xlsx .geojson .gpkg",
                )
            ]
        )
    return fmt


@dataclass
class Sheet:
    """A station file as read: columns, the field each maps to, and the raw rows.

    ``rows[i][j]`` is the value of ``columns[j]`` in the row numbered ``row_numbers[i]``
    (sheet rows for CSV/XLSX — the header row is the row before the first data row —
    feature numbers from 1 for GeoJSON/GPKG). Raw values are kept so a reject file can
    give the clerk back exactly what they wrote.
    """

    path: Path
    format: str
    columns: list[str]
    fields: list[str | None]
    rows: list[list[Any]]
    row_numbers: list[int]
    encoding: str | None = None
    header_row: int | None = None
    warnings: list[FieldError] = field(default_factory=list)
    row_errors: dict[int, list[FieldError]] = field(default_factory=dict)

    @property
    def present(self) -> frozenset[str]:
        """The fields the file has a column for."""
        return frozenset(f for f in self.fields if f is not None)

    def records(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """``(row number, {field: raw value})`` for every row, mapped columns only."""
        mapped = [(j, f) for j, f in enumerate(self.fields) if f is not None]
        for number, values in zip(self.row_numbers, self.rows, strict=True):
            width = len(values)
            yield number, {f: (values[j] if j < width else None) for j, f in mapped}


# -- reading ---------------------------------------------------------------------------------


def read_sheet(path: str | os.PathLike[str]) -> Sheet:
    """Read a station file of any supported format into a :class:`Sheet`.

    Raises
    ------
    ImportFailed
        For a file that cannot be read as a whole: missing, unsupported type, undecodable,
        no recognisable header, or two columns naming the same field.
    """
    p = Path(path)
    fmt = file_format(p)
    if not p.is_file():
        raise ImportFailed([FieldError("file", "file not found", str(p), None, "文件不存在")])
    readers: dict[str, Callable[[Path], Sheet]] = {
        "csv": _read_csv,
        "xlsx": _read_xlsx,
        "geojson": _read_geojson,
        "gpkg": _read_gpkg,
    }
    sheet = readers[fmt](p)
    _check_columns(sheet)
    return sheet


def _file_error(path: Path, message: str, zh: str) -> ImportFailed:
    return ImportFailed(
        [FieldError("file", message, str(path), None, zh)], f"cannot read {path.name}: {message}"
    )


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, float) and math.isnan(value)


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
        raise _file_error(
            path,
            "no header row with known column names in the first rows "
            f"(found: {found or 'nothing'}); expected e.g. name/名称, lon/经度, "
            "lat/纬度 — see docs/import-format.md",
            "未找到表头行",
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
            raise _file_error(
                path, f"broken UTF-16 text (byte {exc.start})", "UTF-16 文本已损坏"
            ) from exc
    try:
        text = data.decode("utf-8-sig")
        return text, "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        # GB18030 is a superset of GBK and GB2312: what Excel in China writes as "CSV".
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        raise _file_error(
            path,
            f"neither UTF-8 nor GBK/GB18030 text (byte {exc.start})",
            "文件编码无法识别（应为 UTF-8 或 GBK）",
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


def _read_csv(path: Path) -> Sheet:
    text, encoding = _decode(path)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        return _tabular_sheet(path, "csv", enumerate(reader, start=1), encoding)
    except csv.Error as exc:
        raise _file_error(
            path, f"malformed CSV at record {reader.line_num}: {exc}", "CSV 格式错误"
        ) from exc


def _cell(value: Any) -> Any:
    # Dates and times are text fields here (hours, notes); keep what the clerk saw.
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return value


def _read_xlsx(path: Path) -> Sheet:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken archive
        raise _file_error(
            path, f"not a readable .xlsx workbook ({exc})", "无法读取 Excel 文件"
        ) from exc
    try:
        wanted = {header_key("驿站"), header_key("stations")}
        ws = next((s for s in wb.worksheets if header_key(s.title) in wanted), wb.worksheets[0])
        ws.reset_dimensions()  # dimensions written by other tools are often wrong
        rows = (
            (n, [_cell(v) for v in values])
            for n, values in enumerate(ws.iter_rows(values_only=True), start=1)
        )
        sheet = _tabular_sheet(path, "xlsx", rows, None)
    finally:
        wb.close()
    return sheet


def _plain(value: Any) -> Any:
    """numpy/pandas scalars → plain Python; NaN/NaT → None."""
    if value is None:
        return None
    item = getattr(value, "item", None)
    if item is not None and not isinstance(value, str | bytes):
        try:
            value = item()
        except (ValueError, TypeError):
            pass
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "isoformat") and not isinstance(value, str):
        try:
            return value.isoformat()
        except ValueError:  # NaT
            return None
    return value


def _geo_sheet(
    path: Path,
    fmt: str,
    names: list[str],
    props: list[list[Any]],
    points: list[tuple[float, float] | str | None],
) -> Sheet:
    """Columns = properties + lon/lat taken from the point geometry."""
    fields = [map_header(n) for n in names]
    columns = list(names)
    rows = [list(r) for r in props]
    lon_j = fields.index("lon") if "lon" in fields else None
    lat_j = fields.index("lat") if "lat" in fields else None
    if lon_j is None:
        columns.append("lon")
        fields.append("lon")
        lon_j = len(columns) - 1
        for r in rows:
            r.append(None)
    if lat_j is None:
        columns.append("lat")
        fields.append("lat")
        lat_j = len(columns) - 1
        for r in rows:
            r.append(None)
    sheet = Sheet(path, fmt, columns, fields, rows, list(range(1, len(rows) + 1)))
    for i, point in enumerate(points):
        if isinstance(point, tuple):
            rows[i][lon_j], rows[i][lat_j] = point
        elif isinstance(point, str):
            sheet.row_errors.setdefault(i + 1, []).append(
                FieldError(
                    "geometry", f"must be a Point, not {point}", point, i + 1, "几何类型必须是点"
                )
            )
    return sheet


def _read_geojson(path: Path) -> Sheet:
    try:
        doc = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _file_error(path, f"not valid UTF-8 JSON ({exc})", "不是有效的 GeoJSON") from exc
    if (
        not isinstance(doc, dict)
        or doc.get("type") != "FeatureCollection"
        or not isinstance(doc.get("features"), list)
    ):
        raise _file_error(
            path, "expected a GeoJSON FeatureCollection", "应为 GeoJSON FeatureCollection"
        )
    transform = _legacy_crs_transform(path, doc.get("crs"))
    names: dict[str, None] = {}
    features = doc["features"]
    for f in features:
        for key in (f.get("properties") or {}) if isinstance(f, dict) else {}:
            names.setdefault(str(key), None)
    order = list(names)
    props: list[list[Any]] = []
    points: list[tuple[float, float] | str | None] = []
    for f in features:
        p = (f.get("properties") or {}) if isinstance(f, dict) else {}
        props.append([p.get(k) for k in order])
        geom = f.get("geometry") if isinstance(f, dict) else None
        if geom is None:
            points.append(None)
        elif geom.get("type") != "Point":
            points.append(str(geom.get("type")))
        else:
            coords = geom.get("coordinates") or []
            if len(coords) < 2 or not all(isinstance(c, int | float) for c in coords[:2]):
                points.append("Point without two numeric coordinates")
            else:
                points.append(transform(float(coords[0]), float(coords[1])))
    return _geo_sheet(path, "geojson", order, props, points)


def _legacy_crs_transform(path: Path, crs: Any) -> Callable[[float, float], tuple[float, float]]:
    """RFC 7946 GeoJSON is WGS-84; old files may name another CRS, which we reproject."""
    name = ((crs or {}).get("properties") or {}).get("name") if isinstance(crs, dict) else None
    if not name or any(t in str(name).upper() for t in ("CRS84", "EPSG::4326", "EPSG:4326")):
        return lambda x, y: (x, y)
    from pyproj import CRS, Transformer
    from pyproj.exceptions import CRSError

    try:
        t = Transformer.from_crs(CRS.from_user_input(name), CRS.from_epsg(4326), always_xy=True)
    except CRSError as exc:
        raise _file_error(path, f"unknown crs {name!r}", "无法识别的坐标系") from exc
    return lambda x, y: tuple(float(v) for v in t.transform(x, y))  # type: ignore[return-value]


def _read_gpkg(path: Path) -> Sheet:
    import pyogrio

    try:
        layers = [str(row[0]) for row in pyogrio.list_layers(path)]
    except Exception as exc:  # pyogrio raises DataSourceError and friends
        raise _file_error(
            path, f"not a readable GeoPackage ({exc})", "无法读取 GeoPackage 文件"
        ) from exc
    if not layers:
        raise _file_error(path, "the GeoPackage has no layers", "GeoPackage 中没有图层")
    layer = "stations" if "stations" in layers else layers[0]
    frame = pyogrio.read_dataframe(path, layer=layer)
    warnings: list[FieldError] = []
    if frame.crs is None:
        warnings.append(
            FieldError(
                "geometry",
                f"layer {layer!r} declares no CRS; read as WGS-84 (EPSG:4326)",
                None,
                None,
                "图层未声明坐标系，按 WGS-84 读取",
            )
        )
    elif frame.crs.to_epsg() != 4326:
        frame = frame.to_crs(4326)
    names = [str(c) for c in frame.columns if c != frame.geometry.name]
    columns = {c: frame[c].tolist() for c in names}
    props = [[_plain(columns[c][i]) for c in names] for i in range(len(frame))]
    points: list[tuple[float, float] | str | None] = []
    for geom in frame.geometry:
        if geom is None or geom.is_empty:
            points.append(None)
        elif geom.geom_type != "Point":
            points.append(geom.geom_type)
        else:
            points.append((float(geom.x), float(geom.y)))
    sheet = _geo_sheet(path, "gpkg", names, props, points)
    sheet.warnings.extend(warnings)
    return sheet


def _check_columns(sheet: Sheet) -> None:
    """Two columns for one field is a file error; unknown columns are ignored with a warning."""
    seen: dict[str, str] = {}
    problems: list[FieldError] = []
    for column, name in zip(sheet.columns, sheet.fields, strict=True):
        if name is None:
            if column and header_key(column) not in _IGNORED_KEYS:
                sheet.warnings.append(
                    FieldError(
                        column, "unknown column, ignored", None, sheet.header_row, "未知列，已忽略"
                    )
                )
            continue
        if name in seen:
            problems.append(
                FieldError(
                    column,
                    f"column {seen[name]!r} already gives {name}; keep one of them",
                    None,
                    sheet.header_row,
                    "两列对应同一字段",
                )
            )
        seen[name] = column
    if not seen:
        problems.append(
            FieldError(
                "file",
                "no known columns; see docs/import-format.md",
                str(sheet.path),
                sheet.header_row,
                "没有可识别的列",
            )
        )
    if problems:
        raise ImportFailed(
            problems, f"cannot read {sheet.path.name}: " + "; ".join(str(p) for p in problems)
        )


# -- writing ---------------------------------------------------------------------------------


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
    """CSV in UTF-8 *with* BOM: without it Excel in China reads UTF-8 as GBK and garbles it."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        writer.writerows(rows)


_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


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

    Raises
    ------
    ValidationFailed
        When a value holds a control character the XLSX format cannot store.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    table = [list(row) for row in rows]
    for number, row in enumerate(table, start=2):  # check first: a failed write-only save
        for name, value in zip(columns, row, strict=True):  # leaves openpyxl half-open
            if isinstance(value, str) and _XLSX_ILLEGAL.search(value):
                raise ValidationFailed(
                    [
                        FieldError(
                            name,
                            "contains a control character that XLSX cannot store; "
                            "export to .csv or .geojson instead",
                            value[:40],
                            number,
                            "含有 Excel 无法保存的控制字符",
                        )
                    ]
                )
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet_name)
    ws.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for name in columns:
        cell = WriteOnlyCell(ws, value=name)
        cell.font = bold
        header.append(cell)
    ws.append(header)
    for row in table:
        out: list[Any] = []
        for value in row:
            if isinstance(value, str):
                cell = WriteOnlyCell(ws, value=value)
                cell.data_type = "s"
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
    lon: Sequence[float],
    lat: Sequence[float],
    *,
    layer: str = "stations",
    dtypes: Mapping[str, str] | None = None,
) -> None:
    """A GeoPackage point layer in EPSG:4326, one attribute column per ``columns`` entry."""
    import geopandas as gpd
    import pandas as pd

    frame = pd.DataFrame(
        {
            name: pd.Series(list(values), dtype=(dtypes or {}).get(name, object))
            for name, values in columns.items()
        }
    )
    gdf = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    with atomic_path(path) as tmp:
        gdf.to_file(tmp, layer=layer, driver="GPKG", engine="pyogrio")
