"""``GET /api/v1/stations/{id}/reach``: the street isochrone when a network is set, else the
circle; the river-and-bridge network is laid so that a demo station sits on its south bank."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pyproj import Geod
from shapely.geometry import Point, shape

from api.app import create_app
from api.settings import Settings
from geodata.crs import from_wgs84
from geodata.network.synthetic import SyntheticNetwork, river_grid

GEOD = Geod(ellps="WGS84")


@pytest.fixture(scope="module")
def plain() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(), demo=True)) as c:
        yield c


@pytest.fixture(scope="module")
def station(plain: TestClient) -> dict:
    return plain.get("/api/v1/stations", params={"limit": 1}).json()["features"][0]


@pytest.fixture(scope="module")
def river(station: dict, tmp_path_factory: pytest.TempPathFactory) -> tuple[SyntheticNetwork, Path]:
    lon, lat = station["geometry"]["coordinates"]
    olon, olat, _ = GEOD.fwd(lon, lat, 180.0, 400.0)  # the south-west corner, 400 m south
    net = river_grid((olon, olat))
    path = tmp_path_factory.mktemp("reach") / "river.osm.pbf"
    net.write(str(path))
    return net, path


@pytest.fixture(scope="module")
def streets(river: tuple[SyntheticNetwork, Path]) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(network_file=river[1]), demo=True)) as c:
        yield c


def test_reach_on_streets_stops_at_the_river(streets: TestClient, station: dict, river) -> None:
    net, _ = river
    sid = station["properties"]["id"]
    r = streets.get(f"/api/v1/stations/{sid}/reach", params={"minutes": 15, "mode": "walk"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/geo+json")
    body = r.json()
    assert body["properties"]["reach"]["kind"] == "network"
    assert body["properties"]["snap_m"] < 1.0 and "warning" not in body["properties"]
    poly = shape(body["geometry"])
    assert poly.contains(Point(station["geometry"]["coordinates"]))
    assert not poly.contains(Point(net.places["across"]))  # 200 m away, over the water


def test_reach_without_a_network_is_the_circle(plain: TestClient, station: dict, river) -> None:
    net, _ = river
    sid = station["properties"]["id"]
    body = plain.get(f"/api/v1/stations/{sid}/reach", params={"minutes": 15}).json()
    assert body["properties"]["reach"] == {"kind": "straight_line", "radius_m": 1125.0}
    circle = shape(body["geometry"])
    assert circle.contains(Point(net.places["across"]))
    gcj = plain.get(f"/api/v1/stations/{sid}/reach", params={"crs": "gcj02"}).json()
    first = gcj["geometry"]["coordinates"][0][0]
    want = from_wgs84(*body["geometry"]["coordinates"][0][0], "gcj02")
    assert first == pytest.approx([float(want[0]), float(want[1])], abs=1e-9)


def test_a_station_far_from_the_streets_is_warned_and_bad_input_refused(
    streets: TestClient,
) -> None:
    feats = streets.get("/api/v1/stations", params={"limit": 100}).json()["features"]
    far = max(feats, key=lambda f: abs(f["geometry"]["coordinates"][0] - 116.49))
    body = streets.get(f"/api/v1/stations/{far['properties']['id']}/reach").json()
    assert "warning" in body["properties"] and "300 m" in body["properties"]["warning"]
    assert streets.get("/api/v1/stations/999999/reach").status_code == 404
    assert (
        streets.get(
            f"/api/v1/stations/{far['properties']['id']}/reach", params={"mode": "car"}
        ).status_code
        == 422
    )
