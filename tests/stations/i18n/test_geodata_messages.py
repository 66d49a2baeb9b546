"""``geodata``'s errors staff meet read in Chinese too, from the ``stations`` catalogs."""

from __future__ import annotations

import ast
import inspect
import json
from pathlib import Path

import pytest

from geodata.areas import area_from_geojson, check_area, load_area
from geodata.coverage import check_points, gaps
from geodata.demand import demand_from_geojson, load_demand, uniform_demand
from geodata.distance import geodesic_m
from geodata.errors import GeodataError
from geodata.hexgrid import check_resolution, hex_grid
from geodata.network.graph import check_mode
from geodata.network.osm import read_osm
from geodata.planning import plan_sites
from geodata.projection import utm_crs_for
from geodata.reach import as_reach, minutes_to_metres
from geodata.spatial_index import GeodesicIndex
from stations.errors import FieldError, geodata_message
from tests.stations.i18n.extraction import ROOT, catalog, extract

BOWTIE = [[[116.5, 39.8], [116.6, 39.9], [116.6, 39.8], [116.5, 39.9], [116.5, 39.8]]]


def _cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _raised(call, *args) -> GeodataError:  # type: ignore[no-untyped-def]
    with pytest.raises(GeodataError) as err:
        call(*args)
    return err.value


def test_geodata_catalog_ids_are_extracted() -> None:
    """``pybabel extract`` (babel.cfg, ``from_catalog:2``) finds the ids in ``geodata``."""
    geodata = ROOT / "geodata"
    found = {m.id: m for m in extract() if isinstance(m.id, str)}
    places = {Path(path) for path, _ in found["the area is empty"].locations}
    assert places == {geodata / "areas.py"}
    zh = {m.id for m in catalog("zh_CN")}
    ids = {
        i for i, m in found.items() if any(Path(p).is_relative_to(geodata) for p, _ in m.locations)
    }
    assert len(ids) >= 19 and ids <= zh


def _area_errors(tmp: Path) -> list[GeodataError]:
    bad_json = tmp / "bad.geojson"
    bad_json.write_text("{", encoding="utf-8")
    bowtie_file = tmp / "bowtie.geojson"
    bowtie_file.write_text(json.dumps({"type": "Polygon", "coordinates": BOWTIE}), "utf-8")
    return [
        _raised(load_area, tmp / "nope.geojson"),
        _raised(load_area, bad_json),
        _raised(load_area, bowtie_file),
        _raised(area_from_geojson, {"features": []}),
        _raised(area_from_geojson, {"type": "FeatureCollection"}),
        _raised(area_from_geojson, {"type": "Polygon", "coordinates": BOWTIE}),
        _raised(area_from_geojson, {"type": "Point", "coordinates": [116.5, 39.8]}),
        _raised(check_area, None),
    ]


def test_every_area_error_has_a_chinese_text(tmp_path: Path) -> None:
    for exc in _area_errors(tmp_path):
        message = geodata_message(exc)
        assert message is not None, str(exc)
        assert exc.field == "area"
        assert message.text("en") == str(exc)
        assert _cjk(message.text("zh-CN")), message.text("zh-CN")


def test_an_area_file_problem_nests_in_one_language(tmp_path: Path) -> None:
    """ "file: problem" — the problem inside is rendered in the same language as the line."""
    path = tmp_path / "bowtie.geojson"
    path.write_text(json.dumps({"type": "Polygon", "coordinates": BOWTIE}), encoding="utf-8")
    exc = _raised(load_area, path)
    message = geodata_message(exc)
    assert message is not None
    assert message.text("zh-CN").startswith("bowtie.geojson：区域第 1 个要素不是有效的多边形：")
    assert str(exc).startswith("bowtie.geojson: area feature 1 is not a valid polygon:")
    field = FieldError.of(exc)
    assert (field.field, field.text("zh-CN")) == ("area", message.text("zh-CN"))
    assert field.message == str(exc)


def test_network_and_parameter_errors_have_a_chinese_text(tmp_path: Path) -> None:
    """The street network file, travel mode, gap size, positions and grid resolution staff
    give: each error names its field and reads in Chinese from the catalogs."""
    square = area_from_geojson(
        {
            "type": "Polygon",
            "coordinates": [[[116.5, 39.8], [116.51, 39.8], [116.51, 39.81], [116.5, 39.8]]],
        }
    )
    cases = {
        "network": _raised(read_osm, tmp_path / "missing.osm.pbf"),
        "mode": _raised(check_mode, "car"),
        "max_gap_km2": _raised(lambda: gaps(square, [116.7], [39.9], max_area_km2=0)),
        "stations": _raised(check_points, [200.0], [39.8], "stations"),
        "lat1": _raised(geodesic_m, 116.5, 95.0, 116.6, 39.8),
        "resolution": _raised(check_resolution, 16),
        "area": _raised(hex_grid, square.buffer(-1), 9),
        "minutes": _raised(minutes_to_metres, -5),
        "speed": _raised(minutes_to_metres, 15, "car"),
        "radius_m": _raised(as_reach, "wide"),
        "n_new": _raised(
            lambda: plan_sites(uniform_demand(square, 9), [], [], [116.505], [39.805], 500.0, 0)
        ),
        "lon": _raised(GeodesicIndex([1], [116.5], [39.8]).nearest, "east", 39.8, 1),
        "lat": _raised(GeodesicIndex([1], [116.5], [39.8]).nearest, 116.5, 91, 1),
        "k": _raised(GeodesicIndex([1], [116.5], [39.8]).nearest, 116.5, 39.8, 0),
        "candidates": _raised(
            lambda: plan_sites(uniform_demand(square, 9), [], [], [], [], 500.0, 1)
        ),
    }
    for field, exc in cases.items():
        message = geodata_message(exc)
        assert exc.field == field and message is not None, (field, str(exc))
        assert message.text("en") == str(exc)
        assert _cjk(message.text("zh-CN")), message.text("zh-CN")
        assert FieldError.of(exc).text("zh-CN") == message.text("zh-CN")
    assert _raised(utm_crs_for, 116.5, 88.0).msgid is not None


def test_a_demand_file_row_problem_reads_in_one_language(tmp_path: Path) -> None:
    """Where in the file ("row 3") is rendered in the same language as the problem."""
    path = tmp_path / "riders.csv"
    path.write_text("lon,lat,weight\n116.5,39.8,1\n116.5,39.8,lots\n", encoding="utf-8")
    exc = _raised(load_demand, path)
    message = geodata_message(exc)
    assert message is not None and exc.field == "demand"
    assert str(exc) == "riders.csv row 3: weight 'lots' is not a number"
    assert message.text("zh-CN") == "riders.csv 第 3 行：weight 'lots' 不是数字"
    body = {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": None}]}
    bad = FieldError.of(_raised(demand_from_geojson, body))
    assert bad.field == "demand" and bad.message == "demand feature 1: has no geometry"
    assert bad.text("zh-CN") == "需求数据第 1 个要素：没有几何图形"


#: FieldError.from_catalog's own arguments: a geodata param of the same name would clash
#: when FieldError.of re-raises the error in the domain's terms.
RESERVED = set(inspect.signature(FieldError.from_catalog).parameters)


def test_geodata_params_do_not_clash_with_field_errors() -> None:
    for path in (ROOT / "geodata").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "from_catalog":
                clash = {k.arg for k in node.keywords} & RESERVED
                assert not clash, f"{path.name}:{node.lineno}: {clash}"
