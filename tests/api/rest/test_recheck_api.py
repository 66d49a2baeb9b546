"""Re-check rounds: due stations with reasons, a round by OR-Tools, XLSX, one-tap checked."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from api.app import create_app
from geodata.crs import wgs84_to_gcj02
from stations.store.sql import SqlStationStore
from stations.trust.recheck import visiting_order
from tests.api.staff_kit import Staff, add_staff, test_settings
from tests.conftest import make_station

# Four stations on a line west→east, created out of order: a round visits them in line.
XS = [116.50, 116.53, 116.51, 116.52]


@pytest.fixture
def env(store_url: str, tmp_path: Any) -> Iterator[tuple[TestClient, Staff, SqlStationStore]]:
    store = SqlStationStore(store_url)
    for i, x in enumerate(XS):
        district = "亦庄镇" if i < 3 else "旧宫镇"
        store.create(make_station(name=f"=站{i}", lon=x, district=district), actor="t")
    staff = add_staff(store)
    with TestClient(create_app(test_settings(photo_dir=tmp_path), store=store)) as client:
        yield client, staff, store
    store.close()


def test_visiting_order_is_a_round_along_the_line() -> None:
    points = [(x, 39.8) for x in XS]
    order = visiting_order(points, time_limit_s=1)
    xs = [XS[i] for i in order]
    assert order[0] == 0 and xs in (
        [116.50, 116.51, 116.52, 116.53],
        [116.50, 116.53, 116.52, 116.51],
    )


def test_worklist_reasons_district_xlsx_and_checked(env: Any) -> None:
    client, staff, _store = env
    assert client.get("/api/v1/recheck").status_code == 401
    body = client.get("/api/v1/recheck", headers=staff.as_editor).json()
    assert body["count"] == 4
    assert set(body["stops"][0]["reasons"]) == {"never_verified", "no_photo"}
    assert "从未核查" in body["stops"][0]["reasons_zh"]
    local = client.get(
        "/api/v1/recheck", params={"district": "亦庄镇"}, headers=staff.as_editor
    ).json()
    assert sorted(s["id"] for s in local["stops"]) == [1, 2, 3]

    r = client.post("/api/v1/stations/2/checked", headers=staff.as_editor)
    assert r.status_code == 200 and r.json()["verified_at"]
    after = client.get("/api/v1/recheck", headers=staff.as_editor).json()
    reasons = {s["id"]: s["reasons"] for s in after["stops"]}
    assert reasons[2] == ["no_photo"]  # checked: only the photo is missing now
    assert client.post("/api/v1/stations/99/checked", headers=staff.as_editor).status_code == 404

    xlsx = client.get("/api/v1/recheck", params={"format": "xlsx"}, headers=staff.as_editor)
    ws = load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:4] == ("顺序", "系统ID", "编号", "名称")
    assert len(rows) == 5 and ws.freeze_panes == "A2"
    # "=站1" stays that name (no stray apostrophe) in a text cell, never a formula
    names = [row[3] for row in ws.iter_rows(min_row=2)]
    assert sorted(c.value for c in names) == ["=站0", "=站1", "=站2", "=站3"]
    assert {c.data_type for c in names} == {"s"}
    # when it was checked, in Beijing wall-clock time to the minute, as a date cell
    checked_at = _store.get(2).verified_at.astimezone(ZoneInfo("Asia/Shanghai"))
    stamp = next(row[7] for row in ws.iter_rows(min_row=2) if row[1].value == 2)
    assert stamp.is_date and stamp.value == checked_at.replace(tzinfo=None, second=0, microsecond=0)
    assert next(row[7].value for row in ws.iter_rows(min_row=2) if row[1].value == 1) == "从未"
    assert ws.column_dimensions["D"].width >= 8 and ws.column_dimensions["E"].width > 20
    # coordinates say which system they are in; AMap's (GCJ-02) first, for pasting into AMap
    assert rows[0][8:] == (
        "高德经度（GCJ-02）",
        "高德纬度（GCJ-02）",
        "经度（WGS-84）",
        "纬度（WGS-84）",
    )
    first = next(row for row in rows[1:] if row[1] == 1)
    stored = _store.get(1)
    assert first[10:] == (stored.lon, stored.lat)
    amap = wgs84_to_gcj02(stored.lon, stored.lat)
    assert first[8:10] == pytest.approx(amap, abs=1e-6) and abs(first[8] - stored.lon) > 1e-3


def test_console_page_lists_the_round_for_editors(env: Any) -> None:
    client, staff, _store = env
    from tests.api.admin.test_admin_console import login

    login(client, staff.editor_name)
    page = client.get("/admin/recheck")
    assert page.status_code == 200
    html = page.text
    assert html.count('data-post="/api/v1/stations/') == 4
    assert "核查路线" in html and "@page" not in html  # the A4 rules live in admin.css
    assert "=站" in html and "<script>" not in html


def test_checked_goes_through_the_store_and_every_answer_shows_it(env: Any) -> None:
    client, staff, store = env
    before = client.get("/api/v1/stations/3").json()["properties"]
    assert before["verified_at"] is None and before["freshness"] == "never"
    r = client.post("/api/v1/stations/3/checked", headers=staff.as_editor).json()
    assert r["version"] == before["version"] + 1
    entry = store.history(3)[-1]
    assert entry.action == "verify" and entry.actor == staff.editor_name
    assert entry.before and entry.after and entry.before["verified_at"] is None
    assert entry.after["verified_at"] == r["verified_at"]
    assert {
        k: v for k, v in entry.after.items() if k not in ("version", "updated_at", "verified_at")
    } == {
        k: v for k, v in entry.before.items() if k not in ("version", "updated_at", "verified_at")
    }  # the record itself is unchanged
    for path in ("/api/v1/stations/3", "/ogc/collections/stations/items/3"):
        props = client.get(path).json()["properties"]
        assert props["verified_at"] == r["verified_at"] and props["freshness"] == "verified"
    near = client.get("/api/v1/nearest", params={"lon": XS[2], "lat": 39.7954, "k": 1}).json()
    assert near["features"][0]["properties"]["verified_at"] == r["verified_at"]


def test_a_check_made_by_mistake_is_taken_back(env: Any) -> None:
    client, staff, store = env
    url = "/api/v1/stations/3/checked"
    first = client.post(url, headers=staff.as_editor).json()
    again = client.post(url, headers=staff.as_editor).json()  # a stray second tap, later

    def undo(version: int | None, headers: dict[str, str] = staff.as_editor) -> Any:
        extra = {} if version is None else {"If-Match": f'"{version}"'}
        return client.delete(url, headers={**headers, **extra})

    assert undo(again["version"], {}).status_code == 401  # staff only
    r = undo(again["version"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["verified_at"] == first["verified_at"] and body["version"] == again["version"] + 1
    assert body["message_zh"] == "已撤销核查"
    assert store.get(3).verified_at.isoformat() == first["verified_at"]
    assert [e.action for e in store.history(3)[-3:]] == ["verify", "verify", "unverify"]
    assert store.history(3)[-1].actor == staff.editor_name
    # the first check was followed by another check, and that one was taken back: someone
    # else's word on the visit, so the first stands
    stale = undo(first["version"])
    assert stale.status_code == 412 and store.get(3).version == body["version"]
    assert "又被核查或撤销过" in stale.json()["detail_zh"]
    # the latest change is the undoing, not a check: nothing to take back
    wrong = undo(body["version"])
    assert wrong.status_code == 409 and "没有可撤销的核查" in wrong.json()["detail_zh"]
    assert undo(None).status_code == 428
    # a door photo taken at the stop after the check does not stand in the way of undoing it
    photo_check = client.post("/api/v1/stations/4/checked", headers=staff.as_editor).json()
    store.update(4, {"notes": "门口有台阶"}, actor="t")  # any other change since the check
    r = client.delete(
        "/api/v1/stations/4/checked",
        headers={**staff.as_editor, "If-Match": f'"{photo_check["version"]}"'},
    )
    assert r.status_code == 200 and r.json()["verified_at"] is None
    assert store.get(4).data.notes == "门口有台阶"  # the other change stays
    # a station checked once by mistake is due again, for the reason it was due before
    only = client.post("/api/v1/stations/2/checked", headers=staff.as_editor).json()
    client.delete(
        "/api/v1/stations/2/checked",
        headers={**staff.as_editor, "If-Match": f'"{only["version"]}"'},
    )
    stops = client.get("/api/v1/recheck", headers=staff.as_editor).json()["stops"]
    assert next(s["reasons"] for s in stops if s["id"] == 2) == ["never_verified", "no_photo"]
    assert client.get("/api/v1/stations/2").json()["properties"]["verified_at"] is None


def test_the_round_sets_out_from_a_chosen_start(env: Any) -> None:
    client, staff, _store = env
    east = {"start_lon": 116.60, "start_lat": 39.7954}  # east of every stop
    body = client.get("/api/v1/recheck", params=east, headers=staff.as_editor).json()
    assert [s["lon"] for s in body["stops"]] == sorted(XS, reverse=True)
    assert body["start"] == {"lon": 116.60, "lat": 39.7954}
    from_2 = client.get("/api/v1/recheck", params={"start_station": 3}, headers=staff.as_editor)
    assert from_2.json()["stops"][0]["id"] == 3  # the chosen station, itself due, comes first
    gcj = client.get(
        "/api/v1/recheck",
        params={"start_lon": 116.4, "start_lat": 39.8, "crs": "gcj02"},
        headers=staff.as_editor,
    ).json()
    assert abs(gcj["start"]["lon"] - 116.4) > 1e-4  # converted to WGS-84
    both = client.get(
        "/api/v1/recheck", params={**east, "start_station": 1}, headers=staff.as_editor
    )
    assert both.status_code in (400, 422) and "start_station" in both.text
    half = client.get("/api/v1/recheck", params={"start_lon": 116.5}, headers=staff.as_editor)
    assert half.status_code in (400, 422) and "start_lon/start_lat" in half.text
    missing = client.get("/api/v1/recheck", params={"start_station": 99}, headers=staff.as_editor)
    assert missing.status_code == 404
