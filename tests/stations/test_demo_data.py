"""The shipped E-Town demo data: its contract, its realism and its reproducibility.

The files are read with :mod:`json` alone, so these tests hold the data to the contract in
DESIGN.md independently of the station model that will load it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from opening_hours import OpeningHours
from pyproj import Geod, Transformer
from shapely.geometry import shape

REPO = Path(__file__).resolve().parents[2]
AREA_FILE = REPO / "geodata" / "data" / "etown_area.geojson"
DEMO_FILE = REPO / "stations" / "data" / "etown_demo.geojson"
SCRIPT = REPO / "scripts" / "make_demo.py"

# The contract's vocabularies (DESIGN.md), spelled out so the data is checked against the
# document rather than against whatever the code happens to accept.
AMENITIES = {
    "drinking_water", "hot_water", "microwave", "fridge", "charging", "toilet", "seating",
    "air_conditioning", "heating", "first_aid", "wifi", "umbrella", "repair_tools", "reading",
}  # fmt: skip
HOST_TYPES = {
    "bank", "express_depot", "union_office", "convenience_store", "gas_station",
    "community_center", "government", "other",
}  # fmt: skip
STATUSES = {"open", "temporarily_closed", "closed"}
# How a rider gets in (issue 16's list); blank when the clerk has not recorded it.
ENTRIES = {"open_door", "staffed", "scan", "face_or_id", "code_lock", "other"}
PROPERTY_NAMES = [
    "external_id", "name", "address", "district", "host_type", "host_org", "amenities",
    "opening_hours", "phone", "status", "notes", "entry", "no_smartphone_ok",
]  # fmt: skip
CORE = (116.505, 39.795)  # 荣华中路 / 荣京东街


@pytest.fixture(scope="module")
def area() -> shapely.Polygon:
    data = json.loads(AREA_FILE.read_text(encoding="utf-8"))
    (feature,) = data["features"]
    return shape(feature["geometry"])


@pytest.fixture(scope="module")
def demo() -> dict[str, Any]:
    return json.loads(DEMO_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def props(demo: dict[str, Any]) -> list[dict[str, Any]]:
    return [f["properties"] for f in demo["features"]]


@pytest.fixture(scope="module")
def coords(demo: dict[str, Any]) -> np.ndarray:
    return np.array([f["geometry"]["coordinates"] for f in demo["features"]], dtype=float)


def _utm50_area_km2(polygon: shapely.Polygon) -> float:
    to_utm = Transformer.from_crs("EPSG:4326", "EPSG:32650", always_xy=True)
    projected = shapely.transform(
        polygon, lambda xy: np.column_stack(to_utm.transform(xy[:, 0], xy[:, 1]))
    )
    return float(projected.area) / 1e6


# --------------------------------------------------------------------------- the area


def test_area_is_one_valid_labelled_polygon_of_plausible_size(area: shapely.Polygon) -> None:
    data = json.loads(AREA_FILE.read_text(encoding="utf-8"))
    assert data["type"] == "FeatureCollection"
    (feature,) = data["features"]
    assert feature["geometry"]["type"] == "Polygon"
    properties = feature["properties"]
    assert properties["approximate"] is True
    assert "非官方" in properties["note"] and "not an official boundary" in properties["note"]
    assert properties["name"] and properties["name_en"] and properties["source"]

    assert area.is_valid and area.exterior.is_simple
    assert len(area.interiors) == 0
    assert 40 <= len(area.exterior.coords) - 1 <= 60
    assert area.exterior.is_ccw  # RFC 7946: exterior rings are counter-clockwise
    lon_min, lat_min, lon_max, lat_max = area.bounds
    assert 116.3 < lon_min < lon_max < 116.8 and 39.6 < lat_min < lat_max < 39.95
    assert area.contains(shapely.Point(CORE))
    assert 100.0 <= _utm50_area_km2(area) <= 300.0


# --------------------------------------------------------------------------- the demo set


def test_demo_is_labelled_synthetic(demo: dict[str, Any]) -> None:
    assert demo["type"] == "FeatureCollection"
    assert demo["synthetic"] is True
    assert "合成" in demo["name"]
    assert "非工会官方名单" in demo["note"] and "synthetic" in demo["note"]


def test_demo_has_98_stations_with_exactly_the_contract_fields(
    demo: dict[str, Any], props: list[dict[str, Any]]
) -> None:
    assert len(demo["features"]) == 98
    for feature in demo["features"]:
        assert feature["type"] == "Feature"
        assert feature["geometry"]["type"] == "Point"
        assert list(feature["properties"]) == PROPERTY_NAMES
    ids = [p["external_id"] for p in props]
    assert ids == [f"YZ-{n:03d}" for n in range(1, 99)]
    names = [p["name"] for p in props]
    assert len(set(names)) == len(names)


def test_demo_points_are_inside_the_area_and_apart(
    area: shapely.Polygon, coords: np.ndarray
) -> None:
    assert np.all(coords == np.round(coords, 7))
    assert shapely.contains_xy(area, coords[:, 0], coords[:, 1]).all()
    i, j = np.triu_indices(len(coords), k=1)
    _, _, dist = Geod(ellps="WGS84").inv(coords[i, 0], coords[i, 1], coords[j, 0], coords[j, 1])
    assert dist.min() >= 20.0


def test_demo_is_denser_in_the_core(area: shapely.Polygon, coords: np.ndarray) -> None:
    # A 3 km disc around the core is about a sixth of the area; it holds far more than a sixth.
    geod = Geod(ellps="WGS84")
    n = len(coords)
    _, _, dist = geod.inv(np.full(n, CORE[0]), np.full(n, CORE[1]), coords[:, 0], coords[:, 1])
    share_of_stations = float(np.mean(dist <= 3000.0))
    share_of_area = np.pi * 3.0**2 / _utm50_area_km2(area)
    assert share_of_stations >= 2.5 * share_of_area


def test_demo_codes_are_valid_and_varied(props: list[dict[str, Any]]) -> None:
    hosts = Counter(p["host_type"] for p in props)
    assert set(hosts) == HOST_TYPES
    assert hosts.most_common(1)[0][0] == "express_depot"
    statuses = Counter(p["status"] for p in props)
    assert set(statuses) <= STATUSES
    assert 3 <= statuses["temporarily_closed"] <= 5
    assert statuses["closed"] == 1
    for p in props:
        assert p["amenities"], p["external_id"]
        assert len(set(p["amenities"])) == len(p["amenities"])
        assert set(p["amenities"]) <= AMENITIES, p["external_id"]
    amenity_counts = Counter(a for p in props for a in p["amenities"])
    assert amenity_counts["hot_water"] > len(props) / 2
    assert amenity_counts["charging"] > len(props) / 2
    assert amenity_counts["toilet"] > len(props) / 2
    assert sum(set(p["amenities"]) == AMENITIES for p in props) >= 2


def test_demo_says_how_to_get_in_at_most_stations(props: list[dict[str, Any]]) -> None:
    """Riders of the demo see a 进门 line on most cards, as a clerk's sheet would give it:
    recorded at most stations, not all, and never contradicting itself."""
    entries = Counter(p["entry"] for p in props)
    assert set(entries) <= ENTRIES | {""}
    assert len(props) / 2 < len(props) - entries[""] < len(props)
    assert len(set(entries) - {""}) >= 4
    for p in props:
        flag = p["no_smartphone_ok"]
        assert flag in (True, False, None), p["external_id"]
        if not p["entry"]:
            assert flag is None, p["external_id"]
        if p["entry"] == "scan":
            assert flag is False, p["external_id"]  # scanning needs a smartphone
        if p["opening_hours"] == "24/7" and "扫码" in p["notes"]:
            assert p["entry"] == "scan", p["external_id"]  # the note and the field agree
    assert {True, False} <= {p["no_smartphone_ok"] for p in props}


def test_demo_has_exactly_one_bank_of_beijing_station(props: list[dict[str, Any]]) -> None:
    bob = [p for p in props if p["host_org"] == "北京银行"]
    assert len(bob) == 1
    assert bob[0]["host_type"] == "bank" and "北京银行" in bob[0]["name"]
    mentions = [p for p in props if "北京银行" in p["name"] + p["host_org"]]
    assert mentions == bob


def test_demo_opening_hours_parse(props: list[dict[str, Any]]) -> None:
    hours = [p["opening_hours"] for p in props]
    for p in props:
        if p["opening_hours"]:
            OpeningHours(p["opening_hours"])  # raises on a syntax error
    assert "24/7" in hours and "" in hours
    assert any(h.startswith("Mo-Fr") for h in hours)


def test_demo_addresses_and_phones_look_local(props: list[dict[str, Any]]) -> None:
    assert {p["district"] for p in props} == {"大兴区", "通州区"}
    for p in props:
        assert p["address"].startswith("北京市" + p["district"]), p["external_id"]
        assert re.fullmatch(r"(010-\d{8})?", p["phone"]), p["external_id"]
    phones = [p["phone"] for p in props if p["phone"]]
    assert len(set(phones)) == len(phones)


def test_make_demo_reproduces_the_shipped_file(tmp_path: Path) -> None:
    output = tmp_path / "demo.geojson"
    subprocess.run(
        [sys.executable, str(SCRIPT), "--output", str(output)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    assert output.read_bytes() == DEMO_FILE.read_bytes()


def test_make_demo_depends_on_its_seed(tmp_path: Path) -> None:
    output = tmp_path / "other.geojson"
    subprocess.run(
        [sys.executable, str(SCRIPT), "--output", str(output), "--seed", "7"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    other = json.loads(output.read_text(encoding="utf-8"))
    assert len(other["features"]) == 98
    assert output.read_bytes() != DEMO_FILE.read_bytes()
