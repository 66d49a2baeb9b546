"""Reading GeoJSON and GeoPackage point layers into a :class:`~stations.io.sheet.Sheet`.

The point geometry becomes ``lon``/``lat`` columns (reprojected to WGS-84 when a file
declares another CRS), so the importer treats a GIS file like any spreadsheet.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stations.errors import FieldError
from stations.io.headers import map_header
from stations.io.sheet import Sheet, file_error

__all__ = ["read_geojson", "read_gpkg"]


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
                FieldError.from_catalog(
                    "geometry", "must be a Point, not {point}", point, i + 1, point=point
                )
            )
    return sheet


def read_geojson(path: Path) -> Sheet:
    """Read a GeoJSON FeatureCollection of points as a sheet of rows."""
    try:
        doc = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise file_error(path, "not valid UTF-8 JSON ({error})", error=exc) from exc
    if (
        not isinstance(doc, dict)
        or doc.get("type") != "FeatureCollection"
        or not isinstance(doc.get("features"), list)
    ):
        raise file_error(path, "expected a GeoJSON FeatureCollection")
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
        raise file_error(path, "unknown crs {crs}", crs=repr(name)) from exc
    return lambda x, y: tuple(float(v) for v in t.transform(x, y))  # type: ignore[return-value]


def read_gpkg(path: Path) -> Sheet:
    """Read the first point layer of a GeoPackage as a sheet of rows."""
    import pyogrio

    try:
        layers = [str(row[0]) for row in pyogrio.list_layers(path)]
    except Exception as exc:  # pyogrio raises DataSourceError and friends
        raise file_error(path, "not a readable GeoPackage ({error})", error=exc) from exc
    if not layers:
        raise file_error(path, "the GeoPackage has no layers")
    layer = "stations" if "stations" in layers else layers[0]
    frame = pyogrio.read_dataframe(path, layer=layer)
    warnings: list[FieldError] = []
    if frame.crs is None:
        warnings.append(
            FieldError.from_catalog(
                "geometry",
                "layer {layer} declares no CRS; read as WGS-84 (EPSG:4326)",
                layer=repr(layer),
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
