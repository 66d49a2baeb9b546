"""``/api/v1/webhooks``: admins register receivers and watch their delivery state."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from stations.store.sql import SqlStationStore
from tests.api.staff_kit import Staff, add_staff, test_settings


@pytest.fixture
def env(store_url: str) -> Iterator[tuple[TestClient, Staff]]:
    store = SqlStationStore(store_url)
    staff = add_staff(store)
    with TestClient(create_app(test_settings(webhooks_enabled=False), store=store)) as client:
        yield client, staff
    store.close()


def test_only_admins_manage_webhooks(env: Any) -> None:
    client, staff = env
    body = {"url": "https://platform.example/hooks/stations"}
    assert client.post("/api/v1/webhooks", json=body).status_code == 401
    assert client.post("/api/v1/webhooks", json=body, headers=staff.as_editor).status_code == 403
    assert client.get("/api/v1/webhooks", headers=staff.as_editor).status_code == 403


def test_register_list_and_disable(env: Any) -> None:
    client, staff = env
    r = client.post(
        "/api/v1/webhooks",
        json={"url": "https://platform.example/hooks/stations"},
        headers=staff.as_admin,
    )
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["secret"].startswith("whsec_") and made["created_by"] == staff.admin_name
    listed = client.get("/api/v1/webhooks", headers=staff.as_admin).json()["webhooks"]
    assert [w["id"] for w in listed] == [made["id"]]
    assert "secret" not in listed[0]  # shown once, at registration
    r = client.delete(f"/api/v1/webhooks/{made['id']}", headers=staff.as_admin)
    assert r.status_code == 200 and r.json()["disabled"] is True
    assert client.delete("/api/v1/webhooks/999", headers=staff.as_admin).status_code == 404


def test_a_bad_url_is_refused_in_both_languages(env: Any) -> None:
    client, staff = env
    r = client.post("/api/v1/webhooks", json={"url": "ftp://x"}, headers=staff.as_admin)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "url" and r.json()["errors"][0]["message_zh"]
    r = client.post("/api/v1/webhooks", json=["x"], headers=staff.as_admin)
    assert r.status_code == 422
