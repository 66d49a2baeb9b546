"""Service areas: the polygon whose coverage is analysed, read and checked at the edge.

The shipped default is an approximate E-Town (亦庄) polygon.  Users bring their own as GeoJSON,
GeoPackage or shapefile in any CRS; polygons traced on AMap/Tencent (GCJ-02) or Baidu (BD-09)
have their vertices converted to WGS-84.  Every area leaves this module as one valid shapely
Polygon or MultiPolygon in WGS-84 lon/lat, or a :class:`GeodataError` that says what is wrong.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from geodata.crs import crs_name, to_wgs84
from geodata.errors import GeodataError
from geodata.projection import to_metric, utm_crs_for

__all__ = [
    "ETOWN_AREA_PATH",
    "area_from_geojson",
    "area_km2",
    "check_area",
    "load_area",
]

ETOWN_AREA_PATH = Path(__file__).resolve().parent / "data" / "etown_area.geojson"
"""The shipped approximate E-Town service area (WGS-84, one Polygon feature)."""


def _polygon_parts(geom: BaseGeometry) -> list[Polygon]:
    return [g for g in shapely.get_parts(geom) if isinstance(g, Polygon) and not g.is_empty]


def check_area(geom: BaseGeometry | None, where: str = "area") -> Polygon | MultiPolygon:
    """Validate a WGS-84 area and return it as a Polygon or MultiPolygon.

    Why here: an empty, self-intersecting or zero-area polygon makes every later number
    meaningless (or crashes GEOS deep inside an analysis); the user must hear where the
    problem is, in terms of their own file.

    Raises
    ------
    GeodataError
        ``field="area"``: empty, no polygon, invalid (with GEOS's reason and location, e.g.
        ``Self-intersection[116.5 39.8]``), zero area, or coordinates outside lon/lat range.
    """
    if geom is None or geom.is_empty:
        raise GeodataError(f"{where} is empty", field="area")
    parts = _polygon_parts(geom)
    if not parts:
        raise GeodataError(f"{where} contains no polygon (found {geom.geom_type})", field="area")
    for n, p in enumerate(parts, start=1):
        if not p.is_valid:
            label = where if len(parts) == 1 else f"{where} polygon {n}"
            raise GeodataError(
                f"{label} is not a valid polygon: {explain_validity(p)}", field="area"
            )
    out = parts[0] if len(parts) == 1 else shapely.union_all(parts)
    if isinstance(out, shapely.GeometryCollection) and not isinstance(out, MultiPolygon):
        out = MultiPolygon(_polygon_parts(out))
    if out.area == 0:
        raise GeodataError(f"{where} has zero area", field="area")
    minx, miny, maxx, maxy = out.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise GeodataError(
            f"{where} is not in lon/lat degrees (bounds {out.bounds}); give its CRS", field="area"
        )
    return out


def _convert(geom: BaseGeometry, crs: str) -> BaseGeometry:
    if crs == "wgs84":
        return geom

    def move(coords: np.ndarray) -> np.ndarray:
        lon, lat = to_wgs84(coords[:, 0], coords[:, 1], crs)
        return np.column_stack([lon, lat])

    return shapely.transform(geom, move)


def area_from_geojson(obj: Mapping[str, Any], crs: str = "wgs84") -> Polygon | MultiPolygon:
    """An area from a GeoJSON Geometry, Feature or FeatureCollection dict (API bodies).

    Polygonal features are merged; non-polygon features are ignored.  ``crs`` as in
    :func:`load_area`.
    """
    c = crs_name(crs)
    if not isinstance(obj, Mapping) or "type" not in obj:
        raise GeodataError("area must be a GeoJSON object with a 'type'", field="area")
    kind = obj["type"]
    if kind == "FeatureCollection":
        feats = obj.get("features")
        if not isinstance(feats, list):
            raise GeodataError("area FeatureCollection has no 'features' list", field="area")
        geoms = [f.get("geometry") if isinstance(f, Mapping) else None for f in feats]
    elif kind == "Feature":
        geoms = [obj.get("geometry")]
    else:
        geoms = [obj]
    polys: list[Polygon] = []
    for n, g in enumerate(geoms, start=1):
        if not g:
            continue
        try:
            gg = shape(g)
        except Exception as exc:  # shapely raises several types for malformed GeoJSON
            raise GeodataError(f"area feature {n}: bad geometry ({exc})", field="area") from None
        for p in _polygon_parts(gg):
            if not p.is_valid:
                raise GeodataError(
                    f"area feature {n} is not a valid polygon: {explain_validity(p)}", field="area"
                )
            polys.append(p)
    if not polys:
        raise GeodataError("area contains no polygon", field="area")
    merged = polys[0] if len(polys) == 1 else shapely.union_all(polys)
    return check_area(_convert(merged, c))


def load_area(path: str | Path | None = None, crs: str = "wgs84") -> Polygon | MultiPolygon:
    """Read a service area and return it as a valid WGS-84 (Multi)Polygon.

    Why: coverage is always "of something"; union staff get their district outline as a
    GeoJSON from a colleague, a shapefile from the planning bureau (often in a projected or
    local CRS), or trace it on AMap — all must end up as the same WGS-84 polygon.

    Parameters
    ----------
    path
        ``None`` for the shipped E-Town polygon, or a GeoJSON / GeoPackage / shapefile (any
        CRS the file declares; GeoJSON without one is WGS-84).  All polygon features are
        merged; point and line features are ignored.
    crs
        ``wgs84`` (default), or ``gcj02`` / ``bd09`` when the lon/lat were traced on a
        Chinese map: vertices are converted to WGS-84.

    Raises
    ------
    GeodataError
        ``field="area"``: missing/unreadable file, no polygon, a self-intersecting or
        otherwise invalid polygon (reason and location), zero area.  ``field="crs"``: an
        unknown ``crs``.
    """
    c = crs_name(crs)
    p = ETOWN_AREA_PATH if path is None else Path(path)
    if not p.exists():
        raise GeodataError(f"area file {str(p)!r} does not exist", field="area")
    if p.suffix.lower() in (".geojson", ".json"):
        try:
            obj = json.loads(p.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise GeodataError(f"{p.name}: not valid GeoJSON ({exc})", field="area") from None
        if isinstance(obj, Mapping) and obj.get("crs") is None:
            try:
                return area_from_geojson(obj, c)
            except GeodataError as exc:
                raise GeodataError(f"{p.name}: {exc}", field=exc.field) from None
    return _read_vector(p, c)


def _read_vector(p: Path, crs: str) -> Polygon | MultiPolygon:
    import geopandas as gpd

    try:
        gdf = gpd.read_file(p)
    except Exception as exc:  # pyogrio raises DataSourceError and friends
        raise GeodataError(f"cannot read area file {p.name}: {exc}", field="area") from None
    if len(gdf) == 0:
        raise GeodataError(f"{p.name} has no features", field="area")
    if gdf.crs is None:
        minx, miny, maxx, maxy = gdf.total_bounds
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            raise GeodataError(
                f"{p.name} declares no CRS and its coordinates are not lon/lat; "
                "add a .prj or save it with a CRS",
                field="area",
            )
    elif not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs("EPSG:4326")
    polys: list[Polygon] = []
    for n, g in enumerate(gdf.geometry, start=1):
        if g is None or g.is_empty:
            continue
        for part in _polygon_parts(g):
            if not part.is_valid:
                raise GeodataError(
                    f"{p.name} feature {n} is not a valid polygon: {explain_validity(part)}",
                    field="area",
                )
            polys.append(part)
    if not polys:
        raise GeodataError(f"{p.name} contains no polygon", field="area")
    merged = polys[0] if len(polys) == 1 else shapely.union_all(polys)
    return check_area(_convert(merged, crs), where=p.name)


def area_km2(area: BaseGeometry) -> float:
    """Area in km², measured in the UTM zone of the area's centre (never in degrees)."""
    return float(to_metric(area, utm_crs_for(area)).area) / 1e6
