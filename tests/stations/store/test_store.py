"""The store contract, run against SQLite and PostgreSQL + PostGIS alike."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from stations.errors import Conflict, NotFound, PreconditionFailed, ValidationFailed
from stations.store.base import ImportPlanRow
from stations.store.sql import SqlStationStore
from tests.conftest import make_station


def test_create_get_and_history(store: SqlStationStore) -> None:
    s = store.create(make_station(external_id="YZ-001"), actor="alice")
    assert s.id >= 1 and s.version == 1
    got = store.get(s.id)
    assert got.data == s.data
    [entry] = store.history(s.id)
    assert (entry.action, entry.actor, entry.version, entry.before) == ("create", "alice", 1, None)
    assert entry.after["name"] == s.data.name


def test_update_bumps_version_and_records_before_after(store: SqlStationStore) -> None:
    s = store.create(make_station(), actor="a")
    s2 = store.update(s.id, {"name": "新名称", "amenities": "热水、微波炉"}, actor="bob")
    assert s2.version == 2 and s2.data.amenities == ("hot_water", "microwave")
    entry = store.history(s.id)[-1]
    assert entry.before["name"] == s.data.name and entry.after["name"] == "新名称"
    assert entry.actor == "bob"
    # a no-op patch writes nothing
    assert store.update(s.id, {"name": "新名称"}, actor="bob").version == 2
    assert len(store.history(s.id)) == 2


def test_stale_version_is_refused_and_changes_nothing(store: SqlStationStore) -> None:
    s = store.create(make_station(), actor="a")
    store.update(s.id, {"notes": "first"}, actor="a", expected_version=1)
    with pytest.raises(PreconditionFailed):
        store.update(s.id, {"notes": "second"}, actor="b", expected_version=1)
    assert store.get(s.id).data.notes == "first"


def test_invalid_update_writes_nothing(store: SqlStationStore) -> None:
    s = store.create(make_station(), actor="a")
    with pytest.raises(ValidationFailed):
        store.update(s.id, {"lat": 123}, actor="a")
    assert store.get(s.id).version == 1


def test_delete_keeps_history_and_restore_brings_it_back(store: SqlStationStore) -> None:
    s = store.create(make_station(), actor="a")
    store.delete(s.id, actor="a")
    with pytest.raises(NotFound):
        store.get(s.id)
    assert store.all() == []
    restored = store.restore(s.id, actor="b")
    assert restored.version == 3 and not restored.deleted
    assert [e.action for e in store.history(s.id)] == ["create", "delete", "restore"]


def test_restore_an_old_version(store: SqlStationStore) -> None:
    s = store.create(make_station(name="甲"), actor="a")
    store.update(s.id, {"name": "乙"}, actor="a")
    back = store.restore(s.id, actor="a", version=1)
    assert back.data.name == "甲" and back.version == 3
    with pytest.raises(NotFound):
        store.restore(s.id, actor="a", version=99)


def test_external_id_is_unique(store: SqlStationStore) -> None:
    store.create(make_station(external_id="YZ-001"), actor="a")
    with pytest.raises(Conflict):
        store.create(make_station(external_id="YZ-001"), actor="a")


def test_import_is_all_or_nothing(store: SqlStationStore) -> None:
    store.create(make_station(external_id="X"), actor="a")
    before = store.change_counter()
    rows = [
        ImportPlanRow(make_station(external_id="N1")),
        ImportPlanRow(make_station(external_id="X")),
    ]  # clashes with the stored one
    with pytest.raises(Conflict):
        store.apply_import(rows, actor="imp")
    assert len(store.all()) == 1 and store.change_counter() == before


def test_import_creates_and_updates_in_one_go(store: SqlStationStore) -> None:
    s = store.create(make_station(external_id="X"), actor="a")
    created, updated = store.apply_import(
        [ImportPlanRow(make_station(external_id=f"N{i}")) for i in range(5)]
        + [ImportPlanRow(make_station(external_id="X", name="改名"), s.id)],
        actor="imp",
    )
    assert (created, updated) == (5, 1)
    assert store.get(s.id).data.name == "改名" and store.get(s.id).version == 2
    assert set(store.by_external_ids(["X", "N0", "nope"])) == {"X", "N0"}


def test_change_log(store: SqlStationStore) -> None:
    c0 = store.change_counter()
    a = store.create(make_station(), actor="a")
    b = store.create(make_station(), actor="a")
    store.update(a.id, {"notes": "n"}, actor="a")
    changes = store.changes_since(c0)
    assert [sid for _, sid in changes] == [a.id, b.id, a.id]
    assert store.change_counter() == changes[-1][0]
    assert {s.id for s in store.get_many([a.id, b.id])} == {a.id, b.id}


def test_concurrent_editors_lose_no_update(store_url: str) -> None:
    """8 threads × 25 read-modify-write increments of one counter: all 200 survive."""
    first = SqlStationStore(store_url)
    s = first.create(make_station(notes="0"), actor="a")
    errors: list[BaseException] = []

    def editor() -> None:
        store = SqlStationStore(store_url)
        try:
            for _ in range(25):
                while True:
                    cur = store.get(s.id)
                    try:
                        store.update(
                            s.id,
                            {"notes": str(int(cur.data.notes) + 1)},
                            actor="t",
                            expected_version=cur.version,
                        )
                        break
                    except PreconditionFailed:
                        continue
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            store.close()

    threads = [threading.Thread(target=editor) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    final = first.get(s.id)
    assert final.data.notes == "200" and final.version == 201
    first.close()


def test_sqlite_is_in_wal_mode(sqlite_url: str) -> None:
    # SQLite only: WAL is SQLite's journal mode (PostgreSQL has no such setting).
    store = SqlStationStore(sqlite_url)
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    store.close()


@pytest.mark.postgres
def test_postgis_geometry_follows_lon_lat(pg_schema_url: str) -> None:
    # PostgreSQL only: the generated PostGIS ``geom`` column and its GiST index (SQLite
    # stores lon/lat alone).
    store = SqlStationStore(pg_schema_url)
    s = store.create(make_station(lon=116.5, lat=39.8), actor="a")
    store.update(s.id, {"lon": 116.6}, actor="a")
    with store.engine.connect() as conn:
        wkt = conn.execute(
            text("SELECT ST_AsText(geom) FROM stations WHERE id=:i"), {"i": s.id}
        ).scalar()
        idx = conn.execute(
            # This test's own schema only: other tests create and drop theirs meanwhile.
            text(
                "SELECT indexdef FROM pg_indexes "
                "WHERE schemaname = current_schema() AND indexname = 'ix_stations_geom'"
            )
        ).scalar()
    assert wkt == "POINT(116.6 39.8)"
    assert "gist" in idx.lower()
    store.close()


def test_import_keeps_desired_ids_when_free(store: SqlStationStore) -> None:
    taken = store.create(make_station(external_id="T"), actor="a")  # id 1
    rows = [
        ImportPlanRow(make_station(external_id="A"), desired_id=40),
        ImportPlanRow(make_station(external_id="B"), desired_id=taken.id),  # taken
        ImportPlanRow(make_station(external_id="C")),
    ]
    store.apply_import(rows, actor="imp")
    by_ext = store.by_external_ids(["A", "B", "C"])
    assert by_ext["A"].id == 40
    assert {by_ext["B"].id, by_ext["C"].id} == {41, 42}
    # the id sequence moved past the imported ids: a normal create does not collide
    assert store.create(make_station(external_id="D"), actor="a").id == 43


def test_ids_no_column_can_hold_are_not_found(store: SqlStationStore) -> None:
    """The API takes ids up to 2**62; PostgreSQL's ``integer`` stops at 2**31 - 1 and used to
    answer "integer out of range" (a 500) where SQLite answered "not found"."""
    s = store.create(make_station(external_id="A"), actor="a")
    for huge in (2**31, 2**62):
        for call in (
            lambda i: store.get(i),
            lambda i: store.history(i),
            lambda i: store.update(i, {"name": "x"}, actor="a"),
            lambda i: store.delete(i, actor="a"),
            lambda i: store.restore(i, actor="a"),
        ):
            with pytest.raises(NotFound):
                call(huge)
        with pytest.raises(NotFound):
            store.restore(s.id, actor="a", version=huge)
        assert [x.id for x in store.get_many([s.id, huge])] == [s.id]
    # An import that asks for such an id gets the next free one instead.
    store.apply_import(
        [ImportPlanRow(make_station(external_id="B"), desired_id=2**40)], actor="imp"
    )
    assert store.by_external_ids(["B"])["B"].id == s.id + 1
