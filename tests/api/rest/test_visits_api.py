"""Visits through the HTTP API, end to end: the poster's QR (decoded from the rendered PDF)
opens /s/{code}; a check-in there reaches the dashboard; a repeat within the window is not
counted; hand tallies and scans add up in the monthly XLSX."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from stations.store.sql import SqlStationStore
from tests.api.staff_kit import Staff, add_staff, test_settings
from tests.conftest import make_station
from tests.stations.visits.test_poster import decoded_qr_codes

PUBLIC = "https://yz.example.cn"


@pytest.fixture
def env(store_url: str) -> Iterator[tuple[TestClient, Staff, SqlStationStore, str]]:
    store = SqlStationStore(store_url)
    store.create(
        make_station(external_id="YZ-001", name="荣华中路驿站", district="亦庄镇"), actor="t"
    )
    store.create(
        make_station(external_id="YZ-002", name="经海路驿站", district="旧宫镇"), actor="t"
    )
    staff = add_staff(store)
    settings = test_settings(public_url=PUBLIC, checkin_rate_per_hour=0)
    with TestClient(create_app(settings, store=store)) as client:
        yield client, staff, store, store_url
    store.close()


def _today() -> str:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()


def test_poster_to_dashboard_to_monthly_table(env: Any, tmp_path: Path, monkeypatch) -> None:
    client, staff, _store, url = env
    poster = client.get("/api/v1/stations/1/poster.pdf", headers=staff.as_viewer)
    assert poster.status_code == 200 and poster.headers["content-type"] == "application/pdf"
    pdf = tmp_path / "poster.pdf"
    pdf.write_bytes(poster.content)
    [[scanned]] = decoded_qr_codes(pdf, 1.0)
    assert scanned.startswith(PUBLIC + "/s/")
    page = client.get(urlsplit(scanned).path)
    assert page.status_code == 200
    assert "荣华中路驿站" in page.text and "签到" in page.text and "不收集姓名" in page.text
    code = scanned.rsplit("/", 1)[1]

    device = {"X-Device-Id": "phone-aaaa-0001"}
    first = client.post(
        "/api/v1/checkins", json={"code": code, "worker_type": "courier"}, headers=device
    )
    assert first.status_code == 201 and first.json()["counted"] is True
    again = client.post(
        "/api/v1/checkins", json={"code": code, "worker_type": "courier"}, headers=device
    )
    assert again.status_code == 200 and again.json()["counted"] is False
    other = client.post(
        "/api/v1/checkins", json={"code": code}, headers={"X-Device-Id": "phone-bbbb-0002"}
    )
    assert other.status_code == 201

    board = client.get("/api/v1/stats/visits/dashboard", headers=staff.as_viewer).json()
    assert board["daily"][-1] == {"day": _today(), "scans": 2, "tallied": 0}
    assert board["busiest"] == [{"id": 1, "name": "荣华中路驿站", "visits": 2}]
    assert [s["id"] for s in board["idle"]] == [2] and board["idle_count"] == 1
    workers = {w["key"]: w["visits"] for w in board["by_worker"]}
    assert workers["courier"] == 1 and workers["unspecified"] == 1

    tally = client.put(
        f"/api/v1/stations/1/tallies/{_today()}", json={"count": 9}, headers=staff.as_editor
    )
    assert tally.status_code == 200, tally.text
    stats = client.get(
        "/api/v1/stats/visits?group=district&period=month", headers=staff.as_viewer
    ).json()
    assert stats["total"] == {"visits": 11, "scans": 2, "tallied": 9}
    assert [(r["label"], r["visits"]) for r in stats["rows"]] == [("亦庄镇", 11)]

    from openpyxl import load_workbook

    from cli import main

    monkeypatch.setenv("STATIONS_DATABASE_URL", url)
    out = tmp_path / "month.xlsx"
    main(["visits", "--month", _today()[:7], "-o", str(out)])
    table = list(load_workbook(out).active.iter_rows(min_row=2, values_only=True))
    header, first_row, last = table[0], table[1], table[-1]
    total = header.index("服务人次合计")
    assert first_row[0] == "荣华中路驿站" and first_row[1] == code
    assert (first_row[header.index("快递员")], first_row[header.index("未填写")]) == (1, 1)
    assert first_row[header.index("手工登记")] == 9 and first_row[total] == 11
    assert last[0] == "合计" and last[total] == 11


def test_check_ins_are_rate_limited_per_client(store_url: str) -> None:
    store = SqlStationStore(store_url)
    try:
        store.create(make_station(), actor="t")
        settings = test_settings(checkin_rate_per_hour=60, checkin_burst=2)
        with TestClient(create_app(settings, store=store)) as client:
            from stations.store.visits import SqlVisitStore

            code = SqlVisitStore.beside(store).code_for(1)
            answers = [
                client.post(
                    "/api/v1/checkins", json={"code": code}, headers={"X-Device-Id": f"dev-{n:06d}"}
                )
                for n in range(3)
            ]
        assert [a.status_code for a in answers] == [201, 201, 429]
        assert int(answers[2].headers["Retry-After"]) >= 1
    finally:
        store.close()


def test_bad_check_ins_and_unknown_pages(env: Any) -> None:
    client, _staff, _store, _url = env
    bad = client.post("/api/v1/checkins", json={"code": "ABCDEFGH", "worker_type": "pilot"})
    assert bad.status_code == 422
    fields = {e["field"] for e in bad.json()["errors"]}
    assert fields == {"worker_type", "X-Device-Id"}
    assert all(e["message_zh"] for e in bad.json()["errors"])
    unknown = client.post(
        "/api/v1/checkins", json={"code": "ZZZZZZZZ"}, headers={"X-Device-Id": "phone-0000-1"}
    )
    assert unknown.status_code == 404
    page = client.get("/s/ZZZZZZZZ")
    assert page.status_code == 404 and "没有找到" in page.text
    assert client.get("/s/1").status_code == 404  # database ids are not codes


def test_staff_only_and_editor_only(env: Any) -> None:
    client, staff, _store, _url = env
    assert client.get("/api/v1/stats/visits").status_code == 401
    assert client.get("/api/v1/stations/1/code").status_code == 401
    assert client.get("/api/v1/stations/1/poster.pdf").status_code == 401
    day = _today()
    assert (
        client.put(
            f"/api/v1/stations/1/tallies/{day}", json={"count": 1}, headers=staff.as_viewer
        ).status_code
        == 403
    )
    future = (datetime.now(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=2)).isoformat()
    r = client.put(
        f"/api/v1/stations/1/tallies/{future}", json={"count": 1}, headers=staff.as_editor
    )
    assert r.status_code == 422 and r.json()["errors"][0]["message_zh"] == "日期晚于今天"
    r = client.put(f"/api/v1/stations/99/tallies/{day}", json={"count": 1}, headers=staff.as_editor)
    assert r.status_code == 422
    # An id beyond the tables' INTEGER names no station: nothing found, not a 500 on PostgreSQL.
    r = client.get(f"/api/v1/stations/{2**40}/tallies", headers=staff.as_viewer)
    assert r.status_code == 200 and r.json() == {"tallies": []}
    r = client.get("/api/v1/stats/visits?from=2026-11-05&to=2026-11-01", headers=staff.as_viewer)
    assert r.status_code == 422
    assert (
        client.get("/api/v1/stats/visits?group=planet", headers=staff.as_viewer).status_code == 422
    )
    code = client.get("/api/v1/stations/1/code", headers=staff.as_viewer).json()
    assert code["url"] == f"{PUBLIC}/s/{code['code']}"
