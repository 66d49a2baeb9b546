"""Service areas: reading in any CRS and format, GCJ-02 traced polygons, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import Polygon, box, mapping

from geodata.areas import area_from_geojson, area_km2, check_area, load_area
from geodata.crs import from_wgs84
from geodata.errors import GeodataError

SQUARE = box(116.50, 39.78, 116.53, 39.80)


def _geodesic_km2(poly: Polygon) -> float:
    area, _ = Geod(ellps="WGS84").geometry_area_perimeter(poly)
    return abs(area) / 1e6


def _fc(*geoms: object) -> dict:
    return {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "geometry": g, "properties": {}} for g in geoms],
    }


def test_default_area_is_the_shipped_etown_polygon() -> None:
    area = load_area()
    assert area.is_valid and area.geom_type == "Polygon"
    minx, miny, maxx, maxy = area.bounds
    assert 116.3 < minx < maxx < 116.8 and 39.6 < miny < maxy < 40.0
    # UTM area agrees with the geodesic area of the same polygon
    assert area_km2(area) == pytest.approx(_geodesic_km2(area), rel=2e-3)


@pytest.mark.parametrize(
    ("suffix", "driver"),
    [
        (".geojson", "GeoJSON"),
        (".gpkg", "GPKG"),
        (".shp", "ESRI Shapefile"),
    ],
)
def test_files_in_a_projected_crs_come_back_in_wgs84(
    tmp_path: Path, suffix: str, driver: str
) -> None:
    path = tmp_path / f"area{suffix}"
    gpd.GeoDataFrame({"name": ["a"]}, geometry=[SQUARE], crs=4326).to_crs(3857).to_file(
        path, driver=driver
    )
    area = load_area(path)
    assert area.symmetric_difference(SQUARE).area < 1e-9 * SQUARE.area + 1e-12


def test_gcj02_traced_polygon_is_moved_back_to_wgs84(tmp_path: Path) -> None:
    xy = np.asarray(SQUARE.exterior.coords)
    glon, glat = from_wgs84(xy[:, 0], xy[:, 1], "gcj02")
    traced = Polygon(np.column_stack([glon, glat]))
    path = tmp_path / "traced.geojson"
    path.write_text(json.dumps(_fc(mapping(traced))), encoding="utf-8")
    as_wgs = load_area(path)
    # read as WGS-84 the traced square is hundreds of metres off the real one
    assert as_wgs.symmetric_difference(SQUARE).area > 0.01 * SQUARE.area
    back = load_area(path, crs="gcj02")
    got = np.asarray(back.exterior.coords)
    # same vertices (order may start elsewhere): every original vertex is within ~1 cm
    for x, y in xy[:-1]:
        assert np.min(np.hypot(got[:, 0] - x, got[:, 1] - y)) < 1e-7


def test_multiple_polygon_features_merge_and_points_are_ignored() -> None:
    a = box(116.50, 39.78, 116.51, 39.79)
    b = box(116.52, 39.78, 116.53, 39.79)
    area = area_from_geojson(_fc(mapping(a), mapping(b), {"type": "Point", "coordinates": [1, 2]}))
    assert area.geom_type == "MultiPolygon"
    assert area.area == pytest.approx(a.area + b.area)


def test_geometry_and_feature_objects_are_accepted() -> None:
    assert area_from_geojson(mapping(SQUARE)).equals(SQUARE)
    feat = {"type": "Feature", "geometry": mapping(SQUARE), "properties": {}}
    assert area_from_geojson(feat).equals(SQUARE)


def test_self_intersection_is_reported_with_its_location() -> None:
    bowtie = {
        "type": "Polygon",
        "coordinates": [
            [[116.5, 39.8], [116.6, 39.9], [116.6, 39.8], [116.5, 39.9], [116.5, 39.8]]
        ],
    }
    with pytest.raises(GeodataError) as err:
        area_from_geojson(_fc(bowtie))
    assert err.value.field == "area"
    assert "Self-intersection" in str(err.value) and "116.55" in str(err.value)


@pytest.mark.parametrize(
    "obj",
    [
        _fc(),
        _fc({"type": "Point", "coordinates": [116.5, 39.8]}),
        {"type": "Polygon", "coordinates": []},
        {"features": []},
    ],
)
def test_empty_or_polygon_free_input_is_rejected(obj: dict) -> None:
    with pytest.raises(GeodataError) as err:
        area_from_geojson(obj)
    assert err.value.field == "area"


def test_zero_area_is_rejected() -> None:
    flat = shapely.Polygon([(116.5, 39.8), (116.6, 39.8), (116.6, 39.8), (116.5, 39.8)])
    with pytest.raises(GeodataError) as err:
        check_area(flat)
    assert err.value.field == "area"


def test_unknown_crs_and_missing_file_are_named(tmp_path: Path) -> None:
    with pytest.raises(GeodataError) as err:
        load_area(None, crs="mars2000")
    assert err.value.field == "crs"
    with pytest.raises(GeodataError) as err:
        load_area(tmp_path / "nope.geojson")
    assert err.value.field == "area" and "does not exist" in str(err.value)


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_shapefile_without_crs_in_metres_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "nocrs.shp"
    gpd.GeoDataFrame({"n": [1]}, geometry=[box(500000, 4400000, 501000, 4401000)]).to_file(path)
    with pytest.raises(GeodataError) as err:
        load_area(path)
    assert "CRS" in str(err.value)
