"""The organisation tree's table on both engines: add, find, list, users' organisations."""

from __future__ import annotations

import pytest

from stations.errors import Conflict, NotFound, ValidationFailed
from stations.store.accounts import SqlAccountStore
from stations.store.orgs import SqlOrgStore
from stations.store.schema import ROOT_ORG_ID
from stations.store.sql import SqlStationStore


def test_a_tree_of_paths_listed_parents_first(store: SqlStationStore) -> None:
    orgs = SqlOrgStore.beside(store)
    nation = orgs.add(" 全国 ")
    shanghai = orgs.add("上海市", parent="全国")
    beijing = orgs.add("北京市", parent=nation.id)
    etown = orgs.add("亦庄", parent=str(beijing.id))
    assert nation.name == "全国" and nation.parent_id == ROOT_ORG_ID
    assert etown.path == f"/{ROOT_ORG_ID}/{nation.id}/{beijing.id}/{etown.id}/"
    assert etown.depth == 3 and etown.is_under(nation) and not etown.is_under(shanghai)
    listed = orgs.list()
    assert [o.id for o in listed] == [ROOT_ORG_ID, nation.id, shanghai.id, beijing.id, etown.id]
    assert orgs.get("亦庄") == etown == orgs.get(etown.id)


def test_names_are_checked_and_unique(store: SqlStationStore) -> None:
    orgs = SqlOrgStore.beside(store)
    orgs.add("全国")
    with pytest.raises(Conflict, match="an organisation named '全国' exists") as info:
        orgs.add("全国")
    assert info.value.text("zh-CN") == "机构名已存在：全国"
    for bad in ("", "  ", "x" * 101):
        with pytest.raises(ValidationFailed):
            orgs.add(bad)
    with pytest.raises(NotFound, match="no organisation '火星'") as missing:
        orgs.add("亦庄", parent="火星")
    assert missing.value.text("zh-CN") == "没有这个机构：火星"


def test_users_belong_to_the_root_until_assigned(store: SqlStationStore) -> None:
    orgs = SqlOrgStore.beside(store)
    SqlAccountStore.beside(store).add_user("yz", "editor")
    assert orgs.user_org("yz").id == ROOT_ORG_ID
    etown = orgs.add("亦庄")
    assert orgs.assign_user("yz", "亦庄") == etown == orgs.user_org("yz")
    with pytest.raises(NotFound, match="no user 'nobody'") as info:
        orgs.assign_user("nobody", etown.id)
    assert info.value.text("zh-CN") == "没有这个用户：nobody"
    with pytest.raises(NotFound, match="no user 'nobody'"):
        orgs.user_org("nobody")
