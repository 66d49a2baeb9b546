"""Safe editing through the API: create/patch/put/delete, ETag and If-Match, history, restore,
problem+json validation errors in two languages, and no lost updates under concurrency."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from geodata.crs import from_wgs84, to_wgs84
from stations.store.accounts import SqlAccountStore
from stations.store.sql import SqlStationStore
from tests.api.staff_kit import Staff, add_staff, test_settings
from tests.conftest import make_station
from tests.maps.conftest import start_server

NEW: dict[str, Any] = {
    "name": "经海路快递驿站",
    "lon": 116.5611,
    "lat": 39.7801,
    "external_id": "YZ-100",
    "address": "经海路88号",
    "host_type": "快递网点",
    "amenities": ["热水", "charging"],
    "opening_hours": "Mo-Su 08:00-20:00",
    "phone": "010-1234",
}


@pytest.fixture
def env(store_url: str) -> Iterator[tuple[TestClient, Staff, SqlStationStore]]:
    store = SqlStationStore(store_url)
    staff = add_staff(store)
    with TestClient(create_app(test_settings(), store=store)) as client:
        yield client, staff, store
    store.close()


def _create(client: TestClient, staff: Staff, body: dict[str, Any] | None = None) -> Any:
    r = client.post("/api/v1/stations", json=body or NEW, headers=staff.as_editor)
    assert r.status_code == 201, r.text
    return r


def test_create_answers_201_with_location_etag_and_feature(env: Any) -> None:
    client, staff, store = env
    r = _create(client, staff)
    sid = r.json()["id"]
    assert r.headers["location"] == f"http://testserver/api/v1/stations/{sid}"
    assert r.headers["etag"] == '"1"'
    assert r.headers["content-type"].startswith("application/geo+json")
    props = r.json()["properties"]
    assert props["host_type"] == "express_depot" and props["amenities"] == ["hot_water", "charging"]
    # the catalog was refreshed before answering: the writer reads its own write
    assert client.get(f"/api/v1/stations/{sid}").json()["properties"]["name"] == NEW["name"]
    assert (
        client.get("/api/v1/nearest", params={"lat": 39.7801, "lon": 116.5611, "k": 1}).json()[
            "features"
        ][0]["id"]
        == sid
    )
    [entry] = store.history(sid)
    assert (entry.action, entry.actor) == ("create", staff.editor_name)


def test_create_from_geojson_feature_and_gcj02(env: Any) -> None:
    client, staff, store = env
    glon, glat = from_wgs84(116.5068, 39.7954, "gcj02")
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [glon, glat]},
        "properties": {"name": "荣华中路驿站", "status": "正常开放"},
    }
    r = client.post(
        "/api/v1/stations",
        params={"crs": "gcj02"},
        json=feature,
        headers=dict(staff.as_editor, **{"Content-Type": "application/geo+json"}),
    )
    assert r.status_code == 201, r.text
    stored = store.get(r.json()["id"]).data
    assert (stored.lon, stored.lat) == pytest.approx((116.5068, 39.7954), abs=1e-7)
    # answered in the request's CRS
    assert r.json()["geometry"]["coordinates"] == pytest.approx([glon, glat], abs=1e-6)


def test_patch_changes_only_named_fields(env: Any) -> None:
    client, staff, store = env
    sid = _create(client, staff).json()["id"]
    r = client.patch(
        f"/api/v1/stations/{sid}",
        json={"phone": "010-9999", "amenities": []},
        headers=dict(staff.as_editor, **{"If-Match": '"1"'}),
    )
    assert r.status_code == 200 and r.headers["etag"] == '"2"'
    data = store.get(sid).data
    assert data.phone == "010-9999" and data.amenities == ()
    assert data.name == NEW["name"] and data.opening_hours == NEW["opening_hours"]
    entry = client.get(f"/api/v1/stations/{sid}/history", headers=staff.as_viewer).json()[
        "entries"
    ][-1]
    assert entry["changed"] == ["amenities", "phone"] and entry["actor"] == staff.editor_name
    # moving the point: lon and lat together, here given in BD-09
    blon, blat = from_wgs84(116.57, 39.78, "bd09")
    r = client.patch(
        f"/api/v1/stations/{sid}",
        params={"crs": "bd09"},
        json={"lon": blon, "lat": blat},
        headers=staff.as_editor,
    )
    assert r.status_code == 200
    assert (store.get(sid).data.lon, store.get(sid).data.lat) == pytest.approx(
        tuple(map(float, to_wgs84(blon, blat, "bd09")))
    )


def test_stale_if_match_is_412_and_changes_nothing(env: Any) -> None:
    client, staff, store = env
    sid = _create(client, staff).json()["id"]
    client.patch(f"/api/v1/stations/{sid}", json={"phone": "1"}, headers=staff.as_editor)
    before = (store.get(sid), len(store.history(sid)))
    stale = dict(staff.as_editor, **{"If-Match": '"1"'})
    r = client.patch(f"/api/v1/stations/{sid}", json={"phone": "2"}, headers=stale)
    assert r.status_code == 412 and r.json()["current_version"] == 2
    assert client.put(f"/api/v1/stations/{sid}", json=NEW, headers=stale).status_code == 412
    assert client.delete(f"/api/v1/stations/{sid}", headers=stale).status_code == 412
    assert (
        client.post(
            f"/api/v1/stations/{sid}/restore", params={"version": 1}, headers=stale
        ).status_code
        == 412
    )
    # a stale version sent back in the body (no If-Match) is checked too
    r = client.patch(
        f"/api/v1/stations/{sid}", json={"phone": "2", "version": 1}, headers=staff.as_editor
    )
    assert r.status_code == 412
    assert (store.get(sid), len(store.history(sid))) == before
    weak = dict(staff.as_editor, **{"If-Match": 'W/"2"'})
    assert (
        client.patch(f"/api/v1/stations/{sid}", json={"phone": "3"}, headers=weak).status_code
        == 200
    )


def test_put_replaces_whole_record_and_accepts_what_get_returned(env: Any) -> None:
    client, staff, store = env
    sid = _create(client, staff).json()["id"]
    r = client.put(
        f"/api/v1/stations/{sid}",
        json={"name": "改名", "lon": 116.5, "lat": 39.8},
        headers=staff.as_editor,
    )
    assert r.status_code == 200
    data = store.get(sid).data
    assert (data.name, data.amenities, data.phone, data.external_id) == ("改名", (), "", None)
    # round trip: GET the feature, change a property, PUT it back guarded by its version
    fetched = client.get(f"/api/v1/stations/{sid}").json()
    fetched["properties"]["notes"] = "二楼"
    r = client.put(
        f"/api/v1/stations/{sid}",
        json=fetched,
        headers=dict(staff.as_editor, **{"If-Match": r.headers["etag"]}),
    )
    assert r.status_code == 200, r.text
    assert store.get(sid).data.notes == "二楼" and store.get(sid).version == 3


def test_delete_history_and_restore(env: Any) -> None:
    client, staff, store = env
    sid = _create(client, staff).json()["id"]
    client.patch(f"/api/v1/stations/{sid}", json={"name": "第二版"}, headers=staff.as_editor)
    r = client.delete(f"/api/v1/stations/{sid}", headers=staff.as_editor)
    assert r.status_code == 204 and r.content == b""
    assert client.get(f"/api/v1/stations/{sid}").status_code == 404
    assert (
        client.patch(
            f"/api/v1/stations/{sid}", json={"phone": "1"}, headers=staff.as_editor
        ).status_code
        == 404
    )
    r = client.post(
        f"/api/v1/stations/{sid}/restore", params={"version": 1}, headers=staff.as_editor
    )
    assert r.status_code == 200 and r.headers["etag"] == '"4"'
    assert client.get(f"/api/v1/stations/{sid}").json()["properties"]["name"] == NEW["name"]
    history = client.get(f"/api/v1/stations/{sid}/history", headers=staff.as_editor).json()
    assert [e["action"] for e in history["entries"]] == ["create", "update", "delete", "restore"]
    assert {e["actor"] for e in history["entries"]} == {staff.editor_name}
    assert client.get(f"/api/v1/stations/{sid}/history").status_code == 401
    assert client.get("/api/v1/stations/999/history", headers=staff.as_viewer).status_code == 404


def _errors(r: httpx.Response) -> dict[str, str]:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    errors = r.json()["errors"]
    assert all(e["message"] and e["message_zh"] for e in errors)
    return {e["field"]: e["message_zh"] for e in errors}


def test_validation_errors_name_every_field_in_two_languages(env: Any) -> None:
    client, staff, store = env
    h = staff.as_editor
    bad = dict(NEW, opening_hours="sometimes", amenities=["热水", "游泳池"], host_type="游乐场")
    fields = _errors(client.post("/api/v1/stations", json=bad, headers=h))
    assert set(fields) == {"opening_hours", "amenities", "host_type"}
    assert fields["opening_hours"].startswith("开放时间无法识别")
    assert "每天 8:00-20:00" in fields["opening_hours"]  # a working example
    fields = _errors(
        client.post("/api/v1/stations", json={"name": 5, "lat": 95, "color": 1}, headers=h)
    )
    assert fields == {
        "name": "必须是文本",
        "lon": "必填",
        "lat": "必须小于或等于 90",
        "color": "未知字段",
    }
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [116.5]},
        "properties": {"name": ""},
    }
    assert set(_errors(client.post("/api/v1/stations", json=feature, headers=h))) == {
        "geometry.coordinates",
        "properties.name",
    }
    assert _errors(client.post("/api/v1/stations", json=dict(NEW, notes="a\x00b"), headers=h)) == {
        "notes": "格式不正确或包含不允许的控制字符"
    }
    assert _errors(
        client.post(
            "/api/v1/stations",
            content=b"{not json",
            headers=dict(h, **{"Content-Type": "application/json"}),
        )
    ) == {"body": "不是有效的 JSON"}
    sid = _create(client, staff).json()["id"]
    assert _errors(client.patch(f"/api/v1/stations/{sid}", json={"lon": 116.4}, headers=h)) == {
        "lon/lat": "经度和纬度须同时提供"
    }
    r = client.post(
        "/api/v1/stations",
        content=b"name=x",
        headers=dict(h, **{"Content-Type": "application/x-www-form-urlencoded"}),
    )
    assert r.status_code == 415
    r = client.post("/api/v1/stations", json=NEW, headers=h)  # the same external_id again
    assert r.status_code == 409
    assert [s.id for s in store.all()] == [sid]


# -- concurrency --------------------------------------------------------------------------

EDITORS = 8
EDITS = 200
STATIONS = 12


def test_concurrent_editors_lose_no_update(store_url: str) -> None:
    """8 editors × 200 read-modify-write increments over HTTP: the counters add up."""
    store = SqlStationStore(store_url)
    ids = [
        store.create(make_station(external_id=f"C-{i}", notes="0"), actor="t").id
        for i in range(STATIONS)
    ]
    accounts = SqlAccountStore.beside(store)
    tokens = []
    for i in range(EDITORS):
        accounts.add_user(f"editor-{i}", "editor")
        tokens.append(accounts.create_token(f"editor-{i}")[1])
    live, stop = start_server(create_app(test_settings(), store=store))
    done: Counter[str] = Counter()
    retries: Counter[str] = Counter()
    failures: list[str] = []

    def editor(i: int) -> None:
        rng = random.Random(i)
        with httpx.Client(
            base_url=live.url, timeout=60, headers={"Authorization": f"Bearer {tokens[i]}"}
        ) as http:
            for _ in range(EDITS):
                sid = rng.choice(ids)
                for _attempt in range(1000):
                    got = http.get(f"/api/v1/stations/{sid}")
                    count = int(got.json()["properties"]["notes"])
                    r = http.patch(
                        f"/api/v1/stations/{sid}",
                        json={"notes": str(count + 1)},
                        headers={"If-Match": got.headers["etag"]},
                    )
                    if r.status_code == 200:
                        done[f"editor-{i}"] += 1
                        break
                    if r.status_code != 412:
                        failures.append(f"{r.status_code} {r.text[:200]}")
                        return
                    retries[f"editor-{i}"] += 1

    threads = [threading.Thread(target=editor, args=(i,)) for i in range(EDITORS)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        stop()
    try:
        assert failures == []
        assert sum(done.values()) == EDITORS * EDITS
        final = {s.id: s for s in store.get_many(ids)}
        assert sum(int(s.data.notes) for s in final.values()) == EDITORS * EDITS
        for sid in ids:  # one version per successful edit: none overwrote another
            assert final[sid].version == 1 + int(final[sid].data.notes)
        actors = Counter(e.actor for sid in ids for e in store.history(sid) if e.action == "update")
        assert actors == done
        assert sum(retries.values()) > 0  # the editors really did collide
    finally:
        store.close()
