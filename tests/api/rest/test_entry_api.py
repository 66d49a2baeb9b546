"""How riders get in (``entry``) and ``no_smartphone_ok``: written, shown and filtered."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from stations.store.sql import SqlStationStore
from tests.api.staff_kit import Staff, add_staff, test_settings
from tests.conftest import make_station

LON, LAT = 116.5068, 39.7954


@pytest.fixture
def env(store_url: str) -> Iterator[tuple[TestClient, Staff, SqlStationStore]]:
    store = SqlStationStore(store_url)
    store.create(make_station(name="开门", entry="open_door", no_smartphone_ok=True), actor="t")
    store.create(make_station(name="扫码", entry="扫码", lon=LON + 0.001), actor="t")
    store.create(make_station(name="未登记", lon=LON + 0.002), actor="t")
    staff = add_staff(store)
    with TestClient(create_app(test_settings(), store=store)) as client:
        yield client, staff, store
    store.close()


def names(body: dict[str, Any]) -> list[str]:
    return [f["properties"]["name"] for f in body["features"]]


def test_fields_are_shown_and_filter_nearest_and_list(env: Any) -> None:
    client, _staff, _store = env
    near = client.get("/api/v1/nearest", params={"lat": LAT, "lon": LON}).json()
    props = {f["properties"]["name"]: f["properties"] for f in near["features"]}
    assert (props["开门"]["entry"], props["开门"]["no_smartphone_ok"]) == ("open_door", True)
    assert (props["扫码"]["entry"], props["扫码"]["no_smartphone_ok"]) == ("scan", None)
    assert (props["未登记"]["entry"], props["未登记"]["no_smartphone_ok"]) == (None, None)
    q = {"lat": LAT, "lon": LON}
    assert names(client.get("/api/v1/nearest", params={**q, "entry": "scan"}).json()) == ["扫码"]
    both = client.get("/api/v1/nearest", params={**q, "entry": ["scan", "直接进"]}).json()
    assert sorted(names(both)) == ["开门", "扫码"]
    ok = client.get("/api/v1/nearest", params={**q, "no_smartphone_ok": "true"}).json()
    assert names(ok) == ["开门"]
    assert names(client.get("/api/v1/stations", params={"entry": "扫码进门"}).json()) == ["扫码"]
    assert names(client.get("/api/v1/stations", params={"no_smartphone_ok": True}).json()) == [
        "开门"
    ]
    bad = client.get("/api/v1/nearest", params={**q, "entry": "teleport"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "entry"


def test_editors_change_them_like_any_field(env: Any) -> None:
    client, staff, store = env
    r = client.patch(
        "/api/v1/stations/3",
        json={"entry": "密码锁", "no_smartphone_ok": False},
        headers=staff.as_editor,
    )
    assert r.status_code == 200, r.text
    assert (store.get(3).data.entry, store.get(3).data.no_smartphone_ok) == ("code_lock", False)
    assert store.history(3)[-1].after["entry"] == "code_lock"
    q = {"lat": LAT, "lon": LON, "entry": "code_lock"}
    assert names(client.get("/api/v1/nearest", params=q).json()) == ["未登记"]
    r = client.patch("/api/v1/stations/3", json={"entry": "翻墙"}, headers=staff.as_editor)
    assert r.status_code == 422
    [error] = r.json()["errors"]
    assert error["field"] == "entry" and error["message_zh"]
