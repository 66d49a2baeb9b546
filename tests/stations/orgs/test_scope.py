"""Organisation scope: no write path lets a user touch a station outside their subtree.

The property test drives every write the store offers (create, update, delete, restore,
import creates and updates, accepting a rider's report) as random users of a small tree
on random stations, on both engines, and checks each against the rule written out plainly:
allowed exactly when the station's organisation is the user's or below it; a refused
write changes nothing (the station's version and the change feed stay put).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stations.errors import Forbidden, NotFound
from stations.store.accounts import SqlAccountStore
from stations.store.base import ImportPlanRow
from stations.store.orgs import SqlOrgStore
from stations.store.reports import SqlReportStore
from stations.store.sql import SqlStationStore
from tests.conftest import make_station

OPS = (
    "create",
    "update",
    "delete",
    "restore",
    "import_update",
    "import_create",
    "accept",
    "dismiss",
)


@pytest.fixture
def tree(store: SqlStationStore) -> dict[str, Any]:
    """root → 全国 → {北京市 → 亦庄, 上海市}; a user in each, and one in the root."""
    orgs = SqlOrgStore.beside(store)
    accounts = SqlAccountStore.beside(store)
    tag = uuid.uuid4().hex[:6]
    nation = orgs.add(f"全国{tag}")
    beijing = orgs.add(f"北京市{tag}", parent=nation.id)
    etown = orgs.add(f"亦庄{tag}", parent=beijing.id)
    shanghai = orgs.add(f"上海市{tag}", parent=nation.id)
    all_orgs = {"root": orgs.get(1), "nation": nation, "beijing": beijing, "etown": etown}
    all_orgs["shanghai"] = shanghai
    users = {}
    for key, org in all_orgs.items():
        name = f"u-{key}-{tag}"
        accounts.add_user(name, "editor")
        if key != "root":
            orgs.assign_user(name, org.id)
        users[key] = name
    return {"orgs": all_orgs, "users": users}


def _covers(tree: dict[str, Any], user_key: str, org_id: int) -> bool:
    user_org = tree["orgs"][user_key]
    station_org = next(o for o in tree["orgs"].values() if o.id == org_id)
    return station_org.path.startswith(user_org.path)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_write_path_reaches_outside_the_scope(
    store: SqlStationStore, tree: dict[str, Any], data: Any
) -> None:
    keys = sorted(tree["orgs"])
    station_org = tree["orgs"][data.draw(st.sampled_from(keys), "station org")]
    user_key = data.draw(st.sampled_from(keys), "user")
    user = tree["users"][user_key]
    op = data.draw(st.sampled_from(OPS), "op")
    station = store.create(make_station(), actor="seed", org_id=station_org.id)
    if data.draw(st.booleans(), "deleted first"):
        store.delete(station.id, actor="seed")
    before = store.get(station.id, include_deleted=True)
    head = store.feed_head()
    allowed = _covers(tree, user_key, station_org.id)
    new_org = tree["orgs"][data.draw(st.sampled_from(keys), "create in")]
    if op == "create":
        allowed = _covers(tree, user_key, new_org.id)
    try:
        if op == "create":
            made = store.create(make_station(), actor=user, org_id=new_org.id)
            assert made.org_id == new_org.id
        elif op == "update":
            store.update(station.id, {"name": "改"}, actor=user)
        elif op == "delete":
            store.delete(station.id, actor=user)
        elif op == "restore":
            store.restore(station.id, actor=user)
        elif op == "import_update":
            data_row = make_station(name="导入改")
            store.apply_import([ImportPlanRow(data_row, station.id, row=7)], actor=user)
        elif op == "import_create":
            allowed = True  # an import's new stations go to the user's own organisation
            store.apply_import([ImportPlanRow(make_station(name="新"))], actor=user)
        else:
            reports = SqlReportStore.beside(store)
            report = reports.submit(station.id, "closed", "锁门了")
            head = store.feed_head()
            if op == "accept":
                reports.accept(report.id, reviewer=user, stations=store)
            else:
                reports.dismiss(report.id, reviewer=user)
                assert reports.get(report.id).status == "dismissed"
    except Forbidden as exc:
        assert not allowed, f"{user_key} refused on {station_org.name}: {exc}"
        assert "管辖范围" in exc.text("zh-CN") and "outside" in exc.detail
        after = store.get(station.id, include_deleted=True)
        assert (after.version, after.deleted, after.data) == (
            before.version,
            before.deleted,
            before.data,
        )
        assert store.feed_head() == head
        return
    except NotFound:
        assert before.deleted and op in ("update", "delete", "accept", "dismiss")
        if not allowed:  # a deleted station outside the scope: still nothing written
            assert store.feed_head() == head
        return
    assert allowed, f"{user_key} wrote {op} on a station of {station_org.name}"


def test_an_import_names_every_row_outside_the_scope(
    store: SqlStationStore, tree: dict[str, Any]
) -> None:
    shanghai, etown = tree["orgs"]["shanghai"], tree["orgs"]["etown"]
    mine = store.create(make_station(name="亦庄站"), actor="seed", org_id=etown.id)
    theirs = [
        store.create(make_station(name=f"上海站{i}"), actor="seed", org_id=shanghai.id)
        for i in range(2)
    ]
    rows = [ImportPlanRow(make_station(name="改"), mine.id, row=2)]
    rows += [ImportPlanRow(make_station(name="改"), s.id, row=3 + i) for i, s in enumerate(theirs)]
    head = store.feed_head()
    with pytest.raises(Forbidden) as caught:
        store.apply_import(rows, actor=tree["users"]["etown"])
    zh = caught.value.text("zh-CN")
    assert "第 3 行" in zh and "第 4 行" in zh and "第 2 行" not in zh
    assert "row 3: station" in caught.value.detail and "row 2" not in caught.value.detail
    assert store.feed_head() == head and store.get(mine.id).data.name == "亦庄站"


def test_users_without_an_org_and_old_stations_are_in_the_root(
    store: SqlStationStore, tree: dict[str, Any]
) -> None:
    """A single-district deployment: nobody has an org, everything works as before."""
    accounts = SqlAccountStore.beside(store)
    accounts.add_user("plain-editor", "editor")
    s = store.create(make_station(), actor="plain-editor")
    assert s.org_id == 1
    assert store.update(s.id, {"name": "改"}, actor="plain-editor").version == 2
    made = store.create(make_station(), actor=tree["users"]["etown"])
    assert made.org_id == tree["orgs"]["etown"].id  # an editor's station is their org's
    with pytest.raises(Forbidden):
        store.update(s.id, {"name": "再改"}, actor=tree["users"]["etown"])
