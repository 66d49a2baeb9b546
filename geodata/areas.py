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


def check_area(geom: BaseGeometry | None) -> Polygon | MultiPolygon:
    """Validate a WGS-84 area and return it as a Polygon or MultiPolygon.

    Why here: an empty, self-intersecting or zero-area polygon makes every later number
    meaningless (or crashes GEOS deep inside an analysis); the user must hear where the
    problem is, in terms of their own file (:func:`load_area` puts the file's name first).

    Raises
    ------
    GeodataError
        ``field="area"``: empty, no polygon, invalid (with GEOS's reason and location, e.g.
        ``Self-intersection[116.5 39.8]``), zero area, or coordinates outside lon/lat range.
    """
    if geom is None or geom.is_empty:
        raise GeodataError.from_catalog("area", "the area is empty")
    parts = _polygon_parts(geom)
    if not parts:
        raise GeodataError.from_catalog(
            "area", "the area contains no polygon (found {kind})", kind=geom.geom_type
        )
    for n, p in enumerate(parts, start=1):
        if not p.is_valid:
            if len(parts) == 1:
                raise GeodataError.from_catalog(
                    "area", "the area is not a valid polygon: {reason}", reason=explain_validity(p)
                )
            raise GeodataError.from_catalog(
                "area",
                "polygon {n} of the area is not a valid polygon: {reason}",
                n=n,
                reason=explain_validity(p),
            )
    out = parts[0] if len(parts) == 1 else shapely.union_all(parts)
    if isinstance(out, shapely.GeometryCollection) and not isinstance(out, MultiPolygon):
        out = MultiPolygon(_polygon_parts(out))
    if out.area == 0:
        raise GeodataError.from_catalog("area", "the area has zero area")
    minx, miny, maxx, maxy = out.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise GeodataError.from_catalog(
            "area",
            "the area is not in lon/lat degrees (bounds {bounds}); give its CRS",
            bounds=out.bounds,
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
        raise GeodataError.from_catalog("area", "area must be a GeoJSON object with a 'type'")
    kind = obj["type"]
    if kind == "FeatureCollection":
        feats = obj.get("features")
        if not isinstance(feats, list):
            raise GeodataError.from_catalog("area", "area FeatureCollection has no 'features' list")
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
            raise GeodataError.from_catalog(
                "area", "area feature {n}: bad geometry ({reason})", n=n, reason=str(exc)
            ) from None
        for p in _polygon_parts(gg):
            if not p.is_valid:
                raise GeodataError.from_catalog(
                    "area",
                    "area feature {n} is not a valid polygon: {reason}",
                    n=n,
                    reason=explain_validity(p),
                )
            polys.append(p)
    if not polys:
        raise GeodataError.from_catalog("area", "area contains no polygon")
    merged = polys[0] if len(polys) == 1 else shapely.union_all(polys)
    return check_area(_convert(merged, c))


def _in_file(name: str, exc: GeodataError) -> GeodataError:
    """``exc`` about the area file ``name``: "name: problem", the problem a nested catalog
    message (rendered in the reader's language with the rest).
    """
    return GeodataError.from_catalog(
        exc.field or "area", "{file}: {problem}", file=name, problem=exc
    )


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
        unknown ``crs``.  Every one is a catalog message, the file's name first.
    """
    c = crs_name(crs)
    p = ETOWN_AREA_PATH if path is None else Path(path)
    if not p.exists():
        raise GeodataError.from_catalog(
            "area", "area file {path} does not exist", path=repr(str(p))
        )
    if p.suffix.lower() in (".geojson", ".json"):
        try:
            obj = json.loads(p.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise GeodataError.from_catalog(
                "area", "{file}: not valid GeoJSON ({reason})", file=p.name, reason=str(exc)
            ) from None
        if isinstance(obj, Mapping) and obj.get("crs") is None:
            try:
                return area_from_geojson(obj, c)
            except GeodataError as exc:
                raise _in_file(p.name, exc) from None
    return _read_vector(p, c)


def _read_vector(p: Path, crs: str) -> Polygon | MultiPolygon:
    import geopandas as gpd

    try:
        gdf = gpd.read_file(p)
    except Exception as exc:  # pyogrio raises DataSourceError and friends
        raise GeodataError.from_catalog(
            "area", "cannot read area file {file}: {reason}", file=p.name, reason=str(exc)
        ) from None
    if len(gdf) == 0:
        raise GeodataError.from_catalog("area", "{file} has no features", file=p.name)
    if gdf.crs is None:
        minx, miny, maxx, maxy = gdf.total_bounds
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            raise GeodataError.from_catalog(
                "area",
                "{file} declares no CRS and its coordinates are not lon/lat; "
                "add a .prj or save it with a CRS",
                file=p.name,
            )
    elif not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs("EPSG:4326")
    polys: list[Polygon] = []
    for n, g in enumerate(gdf.geometry, start=1):
        if g is None or g.is_empty:
            continue
        for part in _polygon_parts(g):
            if not part.is_valid:
                raise GeodataError.from_catalog(
                    "area",
                    "{file} feature {n} is not a valid polygon: {reason}",
                    file=p.name,
                    n=n,
                    reason=explain_validity(part),
                )
            polys.append(part)
    if not polys:
        raise GeodataError.from_catalog("area", "{file} contains no polygon", file=p.name)
    merged = polys[0] if len(polys) == 1 else shapely.union_all(polys)
    try:
        return check_area(_convert(merged, crs))
    except GeodataError as exc:
        raise _in_file(p.name, exc) from None


def area_km2(area: BaseGeometry) -> float:
    """Area in km², measured in the UTM zone of the area's centre (never in degrees)."""
    return float(to_metric(area, utm_crs_for(area)).area) / 1e6
