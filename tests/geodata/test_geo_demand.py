"""Demand layers: CSV/GeoJSON points, polygons spread over cells, the synthetic E-Town layer."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import h3
import numpy as np
import pytest
import shapely
from shapely.geometry import box, mapping

from geodata.areas import load_area
from geodata.crs import from_wgs84
from geodata.demand import (
    Demand,
    demand_from_geojson,
    etown_synthetic_demand,
    load_demand,
    uniform_demand,
)
from geodata.errors import GeodataError
from geodata.hexgrid import cells_for_area

ROOT = Path(__file__).resolve().parents[2]
AREA = box(116.50, 39.78, 116.53, 39.80)


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_points_with_english_headers_and_default_weight(tmp_path: Path) -> None:
    p = _write(tmp_path / "d.csv", "lng,latitude,weight\n116.5,39.8,2.5\n116.51,39.81,\n")
    d = load_demand(p)
    assert d.lon.tolist() == [116.5, 116.51]
    assert d.lat.tolist() == [39.8, 39.81]
    assert d.weight.tolist() == [2.5, 1.0]


def test_csv_with_chinese_headers_and_excel_bom(tmp_path: Path) -> None:
    p = tmp_path / "d.csv"
    p.write_bytes("经度,纬度,权重\n116.5,39.8,3\n".encode("utf-8-sig"))
    d = load_demand(p)
    assert (d.lon[0], d.lat[0], d.weight[0]) == (116.5, 39.8, 3.0)


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("lon,lat,weight\n116.5,39.8,1\n116.5,abc,1\n", "row 3"),
        ("lon,lat,weight\n116.5,39.8,-4\n", "row 2"),
        ("lon,lat\n200,39.8\n", "row 2"),
        ("x1,y1\n116.5,39.8\n", "lon and lat columns"),
    ],
)
def test_bad_csv_rows_are_named(tmp_path: Path, body: str, needle: str) -> None:
    with pytest.raises(GeodataError) as err:
        load_demand(_write(tmp_path / "bad.csv", body))
    assert err.value.field == "demand"
    assert needle in str(err.value)


def test_gcj02_csv_is_converted(tmp_path: Path) -> None:
    glon, glat = from_wgs84(116.5, 39.8, "gcj02")
    d = load_demand(_write(tmp_path / "g.csv", f"lon,lat\n{glon!r},{glat!r}\n"), crs="gcj02")
    assert d.lon[0] == pytest.approx(116.5, abs=1e-8)
    assert d.lat[0] == pytest.approx(39.8, abs=1e-8)


def test_geojson_points_and_population_polygons(tmp_path: Path) -> None:
    poly = box(116.50, 39.78, 116.52, 39.79)
    obj = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [116.6, 39.9]},
                "properties": {"weight": 4},
            },
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [116.61, 39.9]},
                "properties": {},
            },
            {"type": "Feature", "geometry": mapping(poly), "properties": {"population": 1000}},
        ],
    }
    d = load_demand(_write(tmp_path / "d.geojson", json.dumps(obj)), resolution=9)
    assert d.weight[:2].tolist() == [4.0, 1.0]
    spread_w = d.weight[2:]
    assert spread_w.sum() == pytest.approx(1000.0)
    assert spread_w.size == cells_for_area(poly, 9).size > 10
    assert shapely.contains_xy(poly, d.lon[2:], d.lat[2:]).all()


def test_polygon_smaller_than_a_cell_becomes_one_point() -> None:
    tiny = box(116.5000, 39.8000, 116.5001, 39.8001)
    d = demand_from_geojson(
        {"type": "Feature", "geometry": mapping(tiny), "properties": {"weight": 7}}
    )
    assert len(d) == 1 and d.weight[0] == 7.0
    assert tiny.contains(shapely.Point(d.lon[0], d.lat[0]))


def test_area_filter_keeps_inside_points_only() -> None:
    obj = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [116.51, 39.79]},
                "properties": {"weight": 1},
            },
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [117.0, 40.0]},
                "properties": {"weight": 1},
            },
        ],
    }
    d = demand_from_geojson(obj, area=AREA)
    assert len(d) == 1 and d.lon[0] == 116.51


@pytest.mark.parametrize(
    ("feature", "needle"),
    [
        (
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [116.5, 39.8]},
                "properties": {"weight": "lots"},
            },
            "feature 1",
        ),
        (
            {
                "type": "Feature",
                "geometry": mapping(box(116.5, 39.8, 116.51, 39.81)),
                "properties": {"name": "x"},
            },
            "population or weight",
        ),
        (
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [[116.5, 39.8], [116.6, 39.9]]},
                "properties": {},
            },
            "LineString",
        ),
    ],
)
def test_bad_features_are_named(feature: dict, needle: str) -> None:
    with pytest.raises(GeodataError) as err:
        demand_from_geojson({"type": "FeatureCollection", "features": [feature]})
    assert err.value.field == "demand" and needle in str(err.value)


def test_demand_outside_the_area_leaves_nothing() -> None:
    obj = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [0.0, 0.0]},
        "properties": {},
    }
    with pytest.raises(GeodataError) as err:
        demand_from_geojson(obj, area=AREA)
    assert "empty" in str(err.value)


def test_demand_arrays_are_validated() -> None:
    with pytest.raises(GeodataError):
        Demand(np.array([116.5]), np.array([39.8, 39.9]), np.array([1.0]))
    with pytest.raises(GeodataError):
        Demand(np.array([116.5]), np.array([39.8]), np.array([np.nan]))


def test_uniform_demand_is_one_unit_per_cell() -> None:
    d = uniform_demand(AREA, 9)
    cells = cells_for_area(AREA, 9)
    assert len(d) == cells.size and (d.weight == 1).all()
    assert d.cells is not None and (d.cells == cells).all()
    lat, lon = h3.cell_to_latlng(h3.int_to_str(int(cells[0])))
    assert (d.lon[0], d.lat[0]) == pytest.approx((lon, lat))


def test_synthetic_etown_layer_is_labelled_inside_and_small() -> None:
    path = ROOT / "geodata" / "data" / "etown_demand_synthetic.geojson"
    assert path.stat().st_size < 300_000
    meta = json.loads(path.read_text(encoding="utf-8"))["metadata"]
    assert meta["synthetic"] is True and "合成示例数据，非真实统计" in meta["label"]
    d = etown_synthetic_demand()
    assert d.synthetic and "SYNTHETIC" in d.label
    assert shapely.contains_xy(load_area(), d.lon, d.lat).all()
    assert d.kind is not None
    assert {"office", "residential", "delivery_hub", "restaurant"} <= set(d.kind.tolist())


def test_synthetic_layer_is_reproduced_by_its_generator() -> None:
    spec = importlib.util.spec_from_file_location(
        "make_demand", ROOT / "scripts" / "make_demand.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path = ROOT / "geodata" / "data" / "etown_demand_synthetic.geojson"
    assert module.build() == path.read_text(encoding="utf-8")


def test_gpkg_in_a_projected_crs_with_points_and_polygons(tmp_path: Path) -> None:
    import geopandas as gpd

    poly = box(116.50, 39.78, 116.52, 39.79)
    gdf = gpd.GeoDataFrame(
        {"weight": [3.0, None], "population": [None, 500.0]},
        geometry=[shapely.Point(116.51, 39.785), poly],
        crs=4326,
    ).to_crs(3857)
    path = tmp_path / "demand.gpkg"
    gdf.to_file(path, driver="GPKG")
    d = load_demand(path)
    assert d.lon[0] == pytest.approx(116.51) and d.lat[0] == pytest.approx(39.785)
    assert d.weight[0] == 3.0
    assert d.weight[1:].sum() == pytest.approx(500.0)
    assert shapely.contains_xy(poly.buffer(1e-9), d.lon[1:], d.lat[1:]).all()
