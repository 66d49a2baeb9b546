"""Vector tiles over HTTP and as OGC API – Tiles; the network map page."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import mapbox_vector_tile
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from stations.store.sql import SqlStationStore
from tests.api.staff_kit import test_settings
from tests.conftest import make_station

MVT = "application/vnd.mapbox-vector-tile"


@pytest.fixture
def env(store_url: str) -> Iterator[tuple[TestClient, SqlStationStore]]:
    store = SqlStationStore(store_url)
    store.create(make_station(name="荣华中路驿站", lon=116.5068, lat=39.7954), actor="t")
    with TestClient(create_app(test_settings(webhooks_enabled=False), store=store)) as client:
        yield client, store
    store.close()


def test_tile_etag_empty_and_out_of_range(env: Any) -> None:
    client, store = env
    r = client.get("/api/v1/tiles/stations/0/0/0.mvt")
    assert r.status_code == 200 and r.headers["content-type"] == MVT
    feats = mapbox_vector_tile.decode(r.content)["stations"]["features"]
    assert [f["properties"]["count"] for f in feats] == [1]
    etag = r.headers["etag"]
    assert (
        client.get("/api/v1/tiles/stations/0/0/0.mvt", headers={"If-None-Match": etag}).status_code
        == 304
    )
    assert client.get("/api/v1/tiles/stations/5/0/0.mvt").status_code == 204
    assert client.get("/api/v1/tiles/stations/2/4/0.mvt").status_code == 404
    store.create(make_station(name="新站", lon=116.6, lat=39.8), actor="t")
    client.app.state.services.catalog.refresh()
    r = client.get("/api/v1/tiles/stations/0/0/0.mvt", headers={"If-None-Match": etag})
    assert r.status_code == 200 and r.headers["etag"] != etag


def test_tiles_take_the_station_filters_and_carry_open_now(env: Any) -> None:
    client, store = env
    store.create(
        make_station(
            name="无热水站", lon=116.51, lat=39.80, amenities=["toilet"], opening_hours="24/7"
        ),
        actor="t",
    )
    store.create(
        make_station(name="暂停站", lon=116.52, lat=39.80, status="temporarily_closed"),
        actor="t",
    )
    client.app.state.services.catalog.refresh()

    def names(**params: Any) -> dict[str, int]:
        r = client.get("/api/v1/tiles/stations/14/13494/6214.mvt", params=params)
        if r.status_code == 204:
            return {}
        feats = mapbox_vector_tile.decode(r.content)["stations"]["features"]
        return {f["properties"]["name"]: f["properties"]["open"] for f in feats}

    everything = names()
    assert set(everything) == {"荣华中路驿站", "无热水站", "暂停站"}
    assert everything["无热水站"] == 1 and everything["暂停站"] == 0  # 24/7; paused is shut
    assert set(names(amenity="hot_water")) == {"荣华中路驿站", "暂停站"}
    assert set(names(amenity="卫生间", status="open")) == {"荣华中路驿站", "无热水站"}
    assert set(names(open_now="true")) <= {"荣华中路驿站", "无热水站"}
    assert "无热水站" in names(open_now="true")
    a = client.get("/api/v1/tiles/stations/14/13494/6214.mvt", params={"amenity": "toilet"})
    b = client.get("/api/v1/tiles/stations/14/13494/6214.mvt")
    assert a.headers["etag"] != b.headers["etag"]  # a filtered tile is another tile
    bad = client.get("/api/v1/tiles/stations/14/13494/6214.mvt", params={"amenity": "pool"})
    assert bad.status_code == 422


def test_ogc_tiles_documents_and_tile(env: Any) -> None:
    client, _ = env
    assert (
        "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt"
        in client.get("/ogc/conformance?f=json").json()["conformsTo"]
    )
    sets = client.get("/ogc/collections/stations/tiles").json()["tilesets"]
    assert sets[0]["dataType"] == "vector"
    tileset = client.get("/ogc/collections/stations/tiles/WebMercatorQuad").json()
    template = next(link["href"] for link in tileset["links"] if link["rel"] == "item")
    assert template.endswith("/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}")
    tms = client.get("/ogc/tileMatrixSets/WebMercatorQuad").json()
    assert tms["tileMatrices"][0]["matrixWidth"] == 1 and len(tms["tileMatrices"]) == 23
    # z/row/col: the station at 116.5068, 39.7954 is in column 13494, row 6214 at zoom 14.
    r = client.get("/ogc/collections/stations/tiles/WebMercatorQuad/14/6214/13494")
    assert r.status_code == 200 and r.headers["content-type"] == MVT
    assert client.get("/ogc/collections/stations/tiles/Other/0/0/0").status_code == 404


def test_a_tile_follows_at_and_refuses_a_bad_address(env: Any) -> None:
    """``open`` is the state at ``at`` (default now), and so is ``open_now``; the ETag tells
    the instants apart. A path that is not a tile address is a 422 naming the part."""
    client, store = env
    store.create(
        make_station(name="夜间站", lon=116.51, lat=39.80, opening_hours="Mo-Su 20:00-23:00"),
        actor="t",
    )
    client.app.state.services.catalog.refresh()
    path = "/api/v1/tiles/stations/14/13494/6214.mvt"

    def opened(**params: Any) -> dict[str, int]:
        r = client.get(path, params=params)
        if r.status_code == 204:
            return {}
        feats = mapbox_vector_tile.decode(r.content)["stations"]["features"]
        return {f["properties"]["name"]: f["properties"]["open"] for f in feats}

    noon, night = "2026-12-07T12:00:00+08:00", "2026-12-07T21:30:00+08:00"
    assert opened(at=noon) == {"荣华中路驿站": 1, "夜间站": 0}  # 08:00-22:00 and 20:00-23:00
    assert opened(at=night) == {"荣华中路驿站": 1, "夜间站": 1}
    assert opened(at="2026-12-07T22:30") == {"荣华中路驿站": 0, "夜间站": 1}  # local time
    assert opened(at=noon, open_now="true") == {"荣华中路驿站": 1}
    assert set(opened(at=night, open_now="true")) == {"荣华中路驿站", "夜间站"}
    etags = {client.get(path, params={"at": t}).headers["etag"] for t in (noon, night)}
    assert len(etags) == 2
    for bad, field in (("23/0/0", "z"), ("3/-1/0", "x"), ("3/0/a", "y")):
        r = client.get(f"/api/v1/tiles/stations/{bad}.mvt")
        assert r.status_code == 422, bad
        assert [e["field"] for e in r.json()["errors"]] == [field]
    assert client.get(path, params={"at": "noon"}).status_code == 422
    assert client.get(path, params={"crs": "mercator"}).status_code == 422


def test_network_page_carries_no_station_data(env: Any) -> None:
    client, store = env
    small = client.get("/maps/network")
    assert small.status_code == 200
    assert "荣华中路驿站" not in small.text  # stations come from tiles, never the page
    assert "/api/v1/tiles/stations/{z}/{x}/{y}.mvt?crs=wgs84" in small.text
    amap = client.get("/maps/network?basemap=amap")
    assert "crs=gcj02" in amap.text and "autonavi" in amap.text
    for i in range(50):
        store.create(make_station(name=f"站{i}", lon=116.4 + i / 100, lat=39.8), actor="t")
    client.app.state.services.catalog.refresh()
    big = client.get("/maps/network")
    assert abs(len(big.text) - len(small.text)) < 20  # only the view's centre/zoom differ
