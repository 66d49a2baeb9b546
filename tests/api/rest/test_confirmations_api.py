"""Confirmations through the API: anonymous taps, every answer shows them, staff see doubt."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from geodata.crs import from_wgs84
from stations.store.sql import SqlStationStore
from tests.api.staff_kit import Staff, add_staff, test_settings
from tests.conftest import make_station

LON, LAT = 116.5068, 39.7954
TRUST = ("last_confirmed_open_at", "last_confirmed_closed_at", "confidence", "confidence_reasons")


@pytest.fixture
def env(store_url: str) -> Iterator[tuple[TestClient, Staff, SqlStationStore]]:
    store = SqlStationStore(store_url)
    store.create(make_station(name="荣华中路驿站", opening_hours="24/7"), actor="t")
    store.create(make_station(name="经海路驿站", lon=LON + 0.01, opening_hours="24/7"), actor="t")
    staff = add_staff(store)
    with TestClient(create_app(test_settings(), store=store)) as client:
        yield client, staff, store
    store.close()


def tap(client: TestClient, state: str, device: str, station: int = 1, **body: Any) -> Any:
    payload = {"state": state, "lat": LAT + 0.0002, "lon": LON, **body}
    return client.post(
        f"/api/v1/stations/{station}/confirmations", json=payload, headers={"X-Device-Id": device}
    )


def test_a_tap_shows_in_every_answer(env: Any) -> None:
    client, _staff, store = env
    before = client.get("/api/v1/nearest", params={"lat": LAT, "lon": LON}).json()
    assert [f["properties"]["confidence"] for f in before["features"]] == ["scheduled"] * 2
    r = tap(client, "open", "rider-phone-1")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["onsite"] and body["confidence"] == "confirmed"
    assert body["message_zh"].startswith("谢谢")
    nearest = client.get("/api/v1/nearest", params={"lat": LAT, "lon": LON}).json()
    first = nearest["features"][0]["properties"]
    assert first["confidence"] == "confirmed"
    assert first["confidence_reasons"][0]["message_zh"] == "刚刚有骑手确认开放"
    assert first["last_confirmed_open_at"] is not None
    assert list(first)[-4:] == list(TRUST)
    assert nearest["features"][1]["properties"]["confidence"] == "scheduled"
    one = client.get("/api/v1/stations/1").json()["properties"]
    listed = client.get("/api/v1/stations").json()["features"][0]["properties"]
    ogc = client.get("/ogc/collections/stations/items/1", params={"f": "json"}).json()
    for props in (one, listed, ogc["properties"]):
        assert props["confidence"] == "confirmed"
    assert store.get(1).version == 1
    # a staff write's answer says what every read says, riders' evidence included
    edited = client.patch(
        "/api/v1/stations/1", json={"notes": "门口有台阶"}, headers=_staff.as_editor
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["properties"]["confidence"] == "confirmed"


def test_the_posters_page_says_what_riders_said(env: Any) -> None:
    """/s/{code} speaks as the /embed card does: the hours' badge, then the riders' evidence."""
    client, staff, _store = env
    code = client.get("/api/v1/stations/1/code", headers=staff.as_viewer).json()["code"]
    page = client.get(f"/s/{code}").text
    # no rider yet: the schedule speaks, as on the /embed card
    assert '<div class="trust" id="trust">依据登记的开放时间</div>' in page
    assert "工作人员核查" not in page
    assert tap(client, "open", "rider-phone-1").status_code == 201
    page = client.get(f"/s/{code}").text
    assert '<div class="trust ok" id="trust">刚刚有骑手确认开放</div>' in page
    assert '<span class="badge open" id="state">营业中</span>' in page
    for i in range(2, 5):
        assert tap(client, "closed", f"rider-phone-{i}").status_code == 201
    page = client.get(f"/s/{code}").text
    assert '<div class="trust bad" id="trust"><b>可能不开放 · </b>' in page
    assert "近 3 天 3 人反映关门" in page
    # open by its hours, but not shown green (the stored status and hours are untouched)
    assert '<span class="badge unknown" id="state">按时间应营业</span>' in page
    assert client.post("/api/v1/stations/1/checked", headers=staff.as_editor).status_code == 200
    page = client.get(f"/s/{code}").text
    assert "可能不开放" not in page and "按时间应营业" not in page
    assert '<span class="label">核查</span>今天工作人员核查' in page


def test_open_now_filter_keeps_its_meaning(env: Any) -> None:
    client, _staff, _store = env
    for i in range(3):
        assert tap(client, "closed", f"rider-phone-{i}").status_code == 201
    r = client.get("/api/v1/nearest", params={"lat": LAT, "lon": LON, "open_now": "true"}).json()
    props = {f["properties"]["id"]: f["properties"] for f in r["features"]}
    assert props[1]["open_now"] is True  # still open by its hours …
    assert props[1]["confidence"] == "doubtful"  # … but riders doubt it
    assert "近 3 天 3 人反映关门" in [x["message_zh"] for x in props[1]["confidence_reasons"]]


def test_three_closed_taps_reach_the_review_queue(env: Any) -> None:
    client, staff, _store = env
    answers = [tap(client, "closed", f"rider-phone-{i}").json() for i in range(3)]
    assert [a["queued_for_review"] for a in answers] == [False, False, True]
    queue = client.get("/api/v1/reports", params={"status": "pending"}, headers=staff.as_editor)
    [report] = queue.json()["reports"]
    assert report["station_id"] == 1 and report["kind"] == "closed"


def test_a_staff_check_settles_the_doubt_for_riders_too(env: Any) -> None:
    client, staff, _store = env
    for i in range(3):
        assert tap(client, "closed", f"rider-phone-{i}").status_code == 201
    assert client.get("/api/v1/stations/1").json()["properties"]["confidence"] == "doubtful"
    assert client.post("/api/v1/stations/1/checked", headers=staff.as_editor).status_code == 200
    # staff found it as recorded: riders are no longer told it may be shut (rule 8) …
    props = client.get("/api/v1/stations/1").json()["properties"]
    assert props["confidence"] == "scheduled"
    assert props["last_confirmed_closed_at"] is not None  # … the reports stay a fact
    near = client.get("/api/v1/nearest", params={"lat": LAT, "lon": LON}).json()
    assert near["features"][0]["properties"]["confidence"] == "scheduled"
    round_ = client.get("/api/v1/recheck", headers=staff.as_editor).json()
    assert "doubtful" not in next(s["reasons"] for s in round_["stops"] if s["id"] == 1)
    # one more rider finding it shut after the check is not three: no second report
    assert tap(client, "closed", "rider-phone-9").json()["queued_for_review"] is False


def test_a_second_tap_within_the_hour_is_429_with_retry_after(env: Any) -> None:
    client, _staff, _store = env
    assert tap(client, "open", "rider-phone-1").status_code == 201
    r = tap(client, "closed", "rider-phone-1")
    assert r.status_code == 429
    assert r.headers["content-type"].startswith("application/problem+json")
    assert 3500 < int(r.headers["Retry-After"]) <= 3600
    assert "分钟后再试" in r.json()["detail_zh"]
    # The JSON API answers in English unless asked; the rider's page reads detail_zh.
    assert r.json()["detail"].startswith("this device confirmed station 1 less than an hour ago")
    assert r.headers["content-language"] == "en"
    zh = client.post(
        "/api/v1/stations/1/confirmations",
        json={"state": "open"},
        headers={"X-Device-Id": "rider-phone-1", "Accept-Language": "zh-CN,zh;q=0.9"},
    )
    assert zh.status_code == 429 and zh.headers["content-language"] == "zh-CN"
    assert zh.json()["detail"] == zh.json()["detail_zh"]
    assert zh.json()["detail"].startswith("每个驿站一小时内只能确认一次，请 6")  # 60 minutes
    assert zh.json()["title"] == "请求过于频繁，请稍后再试"
    assert tap(client, "open", "rider-phone-1", station=2).status_code == 201  # another station


def test_far_away_is_remote_and_gcj02_is_read_as_gcj02(env: Any) -> None:
    client, _staff, _store = env
    far = tap(client, "open", "rider-phone-1", lat=LAT + 0.045).json()
    assert not far["onsite"] and "公里" in far["message_zh"]
    assert far["confidence"] == "scheduled"
    x, y = from_wgs84(LON, LAT, "gcj02")
    near = tap(client, "open", "rider-phone-2", lat=float(y), lon=float(x), crs="gcj02").json()
    assert near["onsite"] and near["distance_m"] < 1


def test_bad_taps_are_clear(env: Any) -> None:
    client, _staff, _store = env
    r = tap(client, "maybe", "rider-phone-1")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "state"
    r = client.post("/api/v1/stations/1/confirmations", json={"state": "open"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "X-Device-Id"
    assert r.json()["errors"][0]["message_zh"]
    assert tap(client, "open", "rider-phone-1", station=999).status_code == 404
    r = tap(client, "broken", "rider-phone-1", amenity="热水")
    assert r.status_code == 201
    assert "近 3 天 1 人反映设施坏了（热水）" in [
        x["message_zh"] for x in r.json()["confidence_reasons"]
    ]


def test_path_and_body_problems_are_told_together_in_chinese(env: Any) -> None:
    """The route reads its path and body itself: one 422 lists both, each with Chinese."""
    client, _staff, _store = env
    r = client.post(
        "/api/v1/stations/abc/confirmations",
        json={"state": "maybe", "lat": 91},
        headers={"X-Device-Id": "rider-phone-1"},
    )
    assert r.status_code == 422
    errors = {e["field"]: e["message_zh"] for e in r.json()["errors"]}
    assert errors.keys() == {"station_id", "state", "lat"}
    assert errors["station_id"] == "必须是整数" and errors["lat"] == "必须小于或等于 90"
    assert errors["state"].startswith("不是允许的值")  # the catalog may name the choices
    r = client.post(
        "/api/v1/stations/1/confirmations",
        content=b'{"state": "open"',
        headers={"X-Device-Id": "rider-phone-1", "Content-Type": "application/json"},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["message_zh"] == "不是有效的 JSON"
    r = client.post(
        "/api/v1/stations/1/confirmations",
        content=b"state=open",
        headers={
            "X-Device-Id": "rider-phone-1",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert r.status_code == 415  # as every JSON body of the API
    assert "application/x-www-form-urlencoded" in r.json()["detail_zh"]
    assert r.json()["detail_zh"].startswith("请以 application/json 格式发送")


def test_the_document_describes_what_the_route_reads(env: Any) -> None:
    client, _staff, _store = env
    op = client.get("/openapi.json").json()["paths"]["/api/v1/stations/{station_id}/confirmations"]
    params = {(p["in"], p["name"]): p for p in op["post"]["parameters"]}
    assert params[("path", "station_id")]["schema"]["minimum"] == 1
    assert params[("path", "station_id")]["required"] is True
    # the route answers 422 without it, so the document says it is required
    assert params[("header", "X-Device-Id")]["required"] is True
    missing = client.post("/api/v1/stations/1/confirmations", json={"state": "open"})
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "X-Device-Id"
    too_soon = op["post"]["responses"]["429"]["content"]["application/problem+json"]["schema"]
    assert "detail" in too_soon["properties"]
    body = op["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["state"] and body["additionalProperties"] is False
    assert body["properties"]["state"]["enum"] == ["open", "closed", "locked", "broken"]
    assert body["properties"]["crs"]["enum"] == ["wgs84", "gcj02", "bd09"]
    created = op["post"]["responses"]["201"]["content"]["application/json"]["schema"]
    assert created["$ref"].endswith("/ConfirmationReceipt")


def test_staff_read_what_each_rider_said(env: Any) -> None:
    """The review queue says that riders found a station shut; staff deciding on it read what
    each said, when, at the door or not, within the hours or not, and from how many phones."""
    client, staff, _store = env
    assert tap(client, "closed", "rider-phone-1").status_code == 201
    assert tap(client, "locked", "rider-phone-2").status_code == 201
    far = {"lat": LAT + 0.045}  # 5 km north: counted as remote
    assert tap(client, "closed", "rider-phone-3", **far).status_code == 201
    assert tap(client, "broken", "rider-phone-4", amenity="microwave").status_code == 201
    r = client.get("/api/v1/stations/1/confirmations", headers=staff.as_editor)
    assert r.status_code == 200, r.text
    body = r.json()
    said = [(v["said_zh"], v["onsite"], v["phone"]) for v in body["confirmations"]]
    assert said == [  # newest first, each phone a letter in the order first shown
        ("设施坏了（微波炉）", True, "A"),
        ("关着", False, "B"),
        ("进不去", True, "C"),
        ("关着", True, "D"),
    ]
    assert body["phones"] == 4 and all(v["scheduled"] is True for v in body["confirmations"])
    assert body["confidence"] in {"doubtful", "scheduled"}
    assert body["confidence_zh"] and body["confidence_reasons"]
    assert "rider-phone" not in r.text and "device" not in r.text  # no id, no hash
    limited = client.get("/api/v1/stations/1/confirmations?limit=1", headers=staff.as_editor)
    assert len(limited.json()["confirmations"]) == 1
    assert client.get("/api/v1/stations/1/confirmations").status_code == 401
    assert (
        client.get("/api/v1/stations/99/confirmations", headers=staff.as_editor).status_code == 404
    )


def test_the_station_editor_shows_the_riders_votes_and_checks(env: Any) -> None:
    from tests.api.admin.test_admin_console import login

    client, staff, _store = env
    for i in range(3):
        assert tap(client, "closed", f"rider-phone-{i}").status_code == 201
    login(client, staff.editor_name)
    page = client.get("/admin/stations/1").text
    assert "骑手反馈与核查" in page
    assert '<p class="trust-now level-doubtful" id="trust-now"><b>可能不开放</b>' in page
    assert "近 3 天 3 人反映关门" in page
    assert "最近的骑手反馈，新的在前（共 3 部手机）" in page
    assert page.count("<td>关着</td>") == 3 and "手机 C" in page
    assert '<span id="last-checked">从未</span>' in page
    assert 'data-post="/api/v1/stations/1/checked"' in page  # 标记已核查 from here
    client.cookies.set("console_lang", "en")  # the console in English says it in English
    english = client.get("/admin/stations/1").text
    assert "<b>may not be open</b> · 3 riders said closed in 3 days" in english
    client.cookies.set("console_lang", "zh-CN")
    queue = client.get("/admin/reports").text  # the queue links each report to the votes
    assert '<a href="/admin/stations/1#evidence">查看每位骑手的反馈</a>' in queue
    quiet = client.get("/admin/stations/2").text
    assert "还没有骑手反馈过这个驿站。" in quiet
