"""``GET /api/v1/changes`` over HTTP: any valid token, paging by cursor, clear refusals."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from stations.store.sql import SqlStationStore
from tests.api.staff_kit import Staff, add_staff, test_settings

BODY = {"name": "经海路快递驿站", "lon": 116.5611, "lat": 39.7801, "amenities": ["hot_water"]}


@pytest.fixture
def env(store_url: str) -> Iterator[tuple[TestClient, Staff]]:
    store = SqlStationStore(store_url)
    staff = add_staff(store)
    with TestClient(create_app(test_settings(), store=store)) as client:
        yield client, staff
    store.close()


def test_changes_need_a_token_and_any_role_may_read(env: Any) -> None:
    client, staff = env
    r = client.get("/api/v1/changes")
    assert r.status_code == 401
    assert client.get("/api/v1/changes", headers=staff.as_viewer).status_code == 200


def test_a_follower_pages_through_writes_made_over_the_api(env: Any) -> None:
    client, staff = env
    sid = client.post("/api/v1/stations", json=BODY, headers=staff.as_editor).json()["id"]
    r = client.patch(
        f"/api/v1/stations/{sid}", json={"name": "经海路驿站"}, headers=staff.as_editor
    )
    assert r.status_code == 200, r.text
    assert client.delete(f"/api/v1/stations/{sid}", headers=staff.as_editor).status_code == 204
    seen, since = [], "0"
    while True:
        page = client.get(
            "/api/v1/changes", params={"since": since, "limit": 1}, headers=staff.as_viewer
        ).json()
        if not page["changes"]:
            assert page["next_cursor"] == since and page["more"] is False
            break
        assert len(page["changes"]) == 1
        seen += page["changes"]
        since = page["next_cursor"]
    assert [(e["op"], e["version"]) for e in seen] == [("create", 1), ("update", 2), ("delete", 3)]
    assert seen[1]["station"]["properties"]["name"] == "经海路驿站"
    assert seen[2]["station"] == {"id": sid, "version": 3, "deleted": True}


def test_a_cursor_the_feed_never_gave_is_refused_in_both_languages(env: Any) -> None:
    client, staff = env
    r = client.get("/api/v1/changes", params={"since": "42x"}, headers=staff.as_viewer)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    error = r.json()["errors"][0]
    assert error["field"] == "since" and "游标" in error["message_zh"]
