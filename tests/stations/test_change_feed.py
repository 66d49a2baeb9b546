"""The change feed: commit order, cursors, and a follower that rebuilds the store exactly.

The concurrency tests use real threads writing through the real store on both engines while
a follower reads the feed; on PostgreSQL the feed must not be ordered by the history id (a
sequence, handed out in start order), which the held-open transaction test shows directly.
"""

from __future__ import annotations

import os
import random
import threading
import time
from typing import Any

import pytest
from sqlalchemy import insert, select

from stations.errors import NotFound, PreconditionFailed, ValidationFailed
from stations.feed import decode_cursor, encode_cursor, read_changes
from stations.store.base import ImportPlanRow
from stations.store.schema import history_table
from stations.store.sql import SqlStationStore
from tests.conftest import make_station

#: Writes in the concurrency test; the acceptance run sets 10000 (see the closing note).
WRITES = int(os.environ.get("STATIONS_FEED_WRITES", "1200"))


def _follow(store: SqlStationStore, since: str, limit: int = 100) -> tuple[list[Any], str]:
    entries: list[Any] = []
    while True:
        page = read_changes(store, since, limit).as_json()
        entries.extend(page["changes"])
        if page["next_cursor"] == since:
            return entries, since
        since = page["next_cursor"]


def test_cursor_round_trip_and_refusal() -> None:
    for seq in (0, 1, 7, 2**31 - 1):
        assert decode_cursor(encode_cursor(seq)) == seq
    assert decode_cursor("0") == decode_cursor(None) == 0
    for bad in ("abc", "c1.!!", "c1." + "A" * 30, "-1", "c1.LTE"):
        with pytest.raises(ValidationFailed) as caught:
            decode_cursor(bad)
        assert caught.value.errors[0].field == "since"
        assert caught.value.errors[0].message_zh


def test_every_kind_of_write_is_one_entry_in_order(store: SqlStationStore) -> None:
    a = store.create(make_station(name="甲"), actor="t")
    b = store.create(make_station(name="乙", external_id="B"), actor="t")
    store.update(a.id, {"name": "甲二"}, actor="t")
    store.update(a.id, {"name": "甲二"}, actor="t")  # no change: no entry
    store.delete(b.id, actor="t")
    store.restore(b.id, actor="t")
    store.apply_import(
        [
            ImportPlanRow(make_station(name="丙", external_id="C")),
            ImportPlanRow(make_station(name="甲三"), station_id=a.id),
        ],
        actor="t",
    )
    entries, last = _follow(store, "0", limit=2)
    assert [(e["op"], e["station_id"], e["version"]) for e in entries] == [
        ("create", a.id, 1),
        ("create", b.id, 1),
        ("update", a.id, 2),
        ("delete", b.id, 2),
        ("restore", b.id, 3),
        ("create", entries[5]["station_id"], 1),
        ("update", a.id, 3),
    ]
    assert entries[3]["station"] == {"id": b.id, "version": 2, "deleted": True}
    assert entries[2]["station"]["properties"]["name"] == "甲二"
    assert entries[2]["station"]["geometry"]["coordinates"] == [116.5068, 39.7954]
    assert len({e["cursor"] for e in entries}) == len(entries)
    assert last == entries[-1]["cursor"]
    # Resuming from any entry's cursor gives exactly the entries after it.
    for i, e in enumerate(entries):
        assert _follow(store, e["cursor"])[0] == entries[i + 1 :]
    assert store.feed_head() == decode_cursor(last)


def test_history_written_without_a_number_still_gets_the_next_one(store: SqlStationStore) -> None:
    # A writer outside the store (another feature's code, a hand-run SQL fix) must not open
    # a hole in the feed: the database numbers the row itself.
    s = store.create(make_station(), actor="t")
    with store.engine.begin() as conn:
        conn.execute(
            insert(history_table).values(
                station_id=s.id,
                version=1,
                action="update",
                actor="sql",
                at=s.updated_at,
                before=None,
                after=s.record(),
            )
        )
        seqs = conn.execute(select(history_table.c.seq).order_by(history_table.c.id)).scalars()
        assert list(seqs) == [1, 2]
    assert [e["op"] for e in _follow(store, "0")[0]] == ["create", "update"]


def test_a_transaction_that_started_first_but_commits_last_is_not_skipped(
    store: SqlStationStore,
) -> None:
    """Writer A takes its history id first and commits last; B commits in between. A follower
    that has read B must still get A, and later than B: the feed is in commit order."""
    a = store.create(make_station(name="A"), actor="t")
    b = store.create(make_station(name="B", external_id="B"), actor="t")
    start = store.feed_head()
    held = store._write()
    tx = held.begin()
    current = store._locked(held, a.id, None, scope=None)
    data = current.data.__class__(**{**current.data.as_dict(), "name": "A2"})
    store._replace(held, current, data, deleted=False, action="update", actor="slow")
    b_done = threading.Event()

    def write_b() -> None:
        store.update(b.id, {"name": "B2"}, actor="fast")
        b_done.set()

    thread = threading.Thread(target=write_b)
    thread.start()
    try:
        # B cannot commit (and so cannot appear) while A holds its feed number.
        assert not b_done.wait(0.5)
        assert read_changes(store, encode_cursor(start)).entries == []
    finally:
        tx.commit()
        held.close()
    thread.join(30)
    assert b_done.is_set()
    entries, _ = _follow(store, encode_cursor(start))
    assert [(e["station_id"], e["station"]["properties"]["name"]) for e in entries] == [
        (a.id, "A2"),
        (b.id, "B2"),
    ]


