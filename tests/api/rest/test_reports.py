"""Rider reports through the API: anonymous, rate-limited, reviewed by editors only."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from stations.store.sql import SqlStationStore
from tests.api.staff_kit import Staff, add_staff, test_settings
from tests.conftest import make_station


@pytest.fixture
def env(store_url: str) -> Iterator[tuple[TestClient, Staff, SqlStationStore]]:
    store = SqlStationStore(store_url)
    store.create(make_station(external_id="YZ-001", name="荣华中路驿站"), actor="t")
    store.create(make_station(external_id="YZ-002", name="经海路驿站"), actor="t")
    staff = add_staff(store)
    with TestClient(create_app(test_settings(), store=store)) as client:
        yield client, staff, store
    store.close()


def _report(client: TestClient, station_id: int, kind: str, text: str | None = None) -> Any:
    body = {"kind": kind} if text is None else {"kind": kind, "text": text}
    return client.post(f"/api/v1/stations/{station_id}/reports", json=body)


def test_anyone_may_report_but_nothing_changes_by_itself(env: Any) -> None:
    client, _staff, store = env
    for kind in ("closed", "amenity_missing", "moved", "other"):
        r = _report(client, 1, kind, f"{kind} 说明")
        assert r.status_code == 201, r.text
        assert r.json()["status"] == "pending" and r.json()["message_zh"]
    assert store.get(1).version == 1 and len(store.history(1)) == 1
    assert client.get("/api/v1/stations/1").json()["properties"]["status"] == "open"


def test_bad_reports_are_422_in_two_languages(env: Any) -> None:
    client, _staff, _store = env
    for body, field in (
        ({"kind": "fire"}, "kind"),
        ({"kind": "closed", "text": "长" * 501}, "text"),
        ({"kind": "closed", "station": 2}, "station"),
    ):
        r = client.post("/api/v1/stations/1/reports", json=body)
        assert r.status_code == 422, body
        [error] = r.json()["errors"]
        assert error["field"] == field and error["message_zh"]
    assert _report(client, 999, "closed").status_code == 404


def test_review_queue_is_for_editors(env: Any) -> None:
    client, staff, _store = env
    _report(client, 1, "closed", "门锁着")
    _report(client, 2, "amenity_missing", "没有热水")
    assert client.get("/api/v1/reports").status_code == 401
    assert client.get("/api/v1/reports", headers=staff.as_viewer).status_code == 403
    assert client.post("/api/v1/reports/1/accept", headers=staff.as_viewer).status_code == 403
    assert client.post("/api/v1/reports/1/dismiss").status_code == 401
    r = client.get("/api/v1/reports", params={"status": "pending"}, headers=staff.as_editor)
    assert r.status_code == 200
    body = r.json()
    assert body["numberMatched"] == 2
    assert [(x["station_name"], x["kind_zh"], x["text"]) for x in body["reports"]] == [
        ("荣华中路驿站", "驿站已关闭", "门锁着"),
        ("经海路驿站", "设施缺失或损坏", "没有热水"),
    ]
    r = client.get("/api/v1/reports", params={"status": "done"}, headers=staff.as_editor)
    assert r.status_code == 422


def test_accepting_closed_report_closes_station_and_dismissing_keeps_it(env: Any) -> None:
    client, staff, store = env
    closed = _report(client, 1, "closed", "今天没开").json()["id"]
    other = _report(client, 2, "closed", "好像关了").json()["id"]
    r = client.post(f"/api/v1/reports/{closed}/accept", headers=staff.as_editor)
    assert r.status_code == 200
    assert r.json()["status"] == "accepted" and r.json()["reviewed_by"] == staff.editor_name
    assert r.json()["station_version"] == 2
    assert client.get("/api/v1/stations/1").json()["properties"]["status"] == "temporarily_closed"
    last = store.history(1)[-1]
    assert (last.actor, last.after["status"]) == (staff.editor_name, "temporarily_closed")
    r = client.post(f"/api/v1/reports/{other}/dismiss", headers=staff.as_editor)
    assert r.status_code == 200 and r.json()["status"] == "dismissed"
    assert store.get(2).data.status == "open" and store.get(2).version == 1
    assert (
        client.post(f"/api/v1/reports/{closed}/dismiss", headers=staff.as_editor).status_code == 409
    )
    assert client.post("/api/v1/reports/999/accept", headers=staff.as_editor).status_code == 404
    pending = client.get(
        "/api/v1/reports", params={"status": "pending"}, headers=staff.as_admin
    ).json()
    assert pending["numberMatched"] == 0


def test_reports_are_rate_limited_per_client(env: Any) -> None:
    client, _staff, store = env
    codes = [_report(client, 1, "other", f"第{i}次").status_code for i in range(12)]
    assert codes[:10] == [201] * 10 and codes[10:] == [429, 429]
    r = _report(client, 1, "other", "again")
    assert r.headers["content-type"] == "application/problem+json"
    assert int(r.headers["retry-after"]) >= 1
    # reads are limited separately (the public limit), so the rider can still find stations
    assert client.get("/api/v1/stations/1").status_code == 200
    assert len(store.history(1)) == 1
