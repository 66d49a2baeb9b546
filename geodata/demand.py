"""Demand layers: where riders spend their day, as weighted points.

A :class:`Demand` is three equal-length arrays — lon, lat (WGS-84) and a non-negative
weight (riders, orders, people…).  Polygons with a population are turned into points at the
H3 cells inside them, the weight split by cell area, so every analysis sees only points.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from geodata.crs import crs_name, to_wgs84
from geodata.errors import CatalogText, GeodataError
from geodata.hexgrid import HexGrid, cell_centres, cells_for_area, check_resolution, hex_grid

__all__ = [
    "Demand",
    "demand_from_geojson",
    "demand_points",
    "etown_synthetic_demand",
    "load_demand",
    "uniform_demand",
]

_DATA = Path(__file__).resolve().parent / "data"
_LON_HEADERS = ("lon", "lng", "longitude", "long", "x", "经度")
_LAT_HEADERS = ("lat", "latitude", "y", "纬度")
_WEIGHT_HEADERS = ("weight", "权重", "需求", "population", "人口")


@dataclass(frozen=True)
class Demand:
    """Weighted demand points in WGS-84.

    ``cells`` (with ``resolution``) is set when each point is an H3 cell centre, which lets
    the gap analysis skip locating the points again.  ``synthetic`` marks made-up layers.
    """

    lon: NDArray[np.float64] = field(repr=False)
    lat: NDArray[np.float64] = field(repr=False)
    weight: NDArray[np.float64] = field(repr=False)
    label: str = "demand"
    synthetic: bool = False
    cells: NDArray[np.uint64] | None = field(default=None, repr=False)
    resolution: int | None = None
    kind: NDArray[np.str_] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        lon = np.asarray(self.lon, dtype=float).ravel()
        lat = np.asarray(self.lat, dtype=float).ravel()
        w = np.asarray(self.weight, dtype=float).ravel()
        if not (lon.size == lat.size == w.size):
            raise GeodataError(
                f"demand lon, lat and weight differ in length ({lon.size}, {lat.size}, {w.size})",
                field="demand",
            )
        for name, arr, lim in (("lon", lon, 180.0), ("lat", lat, 90.0)):
            bad = ~np.isfinite(arr) | (np.abs(arr) > lim)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise GeodataError.from_catalog(
                    "demand",
                    "demand point {i}: {column} {given} is out of range",
                    i=i,
                    column=name,
                    given=repr(arr[i]),
                )
        bad = ~np.isfinite(w) | (w < 0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise GeodataError.from_catalog(
                "demand",
                "demand point {i}: weight {given} must be a number ≥ 0",
                i=i,
                given=repr(w[i]),
            )
        object.__setattr__(self, "lon", lon)
        object.__setattr__(self, "lat", lat)
        object.__setattr__(self, "weight", w)
        if self.cells is not None:
            cells = np.asarray(self.cells, dtype=np.uint64).ravel()
            if cells.size != lon.size or self.resolution is None:
                raise GeodataError(
                    "demand cells need one id per point and a resolution", field="demand"
                )
            object.__setattr__(self, "cells", cells)

    def __len__(self) -> int:
        return int(self.lon.size)

    def __repr__(self) -> str:
        return (
            f"Demand({len(self)} points, total weight {self.total_weight:g}, "
            f"label={self.label!r}, synthetic={self.synthetic})"
        )

    @property
    def total_weight(self) -> float:
        """Sum of all weights."""
        return float(self.weight.sum())

    def require_nonempty(self) -> None:
        """Raise GeodataError(field="demand") when there is no demand or all weights are 0."""
        if len(self) == 0 or self.total_weight <= 0:
            raise GeodataError.from_catalog(
                "demand", "the demand layer is empty (no points or all weights are 0)"
            )

    def subset(self, mask: NDArray[np.bool_]) -> Demand:
        """The demand points where ``mask`` is true."""
        return Demand(
            self.lon[mask],
            self.lat[mask],
            self.weight[mask],
            self.label,
            self.synthetic,
            None if self.cells is None else self.cells[mask],
            self.resolution,
            None if self.kind is None else self.kind[mask],
        )


def uniform_demand(
    area: BaseGeometry | None = None, resolution: int = 9, *, grid: HexGrid | None = None
) -> Demand:
    """One unit of demand at the centre of every H3 cell of the area.

    Why: with no data on where riders are, every part of the area counts the same, and the
    demand coverage equals the share of the area's cells within reach.

    Parameters
    ----------
    area
        WGS-84 (Multi)Polygon; not needed when ``grid`` is given.
    resolution
        H3 resolution (9 ≈ 0.1 km² cells).
    grid
        A prebuilt :class:`~geodata.hexgrid.HexGrid` to reuse.
    """
    if grid is None:
        if area is None:
            raise GeodataError("uniform demand needs an area or a grid", field="area")
        grid = hex_grid(area, resolution)
    return Demand(
        grid.lon,
        grid.lat,
        np.ones(len(grid)),
        f"uniform H3 res {grid.resolution}",
        False,
        grid.cells,
        grid.resolution,
    )


def etown_synthetic_demand() -> Demand:
    """The shipped SYNTHETIC E-Town demand layer (合成示例数据，非真实统计).

    Made by ``scripts/make_demand.py`` around real place names (office parks, residential
    compounds, delivery hubs, restaurant streets); for demos and tests, not for decisions.
    """
    d = load_demand(_DATA / "etown_demand_synthetic.geojson")
    return Demand(d.lon, d.lat, d.weight, "E-Town synthetic demand (SYNTHETIC)", True, kind=d.kind)


def _to_wgs84(
    lon: NDArray[np.float64], lat: NDArray[np.float64], crs: str
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    if crs == "wgs84":
        return lon, lat
    out = to_wgs84(lon, lat, crs)
    return np.asarray(out[0], dtype=float), np.asarray(out[1], dtype=float)


def _present(value: Any) -> bool:
    """A property value that is there: not None, not blank, not a NaN (empty cell in a GPKG)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return False
    return not (isinstance(value, float) and math.isnan(value))


