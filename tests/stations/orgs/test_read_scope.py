"""Read scopes on both engines: a user's organisation and below, the root's users and
anonymous readers everything, and the catalog (as loaded, not only as patched) filtered by it."""

from __future__ import annotations

from stations.orgs import EVERYWHERE
from stations.search import ListQuery, StationCatalog
from stations.store.accounts import SqlAccountStore
from stations.store.orgs import SqlOrgStore
from stations.store.sql import SqlStationStore
from tests.conftest import make_station


def test_a_reader_sees_their_organisation_and_below(store: SqlStationStore) -> None:
    orgs = SqlOrgStore.beside(store)
    accounts = SqlAccountStore.beside(store)
    beijing = orgs.add("北京市")
    etown = orgs.add("亦庄", parent=beijing.id)
    shanghai = orgs.add("上海市")
    for user, org in (("bj", beijing), ("yz", etown), ("root-user", None)):
        accounts.add_user(user, "viewer")
        if org is not None:
            orgs.assign_user(user, org.id)
    ids = {
        org.name: store.create(make_station(name=org.name), actor="seed", org_id=org.id).id
        for org in (beijing, etown, shanghai)
    }
    catalog = StationCatalog(store)  # loaded after the writes: the load keeps organisations
    bj = orgs.read_scope("bj")
    assert bj.org_ids == {beijing.id, etown.id} and bj.org_name == "北京市" and not bj.whole
    assert orgs.read_scope("yz").org_ids == {etown.id}
    assert orgs.read_scope("root-user") == orgs.read_scope(None) == EVERYWHERE
    assert orgs.read_scope("nobody") == EVERYWHERE
    assert [s.id for s in bj.stations(catalog.all())] == [ids["北京市"], ids["亦庄"]]
    hits, total = catalog.search(ListQuery(orgs=bj.org_ids))
    assert total == 2 and {h.station.id for h in hits} == {ids["北京市"], ids["亦庄"]}
    assert catalog.search(ListQuery(orgs=EVERYWHERE.org_ids))[1] == 3
    assert bj.key != orgs.read_scope("yz").key != EVERYWHERE.key
