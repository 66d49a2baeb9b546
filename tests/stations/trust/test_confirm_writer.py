"""Votes under concurrency, through the real writer (group commit on PostgreSQL): every vote a
rider was told is stored is in the table, and one device racing itself gets one vote in."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from stations.errors import NotFound, TooManyRequests
from stations.store.confirmations import PendingVote, SqlConfirmationStore, write_votes
from stations.store.outage import StoreLimits
from stations.store.schema import confirmations_table
from stations.store.sql import SqlStationStore
from stations.trust.rules import Vote
from tests.conftest import make_station


@pytest.fixture
def store(store_url: str) -> Iterator[SqlStationStore]:
    """A store with patient waits: these tests are about lost and doubled votes, not about the
    fail-fast limits (which have their own tests), and a busy machine stretches each queue."""
    s = SqlStationStore(store_url, limits=StoreLimits(pool_wait_s=30.0, lock_s=30.0))
    yield s
    s.close()


@pytest.fixture
def votes(store: SqlStationStore) -> SqlConfirmationStore:
    for i in range(5):
        store.create(make_station(name=f"驿站{i}", lon=116.5 + i * 0.001), actor="t")
    s = SqlConfirmationStore.beside(store)
    yield s
    s.close()


def _threads(store: SqlStationStore, many: int) -> int:
    # SQLite writes one at a time and its write pool waits 2 s for a connection: a handful
    # of threads already queue there; PostgreSQL batches however many come.
    return many if store.engine.dialect.name == "postgresql" else 6


def _stored_ids(store: SqlStationStore) -> set[int]:
    with store.engine.connect() as conn:
        return set(conn.execute(select(confirmations_table.c.id)).scalars())


def test_concurrent_votes_from_threads_are_each_stored(
    votes: SqlConfirmationStore, store: SqlStationStore
) -> None:
    now = time.time()

    def one(n: int) -> int:
        vote = Vote(now, ("open", "closed")[n % 2], f"dev{n:06d}", True, True)
        row, recent = votes.record(n % 5 + 1, vote, distance_m=30.0)
        assert row.id in {r.id for r in recent}  # the read-back holds the vote itself
        return row.id

    with ThreadPoolExecutor(_threads(store, 32)) as pool:
        acked = list(pool.map(one, range(400)))
    assert len(set(acked)) == 400
    assert _stored_ids(store) == set(acked)


def test_concurrent_votes_from_coroutines_are_each_stored(
    votes: SqlConfirmationStore, store: SqlStationStore
) -> None:
    now = time.time()

    async def burst() -> list[int | BaseException]:
        async def one(n: int) -> int:
            vote = Vote(now, "open", f"co{n:06d}", n % 3 > 0, True)
            row, _ = await votes.record_async(n % 5 + 1, vote, distance_m=None)
            return row.id

        return await asyncio.gather(*(one(n) for n in range(300)), return_exceptions=True)

    # Its own thread: a browser test's playwright (sync API) may keep an event loop running
    # in this one for the rest of the session, and asyncio.run refuses to nest.
    with ThreadPoolExecutor(1) as thread:
        acked = thread.submit(asyncio.run, burst()).result()
    assert all(isinstance(a, int) for a in acked)
    assert _stored_ids(store) == set(acked)


def test_one_device_racing_itself_gets_one_vote(
    votes: SqlConfirmationStore, store: SqlStationStore
) -> None:
    now = time.time()

    def one(n: int) -> object:
        try:
            return votes.record(2, Vote(now + n * 1e-3, "closed", "same-phone", True), distance_m=5)
        except TooManyRequests as exc:
            return exc

    with ThreadPoolExecutor(_threads(store, 16)) as pool:
        results = list(pool.map(one, range(40)))
    won = [r for r in results if not isinstance(r, TooManyRequests)]
    assert len(won) == 1
    refused = [r for r in results if isinstance(r, TooManyRequests)]
    assert all(3590 <= r.extra["retry_after_s"] <= 3601 for r in refused)
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(confirmations_table)).scalar() == 1


def test_one_batch_refuses_only_its_own_bad_votes(
    votes: SqlConfirmationStore, store: SqlStationStore
) -> None:
    """A batch mixing good votes, a deleted station and a repeated device: the good ones are
    stored, each bad one hears its own error."""
    now = time.time()
    store.delete(4, actor="t")
    batch = [
        PendingVote(1, Vote(now, "open", "a" * 32, True), 10.0),
        PendingVote(4, Vote(now, "open", "b" * 32, True), 10.0),
        PendingVote(1, Vote(now + 1, "closed", "a" * 32, True), 10.0),
        PendingVote(99, Vote(now, "open", "c" * 32, True), 10.0),
        PendingVote(3, Vote(now, "locked", "a" * 32, True), float("nan")),
    ]
    out = write_votes(store.engine, batch)
    assert isinstance(out[1], NotFound) and isinstance(out[3], NotFound)
    assert isinstance(out[2], TooManyRequests)
    stored = [r for r in out if isinstance(r, tuple)]
    assert [row.station_id for row, _ in stored] == [1, 3]
    assert _stored_ids(store) == {row.id for row, _ in stored}
    again = write_votes(store.engine, [PendingVote(1, Vote(now + 3600, "open", "a" * 32, True), 1)])
    assert isinstance(again[0], tuple)  # an hour later the device may vote again