def _number(value: Any, where: CatalogText, name: str, default: float | None) -> float:
    if not _present(value):
        if default is None:
            raise GeodataError.from_catalog(
                "demand", "{where}: {column} is missing", where=where, column=name
            )
        return default
    try:
        if isinstance(value, bool):
            raise TypeError(value)
        x = float(str(value).strip().replace(",", "")) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        raise GeodataError.from_catalog(
            "demand",
            "{where}: {column} {given} is not a number",
            where=where,
            column=name,
            given=repr(value),
        ) from None
    if not math.isfinite(x):
        raise GeodataError.from_catalog(
            "demand",
            "{where}: {column} {given} is not a finite number",
            where=where,
            column=name,
            given=repr(value),
        )
    return x


def _pick(headers: Iterable[str], names: tuple[str, ...]) -> str | None:
    low = {h.strip().lower(): h for h in headers if h is not None}
    for n in names:
        if n in low:
            return low[n]
    return None


def _read_csv(path: Path) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        headers = reader.fieldnames or []
        lon_h, lat_h = _pick(headers, _LON_HEADERS), _pick(headers, _LAT_HEADERS)
        if lon_h is None or lat_h is None:
            raise GeodataError.from_catalog(
                "demand",
                "{file}: needs lon and lat columns (lon/lng/longitude/经度, "
                "lat/latitude/纬度); found {headers}",
                file=path.name,
                headers=headers,
            )
        w_h = _pick(headers, _WEIGHT_HEADERS)
        lon, lat, w = [], [], []
        for n, row in enumerate(reader, start=2):
            where = CatalogText("{file} row {n}", file=path.name, n=n)
            x = _number(row.get(lon_h), where, lon_h, None)
            y = _number(row.get(lat_h), where, lat_h, None)
            if not (-180 <= x <= 180 and -90 <= y <= 90):
                raise GeodataError.from_catalog(
                    "demand",
                    "{where}: lon/lat {x}, {y} is not a WGS-84 position",
                    where=where,
                    x=x,
                    y=y,
                )
            wt = _number(row.get(w_h) if w_h else None, where, w_h or "weight", 1.0)
            if wt < 0:
                raise GeodataError.from_catalog(
                    "demand",
                    "{where}: {column} {given} must be ≥ 0",
                    where=where,
                    column=w_h,
                    given=wt,
                )
            lon.append(x)
            lat.append(y)
            w.append(wt)
    return np.array(lon, float), np.array(lat, float), np.array(w, float)


