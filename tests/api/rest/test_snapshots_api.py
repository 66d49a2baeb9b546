"""Bulk snapshots: every live station as GeoJSON, CSV (with crs) and GeoParquet, with ETags."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from geodata.crs import from_wgs84
from stations.feed import decode_cursor
from stations.store.sql import SqlStationStore
from tests.api.staff_kit import test_settings
from tests.conftest import make_station

URL = "/api/v1/snapshots/stations"


@pytest.fixture
def env(store_url: str) -> Iterator[tuple[TestClient, SqlStationStore]]:
    store = SqlStationStore(store_url)
    store.create(make_station(name="荣华中路驿站", external_id="A"), actor="t")
    store.create(
        make_station(
            name='=HYPERLINK("http://evil")',
            notes="@SUM(1)",
            phone="+86 10 1234",
            host_org="-2+3",
            lon=116.55,
            lat=39.8,
            external_id="B",
        ),
        actor="t",
    )
    gone = store.create(make_station(name="已删除", external_id="C"), actor="t")
    store.delete(gone.id, actor="t")
    with TestClient(create_app(test_settings(webhooks_enabled=False), store=store)) as client:
        yield client, store
    store.close()


def test_geojson_has_every_live_station_and_a_cursor_to_follow(env: Any) -> None:
    client, store = env
    r = client.get(URL + ".geojson")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/geo+json")
    features = r.json()["features"]
    assert [f["id"] for f in features] == [s.id for s in store.all()]
    assert features[1]["geometry"]["coordinates"] == [116.55, 39.8]
    assert features[0]["properties"]["amenities"] == ["hot_water", "charging", "toilet"]
    assert decode_cursor(r.headers["x-changes-cursor"]) == store.feed_head()


def test_etag_answers_304_until_something_changes(env: Any) -> None:
    client, store = env
    first = client.get(URL + ".csv")
    etag = first.headers["etag"]
    for sent in (etag, "W/" + etag, f'"other", {etag}', "*"):
        r = client.get(URL + ".csv", headers={"If-None-Match": sent})
        assert r.status_code == 304 and r.content == b"" and r.headers["etag"] == etag
    assert (
        client.get(URL + ".csv", headers={"If-None-Match": '"s1-0-csv-wgs84"'}).status_code == 200
    )
    assert client.get(URL + ".geojson", headers={"If-None-Match": etag}).status_code == 200
    store.update(store.all()[0].id, {"name": "改名"}, actor="t")
    r = client.get(URL + ".csv", headers={"If-None-Match": etag})
    assert r.status_code == 200 and r.headers["etag"] != etag and "改名" in r.text


def test_csv_in_gcj02_with_formulas_neutralised(env: Any) -> None:
    client, store = env
    r = client.get(URL + ".csv", params={"crs": "gcj02"})
    assert r.status_code == 200 and r.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert [int(row["id"]) for row in rows] == [s.id for s in store.all()]
    x, y = from_wgs84([116.55], [39.8], "gcj02")
    assert float(rows[1]["lon"]) == pytest.approx(float(x[0]), abs=1e-9)
    assert float(rows[1]["lat"]) == pytest.approx(float(y[0]), abs=1e-9)
    assert rows[1]["name"] == '\'=HYPERLINK("http://evil")'
    assert rows[1]["notes"] == "'@SUM(1)"
    assert rows[1]["phone"] == "'+86 10 1234" and rows[1]["host_org"] == "'-2+3"
    assert rows[0]["name"] == "荣华中路驿站" and rows[0]["amenities"] == "hot_water;charging;toilet"


def test_parquet_is_geoparquet(env: Any) -> None:
    import geopandas as gpd

    client, store = env
    r = client.get(URL + ".parquet")
    assert r.status_code == 200 and r.content[:4] == b"PAR1"
    gdf = gpd.read_parquet(io.BytesIO(r.content))
    assert gdf.crs.to_epsg() == 4326
    assert list(gdf["id"]) == [s.id for s in store.all()]
    assert (gdf.geometry.x[1], gdf.geometry.y[1]) == (116.55, 39.8)
    assert list(gdf["amenities"][0]) == ["hot_water", "charging", "toilet"]


def test_geojson_and_parquet_refuse_a_shifted_crs(env: Any) -> None:
    client, _ = env
    r = client.get(URL + ".geojson", params={"crs": "gcj02"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "crs"
    assert client.get(URL + ".xlsx").status_code == 422


def test_snapshots_carry_entry_photos_and_the_last_check(store_url: str) -> None:
    """What every station answer carries of the record itself is in the bulk files too:
    how to get in, the door photos (served URLs) and when staff last checked it. (The
    riders' confidence is not: it changes with every vote, and a snapshot is rebuilt only
    when a station changes; /api/v1/stations has it.)"""
    digest = "ab" * 32
    store = SqlStationStore(store_url)
    store.create(
        make_station(
            name="荣华中路驿站", entry="code_lock", no_smartphone_ok=False, photos=(digest,)
        ),
        actor="t",
    )
    store.create(make_station(name="经海路驿站", lon=116.55, external_id="B"), actor="t")
    store.verify(1, actor="t")
    with TestClient(create_app(test_settings(webhooks_enabled=False), store=store)) as client:
        props = [f["properties"] for f in client.get(URL + ".geojson").json()["features"]]
        text = client.get(URL + ".csv").content.decode("utf-8-sig")
    store.close()
    assert props[0]["entry"] == "code_lock" and props[0]["no_smartphone_ok"] is False
    assert props[0]["photos"] == [f"/photos/{digest}/full.jpg"]
    assert props[0]["verified_at"] is not None
    assert (props[1]["entry"], props[1]["no_smartphone_ok"], props[1]["photos"]) == (None, None, [])
    assert props[1]["verified_at"] is None
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["entry"] == "code_lock" and rows[0]["no_smartphone_ok"] == "false"
    assert rows[0]["photos"] == f"/photos/{digest}/full.jpg" and rows[0]["verified_at"]
    assert rows[1]["entry"] == "" and rows[1]["no_smartphone_ok"] == ""