def _state(store: SqlStationStore) -> dict[int, tuple[int, bool, dict[str, Any]]]:
    with store.engine.connect() as conn:
        ids = conn.execute(select(history_table.c.station_id).distinct()).scalars().all()
    out = {}
    for s in store.get_many(ids):
        out[s.id] = (s.version, s.deleted, None if s.deleted else s.record())
    return out


def test_a_follower_from_zero_rebuilds_the_store_after_concurrent_writes(
    store: SqlStationStore,
) -> None:
    """Writers create, update, delete and restore concurrently while a follower reads the
    feed page by page; at the end the follower's copy equals the store, every station's
    versions arrive in order, and no cursor is seen twice."""
    seeds = [store.create(make_station(name=f"种子{i}"), actor="seed").id for i in range(20)]
    ids = list(seeds)
    ids_lock = threading.Lock()
    writers, per_writer = 6, WRITES // 6
    done = threading.Event()
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        rng = random.Random(n)
        try:
            for i in range(per_writer):
                with ids_lock:
                    sid = rng.choice(ids)
                roll = rng.random()
                try:
                    if roll < 0.2:
                        new = store.create(make_station(name=f"w{n}-{i}"), actor=f"w{n}")
                        with ids_lock:
                            ids.append(new.id)
                    elif roll < 0.8:
                        store.update(sid, {"name": f"w{n}-{i}"}, actor=f"w{n}")
                    elif roll < 0.9:
                        store.delete(sid, actor=f"w{n}")
                    else:
                        store.restore(sid, actor=f"w{n}")
                except (NotFound, PreconditionFailed):
                    pass  # deleting a deleted station, updating one being deleted: fine
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    copy: dict[int, tuple[int, bool, dict[str, Any] | None]] = {}
    seen: set[str] = set()
    last_version: dict[int, int] = {}
    since = "0"

    def apply(entries: list[dict[str, Any]]) -> None:
        for e in entries:
            assert e["cursor"] not in seen
            seen.add(e["cursor"])
            sid = e["station_id"]
            assert e["version"] == last_version.get(sid, 0) + 1, (sid, e["version"])
            last_version[sid] = e["version"]
            if e["op"] == "delete":
                copy[sid] = (e["version"], True, None)
            else:
                f = e["station"]
                record = dict(f["properties"])
                record["lon"], record["lat"] = f["geometry"]["coordinates"]
                copy[sid] = (e["version"], False, record)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    rounds = 0
    while not done.is_set():
        if not any(t.is_alive() for t in threads):
            done.set()  # one more full read after the last write
        page = read_changes(store, since, 50).as_json()
        apply(page["changes"])
        since = page["next_cursor"]
        rounds += 1
        if not page["changes"]:
            time.sleep(0.005)
    for t in threads:
        t.join()
    assert not errors, errors
    entries, since = _follow(store, since)
    apply(entries)
    assert rounds > 10  # the follower really read while writers wrote
    want = {
        sid: (v, deleted, None if deleted else {k: r[k] for k in r})
        for sid, (v, deleted, r) in _state(store).items()
    }
    got = {sid: (v, d, r) for sid, (v, d, r) in copy.items()}
    assert got == want
    assert len(seen) == store.feed_head()


def test_an_existing_store_keeps_its_history_in_the_feed(store_url: str) -> None:
    """Upgrading a deployment from before the feed numbers its history by id and carries on."""
    from alembic import command
    from alembic.config import Config

    from stations.store.engine import _MIGRATIONS, WRITE, make_engine

    engine = make_engine(store_url)
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        config.attributes["connection"] = conn
        command.upgrade(config, "0002")
    old = make_station()
    with engine.begin() as conn:
        for version in (1, 2):
            conn.exec_driver_sql(
                "INSERT INTO station_history (station_id, version, action, actor, at) "
                f"VALUES (1, {version}, 'create', 'old', CURRENT_TIMESTAMP)"
            )
    store = SqlStationStore(engine=engine)
    try:
        assert store.feed_head() == 2
        new = store.create(old, actor="t")
        entries, _ = _follow(store, "0")
        assert [(e["station_id"], e["version"]) for e in entries] == [(1, 1), (1, 2), (new.id, 1)]
    finally:
        store.close()
