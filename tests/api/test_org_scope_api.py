"""Two organisations' editors side by side over the API: each writes only in their scope,
places stations only in it, and reads (analysis, exports, statistics, the console list) of
their own organisation and below by default; the root and anonymous readers see everything."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

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
    for name, org in (
        ("yz-editor", "亦庄"),
        ("sh-editor", "上海市"),
        ("bj-editor", "北京市"),
        ("root-editor", None),
    ):
        accounts.add_user(name, "editor")
        if org is not None:
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


def _add(client: TestClient, headers: dict[str, str], name: str, **extra: Any) -> Any:
    return client.post("/api/v1/stations", json=dict(BODY, name=name, **extra), headers=headers)


def test_a_station_is_placed_below_the_editor_never_outside(env: Any) -> None:
    client, h = env
    placed = _add(client, h["bj-editor"], "亦庄新站", org="亦庄")
    assert placed.status_code == 201
    sid = placed.json()["id"]
    # It is Yizhuang's now: their editor may edit it.
    r = client.patch(f"/api/v1/stations/{sid}", json={"notes": "ok"}, headers=h["yz-editor"])
    assert r.status_code == 200
    refused = _add(client, h["bj-editor"], "上海新站", org="上海市")
    assert refused.status_code == 403
    # English by default on the JSON API, Chinese beside it for the console
    en, zh = refused.json()["detail"], refused.json()["detail_zh"]
    assert "上海市" in zh and "北京市" in zh and "管辖范围" in zh and "outside 北京市" in en
    assert _add(client, h["yz-editor"], "上一级", org="北京市").status_code == 403
    unknown = _add(client, h["bj-editor"], "无处", org="火星")
    assert unknown.status_code == 422
    assert [e["field"] for e in unknown.json()["errors"]] == ["org"]
    # Moving a station: the editor's scope must reach both ends.
    r = client.patch(f"/api/v1/stations/{sid}", json={"org": "北京市"}, headers=h["bj-editor"])
    assert r.status_code == 200 and r.headers["etag"] == '"3"'
    r = client.patch(f"/api/v1/stations/{sid}", json={"notes": "x"}, headers=h["yz-editor"])
    assert r.status_code == 403  # no longer Yizhuang's
    sh = _add(client, h["sh-editor"], "上海驿站").json()["id"]
    r = client.patch(f"/api/v1/stations/{sh}", json={"org": "亦庄"}, headers=h["sh-editor"])
    assert r.status_code == 403
    assert client.get(f"/api/v1/stations/{sh}").headers["etag"] == '"1"'


def _covered(client: TestClient, headers: dict[str, str] | None) -> set[int]:
    r = client.get("/api/v1/coverage", params={"radius_m": 1000}, headers=headers or {})
    assert r.status_code == 200, r.text
    return {row["id"] for row in r.json()["stations"]}


def test_reads_default_to_the_callers_organisation_and_below(env: Any) -> None:
    client, h = env
    yz = _add(client, h["yz-editor"], "亦庄驿站").json()["id"]
    bj = _add(client, h["bj-editor"], "北京驿站", lon=116.40, lat=39.90).json()["id"]
    sh = _add(client, h["sh-editor"], "上海驿站", lon=121.47, lat=31.23).json()["id"]
    everything = {yz, bj, sh}
    # Analysis: each sees their subtree; the root's users and anonymous callers everything.
    assert _covered(client, h["yz-editor"]) == {yz}
    assert _covered(client, h["bj-editor"]) == {yz, bj}
    assert _covered(client, h["sh-editor"]) == {sh}
    assert _covered(client, h["root-editor"]) == everything
    assert _covered(client, None) == everything
    # The re-check round: never checked, so all are due; each editor gets their own.
    r = client.get("/api/v1/recheck", headers=h["bj-editor"])
    assert r.status_code == 200, r.text
    assert {stop["id"] for stop in r.json()["stops"]} == {yz, bj}
    # A check, and taking it back, only within the editor's own stations.
    done = client.post(f"/api/v1/stations/{yz}/checked", headers=h["yz-editor"]).json()
    undo = {"If-Match": f'"{done["version"]}"'}
    r = client.delete(f"/api/v1/stations/{yz}/checked", headers={**h["sh-editor"], **undo})
    assert (
        r.status_code == 403
        and client.get(f"/api/v1/stations/{yz}").json()["properties"]["verified_at"]
        == done["verified_at"]
    )
    r = client.delete(f"/api/v1/stations/{yz}/checked", headers={**h["bj-editor"], **undo})
    assert r.status_code == 200 and r.json()["verified_at"] is None
    # Statistics: visits served, per station and per district.
    for sid, count in ((yz, 3), (bj, 5), (sh, 7)):
        r = client.put(
            f"/api/v1/stations/{sid}/tallies/2026-01-05",
            json={"count": count},
            headers=h["root-editor"],
        )
        assert r.status_code == 200, r.text
    span = {"from": "2026-01-01", "to": "2026-01-31"}

    def stats(who: str, group: str) -> dict[str, Any]:
        r = client.get(
            "/api/v1/stats/visits", params={**span, "group": group, "period": "all"}, headers=h[who]
        )
        assert r.status_code == 200, r.text
        return r.json()

    assert {r["key"] for r in stats("bj-editor", "station")["rows"]} == {str(yz), str(bj)}
    assert stats("bj-editor", "station")["total"]["visits"] == 8
    assert stats("sh-editor", "district")["total"] == {"visits": 7, "scans": 0, "tallied": 7}
    assert stats("yz-editor", "worker_type")["total"]["visits"] == 3
    assert stats("root-editor", "district")["total"]["visits"] == 15

    # The console's dashboard: the last 30 days of the caller's stations only.
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    for sid, count in ((yz, 2), (sh, 4)):
        r = client.put(
            f"/api/v1/stations/{sid}/tallies/{today}",
            json={"count": count},
            headers=h["root-editor"],
        )
        assert r.status_code == 200, r.text

    def board(who: str) -> dict[str, Any]:
        r = client.get("/api/v1/stats/visits/dashboard", headers=h[who])
        assert r.status_code == 200, r.text
        return r.json()

    bj_board, sh_board, all_board = board("bj-editor"), board("sh-editor"), board("root-editor")
    assert [b["id"] for b in bj_board["busiest"]] == [yz]
    assert sum(d["tallied"] for d in bj_board["daily"]) == 2
    assert {i["id"] for i in bj_board["idle"]} == {bj}
    assert [b["id"] for b in sh_board["busiest"]] == [sh] and sh_board["idle"] == []
    assert [b["id"] for b in all_board["busiest"]] == [sh, yz]
    assert sum(d["tallied"] for d in all_board["daily"]) == 6 and all_board["idle_count"] == 1


def test_analysis_pages_follow_the_reader_and_the_public_map_does_not(env: Any) -> None:
    """The coverage and gap pages are staff analysis: a signed-in reader's organisation and
    below (the cache keeps each organisation's page apart); the riders' station map shows
    every public station to everyone."""
    client, h = env
    _add(client, h["yz-editor"], "亦庄驿站")
    _add(client, h["bj-editor"], "北京驿站", lon=116.40, lat=39.90)
    _add(client, h["sh-editor"], "上海驿站", lon=121.47, lat=31.23)
    names = ("亦庄驿站", "北京驿站", "上海驿站")

    def shown(path: str, who: str | None) -> set[str]:
        r = client.get(path, params={"new_sites": 0}, headers=h[who] if who else {})
        assert r.status_code == 200, r.text
        return {n for n in names if n in r.text}

    for path in ("/maps/coverage", "/maps/gaps"):
        assert shown(path, "yz-editor") == {"亦庄驿站"}
        assert shown(path, "bj-editor") == {"亦庄驿站", "北京驿站"}
        assert shown(path, "sh-editor") == {"上海驿站"}
        assert shown(path, "root-editor") == set(names)
        assert shown(path, None) == set(names)
    assert client.get("/maps/stations", headers=h["sh-editor"]).status_code == 200
    assert {
        n for n in names if n in client.get("/maps/stations", headers=h["sh-editor"]).text
    } == set(names)