def _polygon_points(
    poly: BaseGeometry, weight: float, resolution: int
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Spread a polygon's weight over its H3 cell centres in proportion to cell area."""
    import h3.api.basic_int as h3i

    cells = cells_for_area(poly, resolution)
    lon, lat = cell_centres(cells)
    if cells.size == 1:
        pt = poly.representative_point()
        return np.array([pt.x]), np.array([pt.y]), np.array([weight])
    areas = np.array([h3i.cell_area(c, "m^2") for c in cells.tolist()])
    return lon, lat, weight * areas / areas.sum()


def _features_to_demand(
    features: list[tuple[BaseGeometry | None, Mapping[str, Any]]],
    source: str,
    crs: str,
    resolution: int,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.str_]]:
    lons: list[NDArray[np.float64]] = []
    lats: list[NDArray[np.float64]] = []
    ws: list[NDArray[np.float64]] = []
    kinds: list[NDArray[np.str_]] = []
    for n, (geom, props) in enumerate(features, start=1):
        where = (
            CatalogText("demand feature {n}", n=n)
            if source == "demand"  # an API body: no file name to show
            else CatalogText("{file} feature {n}", file=source, n=n)
        )
        if geom is None or geom.is_empty:
            raise GeodataError.from_catalog("demand", "{where}: has no geometry", where=where)
        kind = str(props.get("kind", "") or "")
        if geom.geom_type in ("Point", "MultiPoint"):
            w = _number(props.get("weight"), where, "weight", 1.0)
            if w < 0:
                raise GeodataError.from_catalog(
                    "demand",
                    "{where}: {column} {given} must be ≥ 0",
                    where=where,
                    column="weight",
                    given=w,
                )
            xy = shapely.get_coordinates(geom)
            x, y = _to_wgs84(xy[:, 0], xy[:, 1], crs)
            lons.append(x)
            lats.append(y)
            ws.append(np.full(x.size, w / x.size))
            kinds.append(np.full(x.size, kind))
        elif geom.geom_type in ("Polygon", "MultiPolygon"):
            key = "weight" if _present(props.get("weight")) else "population"
            w = _number(props.get(key), where, "population or weight", None)
            if w < 0:
                raise GeodataError.from_catalog(
                    "demand",
                    "{where}: {column} {given} must be ≥ 0",
                    where=where,
                    column=key,
                    given=w,
                )
            if not geom.is_valid:
                from shapely.validation import explain_validity

                raise GeodataError.from_catalog(
                    "demand",
                    "{where}: invalid polygon ({reason})",
                    where=where,
                    reason=explain_validity(geom),
                )
            if crs != "wgs84":
                geom = shapely.transform(
                    geom, lambda c: np.column_stack(_to_wgs84(c[:, 0], c[:, 1], crs))
                )
            # the whole polygon is spread; cells outside ``area`` are dropped afterwards,
            # so a polygon half inside the area contributes about half its weight
            polys = [g for g in shapely.get_parts(geom) if isinstance(g, Polygon)]
            if not polys:
                continue
            x, y, pw = _polygon_points(
                MultiPolygon(polys) if len(polys) > 1 else polys[0], w, resolution
            )
            lons.append(x)
            lats.append(y)
            ws.append(pw)
            kinds.append(np.full(x.size, kind))
        else:
            raise GeodataError.from_catalog(
                "demand",
                "{where}: {kind} is not a point or polygon",
                where=where,
                kind=geom.geom_type,
            )
    if not lons:
        return np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0, dtype=str)
    return np.concatenate(lons), np.concatenate(lats), np.concatenate(ws), np.concatenate(kinds)


def demand_from_geojson(
    obj: Mapping[str, Any],
    crs: str = "wgs84",
    area: BaseGeometry | None = None,
    resolution: int = 9,
) -> Demand:
    """Demand from a GeoJSON FeatureCollection/Feature dict (for API bodies); see :func:`load_demand`."""
    crs = crs_name(crs)
    res = check_resolution(resolution)
    if not isinstance(obj, Mapping) or "type" not in obj:
        raise GeodataError.from_catalog("demand", "demand must be a GeoJSON object with a 'type'")
    if obj["type"] == "FeatureCollection":
        feats = obj.get("features")
        if not isinstance(feats, list):
            raise GeodataError.from_catalog(
                "demand", "demand FeatureCollection has no 'features' list"
            )
    elif obj["type"] == "Feature":
        feats = [obj]
    else:
        feats = [{"type": "Feature", "geometry": obj, "properties": {}}]
    pairs = []
    for n, f in enumerate(feats, start=1):
        if not isinstance(f, Mapping):
            raise GeodataError.from_catalog("demand", "demand feature {n} is not an object", n=n)
        try:
            g = shapely.geometry.shape(f["geometry"]) if f.get("geometry") else None
        except Exception as exc:  # shapely raises several types for bad GeoJSON
            raise GeodataError.from_catalog(
                "demand", "demand feature {n}: bad geometry ({reason})", n=n, reason=str(exc)
            ) from None
        pairs.append((g, f.get("properties") or {}))
    return _finish(_features_to_demand(pairs, "demand", crs, res), "demand", area)


