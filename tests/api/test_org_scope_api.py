"""Two organisations' editors side by side over the API: each writes only in their scope."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from stations.store.accounts import SqlAccountStore
from stations.store.orgs import SqlOrgStore
from stations.store.sql import SqlStationStore
from tests.api.staff_kit import test_settings

BODY = {"name": "经海路快递驿站", "lon": 116.5611, "lat": 39.7801}


@pytest.fixture
def env(store_url: str) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    store = SqlStationStore(store_url)
    orgs = SqlOrgStore.beside(store)
    accounts = SqlAccountStore.beside(store)
    nation = orgs.add("全国")
    orgs.add("亦庄", parent=orgs.add("北京市", parent=nation.id).id)
    orgs.add("上海市", parent=nation.id)
    headers = {}
    for name, org in (("yz-editor", "亦庄"), ("sh-editor", "上海市"), ("bj-editor", "北京市")):
        accounts.add_user(name, "editor")
        orgs.assign_user(name, org)
        token = accounts.create_token(name)[1]
        headers[name] = {"Authorization": f"Bearer {token}"}
    settings = test_settings(webhooks_enabled=False)
    with TestClient(create_app(settings, store=store)) as client:
        yield client, headers
    store.close()


def test_each_editor_writes_only_in_their_scope(env: Any) -> None:
    client, h = env
    yz = client.post("/api/v1/stations", json=BODY, headers=h["yz-editor"]).json()["id"]
    sh = client.post(
        "/api/v1/stations", json=dict(BODY, name="上海驿站"), headers=h["sh-editor"]
    ).json()["id"]
    r = client.patch(f"/api/v1/stations/{sh}", json={"name": "x"}, headers=h["yz-editor"])
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "上海市" in r.json()["detail"] and "outside 亦庄" in r.json()["detail"]
    assert client.delete(f"/api/v1/stations/{sh}", headers=h["yz-editor"]).status_code == 403
    assert client.delete(f"/api/v1/stations/{yz}", headers=h["sh-editor"]).status_code == 403
    # Their own stations, and (for Beijing) everything below Beijing, are theirs to edit.
    r = client.patch(f"/api/v1/stations/{yz}", json={"name": "亦庄改"}, headers=h["yz-editor"])
    assert r.status_code == 200
    r = client.patch(f"/api/v1/stations/{yz}", json={"name": "北京改"}, headers=h["bj-editor"])
    assert r.status_code == 200
    assert (
        client.patch(
            f"/api/v1/stations/{sh}", json={"name": "x"}, headers=h["bj-editor"]
        ).status_code
        == 403
    )
    assert client.get(f"/api/v1/stations/{sh}").json()["properties"]["name"] == "上海驿站"
