"""The read API: list, one station, nearest — shapes, CRS and problem+json errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from geodata.crs import from_wgs84
from stations.store.sql import SqlStationStore
from tests.conftest import make_station


@pytest.fixture(params=["memory", "mapped"])
def client(store_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[TestClient]:
    """The app over three stations, with each way of holding the catalog (the shared,
    memory-mapped one answers every read the same)."""
    settings = Settings(catalog_snapshot=request.param, catalog_snapshot_dir=tmp_path / "snap")
    store = SqlStationStore(store_url)
    store.create(make_station(external_id="YZ-001", name="荣华中路驿站"), actor="t")
    store.create(
        make_station(
            external_id="YZ-002",
            name="经海路驿站",
            lon=116.56,
            lat=39.78,
            amenities=["toilet"],
            opening_hours="24/7",
        ),
        actor="t",
    )
    store.create(
        make_station(
            external_id="YZ-003",
            name="旧宫驿站",
            lon=116.46,
            lat=39.81,
            status="temporarily_closed",
        ),
        actor="t",
    )
    with TestClient(create_app(settings, store=store)) as c:
        yield c
    store.close()


def test_healthz(client: TestClient) -> None:
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["stations"] == 3


def test_nearest_orders_by_geodesic_distance_with_links(client: TestClient) -> None:
    r = client.get("/api/v1/nearest", params={"lat": 39.7954, "lon": 116.5068, "k": 3})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/geo+json")
    feats = r.json()["features"]
    dists = [f["properties"]["distance_m"] for f in feats]
    assert dists == sorted(dists) and dists[0] < 1
    assert feats[0]["properties"]["name"] == "荣华中路驿站"
    nav = feats[0]["properties"]["navigation"]
    assert set(nav) == {"amap", "baidu", "tencent"} and "coord_type=bd09ll" in nav["baidu"]


def test_nearest_with_amenity_and_open_now(client: TestClient) -> None:
    r = client.get(
        "/api/v1/nearest",
        params={
            "lat": 39.79,
            "lon": 116.5,
            "amenity": "卫生间",
            "open_now": "true",
            "at": "2026-11-24T03:00:00+08:00",
        },
    )
    names = [f["properties"]["name"] for f in r.json()["features"]]
    assert names == ["经海路驿站"]  # 24/7; the other open one closes at 22:00


def test_gcj02_in_and_out(client: TestClient) -> None:
    glon, glat = from_wgs84(116.5068, 39.7954, "gcj02")
    r = client.get("/api/v1/nearest", params={"lat": glat, "lon": glon, "k": 1, "crs": "gcj02"})
    f = r.json()["features"][0]
    assert f["properties"]["distance_m"] < 0.01
    assert f["geometry"]["coordinates"] == pytest.approx([glon, glat], abs=1e-6)


@pytest.mark.parametrize(
    "params, field",
    [
        ({"lat": 91, "lon": 116}, "lat"),
        ({"lat": 39.8, "lon": 116, "k": 500}, "k"),
        ({"lat": 39.8, "lon": 116, "amenity": "jacuzzi"}, "amenity"),
        ({"lat": 39.8, "lon": 116, "at": "yesterday"}, "at"),
        ({"lat": "x", "lon": 116}, "lat"),
        ({"lat": 39.8, "lon": 116, "crs": "mars"}, "crs"),
    ],
)
def test_bad_input_is_a_problem_naming_the_field(
    client: TestClient, params: dict, field: str
) -> None:
    r = client.get("/api/v1/nearest", params=params)
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["status"] == 422 and any(e["field"] == field for e in body["errors"])


def test_a_bad_nearest_query_says_it_in_chinese_too(client: TestClient) -> None:
    r = client.get(
        "/api/v1/nearest", params={"lat": 91, "lon": 116}, headers={"Accept-Language": "zh-CN"}
    )
    error = r.json()["errors"][0]
    assert (error["field"], error["value"], error["message_zh"]) == (
        "lat",
        "91",
        "必须小于或等于 90",
    )
    assert r.json()["detail"] == "lat：必须小于或等于 90"


def test_list_paging_links_are_absolute(client: TestClient) -> None:
    r = client.get("/api/v1/stations", params={"limit": 2})
    body = r.json()
    assert body["numberMatched"] == 3 and body["numberReturned"] == 2
    nxt = next(link for link in body["links"] if link["rel"] == "next")
    assert nxt["href"].startswith("http://testserver/api/v1/stations?")
    page2 = client.get(nxt["href"]).json()
    assert page2["numberReturned"] == 1
    assert any(link["rel"] == "prev" for link in page2["links"])


def test_list_filters(client: TestClient) -> None:
    q = client.get("/api/v1/stations", params={"q": "经海"}).json()
    assert [f["properties"]["external_id"] for f in q["features"]] == ["YZ-002"]
    st = client.get("/api/v1/stations", params={"status": "temporarily_closed"}).json()
    assert [f["properties"]["external_id"] for f in st["features"]] == ["YZ-003"]
    box = client.get("/api/v1/stations", params={"bbox": "116.5,39.7,116.6,39.79"}).json()
    assert [f["properties"]["external_id"] for f in box["features"]] == ["YZ-002"]
    bad = client.get("/api/v1/stations", params={"bbox": "1,2,3"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "bbox"


def test_one_station_and_404(client: TestClient) -> None:
    r = client.get("/api/v1/stations/1")
    assert r.status_code == 200 and r.headers["etag"] == '"1"'
    assert r.json()["properties"]["external_id"] == "YZ-001"
    missing = client.get("/api/v1/stations/999")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


def test_readiness_and_metrics(client: TestClient) -> None:
    assert client.get("/livez").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["store_counter"] == ready["index_counter"] == 3
    client.get("/api/v1/nearest", params={"lat": 39.8, "lon": 116.5})
    text = client.get("/metrics").text
    assert 'stations_http_requests_total{method="GET",route="/api/v1/nearest",status="200"}' in text
    assert "stations_index_size 3.0" in text


def test_each_way_of_holding_the_catalog_keeps_its_share_of_rendered_features(
    client: TestClient,
) -> None:
    """A worker of a mapped catalog (many per host) keeps 4,096 rendered nearest features
    and as many decoded stations; one holding its own catalog keeps 16,384, as before."""
    from stations.mapped import MAPPED_KEPT
    from stations.nearest import fragments

    catalog = client.app.state.services.catalog  # type: ignore[attr-defined]
    assert client.get("/api/v1/nearest", params={"lon": 116.5, "lat": 39.8}).status_code == 200
    if catalog.shared is None:
        assert fragments._FRAGMENTS_MAX == fragments.DEFAULT_KEPT == 16_384  # noqa: SLF001
    else:
        assert fragments._FRAGMENTS_MAX == MAPPED_KEPT == 2048  # noqa: SLF001
        assert catalog._keep_decoded == MAPPED_KEPT  # noqa: SLF001