def _finish(
    arrays: tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.str_]],
    label: str,
    area: BaseGeometry | None,
) -> Demand:
    lon, lat, w, kind = arrays
    d = Demand(lon, lat, w, label, kind=kind)
    if area is not None and len(d):
        d = d.subset(shapely.contains_xy(area, d.lon, d.lat))
    d.require_nonempty()
    return d


def load_demand(
    path: str | Path,
    crs: str = "wgs84",
    area: BaseGeometry | None = None,
    resolution: int = 9,
) -> Demand:
    """Read a demand layer: weighted points (CSV, GeoJSON, GPKG, shapefile) or polygons.

    Why several forms: union staff have order counts per point from platforms, or population
    per community polygon.  Points take a numeric ``weight`` (default 1); polygons need
    ``weight`` or ``population`` and are spread over their H3 cells (by area).

    Parameters
    ----------
    path
        ``.csv`` (headers ``lon``/``lng``/``longitude``/``经度``, ``lat``/``latitude``/``纬度``,
        optional ``weight``/``权重``) or any vector file geopandas reads, in any CRS.
    crs
        ``wgs84`` | ``gcj02`` | ``bd09``: the lon/lat were taken from a Chinese map and are
        converted to WGS-84.
    area
        Keep only demand inside this WGS-84 area (polygon cells outside it are dropped).
    resolution
        H3 resolution used to spread polygons.

    Raises
    ------
    GeodataError
        Unreadable file, bad row/feature (the message names it and the field), or no demand
        left (field ``demand``).
    """
    crs = crs_name(crs)
    res = check_resolution(resolution)
    p = Path(path)
    if not p.exists():
        raise GeodataError.from_catalog(
            "demand", "demand file {path} does not exist", path=repr(str(p))
        )
    if p.suffix.lower() in (".csv", ".txt"):
        lon, lat, w = _read_csv(p)
        lon, lat = _to_wgs84(lon, lat, crs)
        return _finish((lon, lat, w, np.full(lon.size, "")), p.name, area)
    if p.suffix.lower() in (".geojson", ".json"):
        try:
            obj = json.loads(p.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise GeodataError.from_catalog(
                "demand", "{file}: not valid GeoJSON ({reason})", file=p.name, reason=str(exc)
            ) from None
        if isinstance(obj, Mapping) and obj.get("crs") is None:
            d = demand_from_geojson(obj, crs, None, res)
            meta = obj.get("metadata") or {}
            out = Demand(
                d.lon,
                d.lat,
                d.weight,
                str(meta.get("label", p.name)),
                bool(meta.get("synthetic", False)),
                kind=d.kind,
            )
            if area is not None:
                out = out.subset(shapely.contains_xy(area, out.lon, out.lat))
                out.require_nonempty()
            return out
    return _read_vector(p, crs, area, res)


def _read_vector(p: Path, crs: str, area: BaseGeometry | None, res: int) -> Demand:
    import geopandas as gpd

    try:
        gdf = gpd.read_file(p)
    except Exception as exc:  # pyogrio raises DataSourceError and friends
        raise GeodataError.from_catalog(
            "demand", "cannot read demand file {file}: {reason}", file=p.name, reason=str(exc)
        ) from None
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs("EPSG:4326")
    props = gdf.drop(columns=gdf.geometry.name).to_dict("records")
    pairs = list(zip(list(gdf.geometry), props, strict=True))
    return _finish(_features_to_demand(pairs, p.name, crs, res), p.name, area)


def demand_points(
    lon: ArrayLike, lat: ArrayLike, weight: ArrayLike | None = None, label: str = "demand"
) -> Demand:
    """Build a :class:`Demand` from arrays (weight defaults to 1 each)."""
    lo = np.asarray(lon, dtype=float)
    w = np.ones(lo.size) if weight is None else np.asarray(weight, dtype=float)
    return Demand(lo, np.asarray(lat, dtype=float), w, label)
