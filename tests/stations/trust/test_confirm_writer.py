"""Votes under concurrency, through the real writer (group commit on PostgreSQL): every vote a
rider was told is stored is in the table, and one device racing itself gets one vote in."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from stations.errors import NotFound, TooManyRequests
from stations.store.confirmations import PendingVote, SqlConfirmationStore, write_votes
from stations.store.outage import StoreLimits
from stations.store.schema import confirmations_table
from stations.store.sql import SqlStationStore
from stations.trust.confirm import AUTO_REPORT_TEXT
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
        row, recent, _ = votes.record(PendingVote(n % 5 + 1, vote, 30.0))
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
            stored = await votes.record_async(PendingVote(n % 5 + 1, vote, None))
            return stored.row.id

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
            return votes.record(
                PendingVote(2, Vote(now + n * 1e-3, "closed", "same-phone", True), 5)
            )
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
    assert [r.row.station_id for r in stored] == [1, 3]
    assert _stored_ids(store) == {r.row.id for r in stored}
    again = write_votes(store.engine, [PendingVote(1, Vote(now + 3600, "open", "a" * 32, True), 1)])
    assert isinstance(again[0], tuple)  # an hour later the device may vote again


def test_statement_times_are_the_instants_the_plain_steps_store() -> None:
    """The batch statement's ISO times against ``datetime.fromtimestamp`` (what the plain
    steps store): random times around now, half-microsecond ties either way, and fractions
    that round up into the next second."""
    import math
    import random
    from datetime import datetime

    from stations.store.confirmations import _dt, _iso

    rng = random.Random(16)
    now = math.floor(time.time())
    times = [now + rng.uniform(-4e6, 4e6) for _ in range(20000)]
    times += [now + k / 2e6 for k in range(4000)]
    times += [math.nextafter(t, math.inf) for t in times[-4000:]]
    times += [math.nextafter(t, 0.0) for t in times[-4000:]]
    times += [now + 0.9999995, now + 1 - 1e-9, now + 5e-7, 1.5e-6, 2.5e-6, 0.0]
    for at in times:
        assert datetime.fromisoformat(_iso(at)) == _dt(at), at


# -- the PostgreSQL fast path against the plain steps, and its kept connection ----------------


def _mixed_batches(now: float) -> list[list[PendingVote]]:
    """Good votes, a deleted station (4), a missing one (99), a device twice in one batch and
    again in a later batch, a vote on a station with earlier votes, an hour later again."""
    dev = [f"{c}" * 32 for c in "abcdefgh"]
    return [
        [PendingVote(1, Vote(now, "open", dev[0], True, True), 10.0)],
        [
            PendingVote(1, Vote(now + 1, "closed", dev[1], True, True), 20.0),
            PendingVote(2, Vote(now + 1, "locked", dev[0], False, None), None),
            PendingVote(4, Vote(now + 1, "open", dev[2], True, True), 5.0),
            PendingVote(99, Vote(now + 1, "open", dev[3], True, True), 5.0),
            PendingVote(1, Vote(now + 2, "open", dev[1], True, True), 20.0),
            PendingVote(3, Vote(now + 2, "broken", dev[4], True, True, "toilet"), float("nan")),
        ],
        [
            PendingVote(1, Vote(now + 60, "open", dev[0], True, True), 10.0),
            PendingVote(1, Vote(now + 61, "closed", dev[5], True, False), 30.0),
        ],
        [PendingVote(1, Vote(now + 3601, "closed", dev[0], True, True), 10.0)],
    ]


def _comparable(result: object) -> object:
    """A result without its row ids (the two paths may number one batch's votes apart)."""
    if isinstance(result, Exception):
        return (type(result).__name__, result.extra.get("retry_after_s"))
    row, window, queued = result  # type: ignore[misc]
    votes = sorted((r.vote for r in window), key=lambda v: (v.at, v.device))
    return (row.station_id, row.vote, votes, queued)


@contextmanager
def _four_live_stations() -> Iterator[SqlStationStore]:
    """A fresh PostgreSQL schema with stations 1–5, station 4 deleted (votes on it refused)."""
    from tests.conftest import pg_schema, postgres_url

    with pg_schema(postgres_url()) as url:
        store = SqlStationStore(url)
        try:
            for i in range(5):
                store.create(make_station(name=f"驿站{i}", lon=116.5 + i * 0.001), actor="t")
            store.delete(4, actor="t")
            yield store
        finally:
            store.close()


@pytest.mark.postgres
def test_fast_path_answers_as_the_plain_steps(tmp_path: object) -> None:
    """The one-statement batch on a kept connection and ``_steps`` (SQLAlchemy Core, one
    statement per step), each on a fresh PostgreSQL schema, give every vote the same answer
    and leave the same rows."""
    from stations.store.confirmations import PgVoteWriter, _answers, _claims, _steps

    now = time.time()
    answers: list[list[object]] = []
    stored: list[list[tuple[object, ...]]] = []
    for fast in (True, False):
        with _four_live_stations() as store:
            writer = PgVoteWriter(store.write_engine)
            got: list[object] = []
            for batch in _mixed_batches(now):
                if fast:
                    got += writer(batch)
                else:
                    first, claims = _claims(batch)
                    with store.write_engine.begin() as conn:
                        got += _answers(batch, first, _steps(conn, claims))
            writer.release()
            c = confirmations_table.c
            with store.engine.connect() as conn:
                rows = conn.execute(
                    select(c.station_id, c.at, c.state, c.amenity, c.device_hash, c.onsite,
                           c.distance_m, c.scheduled).order_by(c.station_id, c.at)
                ).all()  # fmt: skip
            answers.append([_comparable(r) for r in got])
            stored.append([tuple(r) for r in rows])
    assert answers[0] == answers[1]
    assert stored[0] == stored[1]
    kinds = [a if isinstance(a[0], str) else "stored" for a in answers[0]]  # type: ignore[index]
    assert kinds.count("stored") == 6  # the rest refused, each for its own reason


@pytest.mark.postgres
def test_the_fast_path_reads_back_only_the_votes_its_callers_do_not_hold() -> None:
    """Older votes on a voted station come back only above what every vote of the batch
    holds (its ``held``); a vote that says nothing gets them all, as the plain steps give
    them. Rule 4 still counts every one of them."""
    from stations.store.confirmations import PgVoteWriter

    now = time.time()

    def vote(k: int, held: int | None, report: str | None = None) -> PendingVote:
        cast = Vote(now + k, "closed", f"{k:032d}", True, True)
        return PendingVote(1, cast, 10.0, report, held)

    def written(batch: list[PendingVote]) -> tuple[list[int], list[list[int]]]:
        """The batch's new ids, and each vote's older votes read back."""
        out = writer(batch)
        new = [r.row.id for r in out]  # type: ignore[union-attr]
        back = [[r.id for r in res.recent if r.id not in new] for res in out]  # type: ignore[union-attr]
        return new, back

    with _four_live_stations() as store:
        writer = PgVoteWriter(store.write_engine)
        try:
            ids = [written([vote(k, None)])[0][0] for k in range(4)]
            new, back = written([vote(4, ids[1])])
            assert back == [ids[2:]]  # those above what it holds
            ids += new
            new, back = written([vote(5, new[0])])
            assert back == [[]]  # it holds them all: its own vote alone
            ids += new
            new, back = written([vote(6, ids[2]), vote(7, ids[0])])
            assert back == [ids[1:], ids[1:]]  # above the lower: what either lacks
            ids += new
            new, back = written([vote(8, None)])
            assert back == [ids]  # it says nothing: all of them
            # Rule 4 counts every older vote in the statement, whatever comes back.
            (queued,) = writer([vote(9, 10**12, AUTO_REPORT_TEXT)])
            assert [r.id for r in queued.recent] == [queued.row.id]  # type: ignore[union-attr]
            assert queued.queued  # type: ignore[union-attr]
        finally:
            writer.release()


def _report_batches(now: float) -> list[list[PendingVote]]:
    """Votes that may file a report: rule 4 tipped by a later batch (station 1) and within
    one batch (2), on a station with a pending report (3, counted on it) and one whose report
    was dismissed (5, a new row); a repeated device (refused), an open vote on site (rule 4
    no longer holds after it), a remote vote and votes that ask for no report (never due)."""
    text = AUTO_REPORT_TEXT
    dev = [f"{c}" * 32 for c in "abcdefghijkl"]

    def v(sid: int, at: float, state: str, d: int, onsite: bool = True, report: bool = True):
        return PendingVote(sid, Vote(now + at, state, dev[d], onsite, True), 10.0,
                           text if report else None)  # fmt: skip

    return [
        [v(1, 0, "closed", 0), v(1, 1, "locked", 1), v(3, 1, "closed", 0)],
        [
            v(1, 2, "closed", 2),
            v(1, 3, "closed", 3),
            v(1, 4, "closed", 3),
            v(2, 2, "closed", 0),
            v(2, 2, "closed", 1),
            v(2, 3, "locked", 2),
            v(3, 2, "closed", 1),
            v(3, 3, "closed", 2, onsite=False),
            v(5, 3, "closed", 0, report=False),
        ],
        [v(3, 5, "locked", 3), v(5, 5, "closed", 1), v(5, 6, "locked", 2), v(4, 6, "closed", 4)],
        [v(1, 60, "open", 5), v(1, 61, "closed", 6), v(5, 62, "open", 7, report=False)],
    ]


def _reports_both_ways(
    batches: list[list[PendingVote]],
    *,
    earlier_reports: bool = False,
    checked: dict[int, float] | None = None,
) -> tuple[list[list[object]], list[list[tuple[object, ...]]]]:
    """Each vote's answer and the review queue left, written by the fast path (first) and
    by :func:`write_votes` (second), each on a fresh schema; with ``earlier_reports``,
    station 3 has a pending report and station 5 a dismissed one before the votes; with
    ``checked``, those stations were checked by staff at those times (rule 8)."""
    from stations.store.confirmations import PgVoteWriter
    from stations.store.reports import SqlReportStore
    from stations.store.schema import reports_table, stations_table

    answers: list[list[object]] = []
    queues: list[list[tuple[object, ...]]] = []
    for fast in (True, False):
        with _four_live_stations() as store:
            with store.write_engine.begin() as conn:
                for sid, at in (checked or {}).items():
                    conn.execute(
                        stations_table.update()
                        .where(stations_table.c.id == sid)
                        .values(verified_at=datetime.fromtimestamp(at, UTC))
                    )
            if earlier_reports:
                reports = SqlReportStore.beside(store)
                reports.submit(3, "closed", AUTO_REPORT_TEXT)
                reports.dismiss(reports.submit(5, "closed", AUTO_REPORT_TEXT).id, reviewer="e")
            writer = PgVoteWriter(store.write_engine)
            got: list[object] = []
            for batch in batches:
                got += writer(batch) if fast else write_votes(store.write_engine, batch)
            writer.release()
            r = reports_table.c
            with store.engine.connect() as conn:
                rows = conn.execute(
                    select(r.station_id, r.kind, r.text, r.status, r.count,
                           r.created_at <= r.last_seen_at).order_by(r.id)
                ).all()  # fmt: skip
            answers.append([_comparable(a) for a in got])
            queues.append([tuple(row) for row in rows])
    return answers, queues


@pytest.mark.postgres
def test_reports_filed_with_the_batch_as_the_plain_steps_file_them() -> None:
    """Votes that file their report in their own transaction: the one-statement reports of
    the fast path and ``count_report`` vote by vote (the steps a rider's report takes) give
    every vote the same answer and leave the same queue, de-duplicated as one rider's report
    would be."""
    answers, queues = _reports_both_ways(_report_batches(time.time()), earlier_reports=True)
    assert answers[0] == answers[1]
    assert queues[0] == queues[1]
    queued = [a[-1] for a in answers[0] if not isinstance(a[0], str)]  # type: ignore[index]
    assert queued == [False] * 3 + [True] * 5 + [False] * 3 + [True] * 3 + [False] * 3
    t = AUTO_REPORT_TEXT
    assert queues[0] == [
        (3, "closed", t, "pending", 1 + 1, True),
        (5, "closed", t, "dismissed", 1, True),
        (1, "closed", t, "pending", 2, True),
        (2, "closed", t, "pending", 3, True),
        (5, "closed", t, "pending", 2, True),
    ]


def _random_report_batches(now: float, seed: int) -> list[list[PendingVote]]:
    """Rule 4's edges at random: votes hours and days apart (its 24 h and the 3-day window),
    a minute ahead of one another (the clock skew it allows), off-schedule 关着 (not
    contradicting), remote votes, open votes between, devices repeating within the hour."""
    rng = random.Random(seed)
    dev = [f"{c}" * 32 for c in "abcdefghij"]
    at = now
    batches = []
    for _ in range(16):
        at += rng.choice([0.5, 40.0, 600.0, 1800.0, 3 * 3600.0, 20 * 3600.0, 26 * 3600.0])
        batch = []
        for _ in range(rng.randint(1, 7)):
            state = rng.choice(["open", "closed", "closed", "locked", "broken"])
            vote = Vote(
                at + rng.uniform(-50.0, 50.0),
                state,
                rng.choice(dev),
                rng.random() < 0.8,
                rng.choice([True, True, False, None]),
                "toilet" if state == "broken" else None,
            )
            report = AUTO_REPORT_TEXT if rng.random() < 0.8 else None
            batch.append(PendingVote(rng.choice([1, 1, 2, 3, 5]), vote, 10.0, report))
        batches.append(batch)
    return batches


@pytest.mark.postgres
@pytest.mark.parametrize("seed", [0, 2, 3, 4])
def test_rule_4_in_the_statement_decides_as_the_rules_do(seed: int) -> None:
    """The batch statement's own rule 4 (and the reports it files) against ``queue_worthy``
    and ``count_report`` vote by vote, on random batches."""
    now = time.time() - 10 * 86400  # the claims' hours and the windows all in the past
    answers, queues = _reports_both_ways(_random_report_batches(now, seed))
    assert answers[0] == answers[1]
    assert queues[0] == queues[1]
    # each seed files some reports and refuses some votes (the data tests what it says)
    assert any(a[-1] for a in answers[0] if not isinstance(a[0], str))  # type: ignore[index]


@pytest.mark.postgres
@pytest.mark.parametrize("seed", [0, 2, 4])
def test_a_staff_check_settles_rule_4_in_the_statement_as_in_the_rules(seed: int) -> None:
    """Rule 8 in the statement: votes at or before a station's last staff check count toward
    no report, as ``queue_worthy`` with the check decides, on random batches."""
    now = time.time() - 10 * 86400
    batches = _random_report_batches(now, seed)
    middle = batches[len(batches) // 2][0].vote.at
    answers, queues = _reports_both_ways(batches, checked={1: middle, 2: middle + 3600.0})
    assert answers[0] == answers[1]
    assert queues[0] == queues[1]
    unchecked, _ = _reports_both_ways(batches)
    filed = sum(1 for a in answers[0] if not isinstance(a[0], str) and a[-1])  # type: ignore[index]
    before = sum(1 for a in unchecked[0] if not isinstance(a[0], str) and a[-1])  # type: ignore[index]
    assert filed < before  # the check settled some reports (the data tests what it says)


@pytest.mark.postgres
def test_kept_connection_goes_back_when_idle_and_a_lost_one_is_replaced(
    pg_schema_url: str,
) -> None:
    """The writer keeps one pooled connection while votes come and returns it when idle; a
    connection the server dropped fails its batch with SQLAlchemy's error (a 503 in the API),
    trips the breaker, and the next batch (once the database answers) gets a fresh one."""
    from sqlalchemy import exc as sa_exc
    from sqlalchemy import text

    from stations.store.confirmations import PgVoteWriter
    from stations.store.group_commit import GroupCommitWriter
    from stations.store.outage import breaker_of

    store = SqlStationStore(pg_schema_url, limits=StoreLimits(pool_wait_s=30.0, lock_s=30.0))
    store.create(make_station(), actor="t")
    pool = store.write_engine.pool
    pg = PgVoteWriter(store.write_engine)
    writer = GroupCommitWriter(pg, name="test-writer", idle=pg.release, idle_s=0.2)
    now = time.time()
    try:
        before = pool.checkedout()
        writer.submit(PendingVote(1, Vote(now, "open", "a" * 32, True), 5.0))
        assert pool.checkedout() == before + 1  # kept between batches …
        deadline = time.monotonic() + 10
        while pool.checkedout() != before:  # … and given back once idle
            assert time.monotonic() < deadline, "the idle writer kept its connection"
            time.sleep(0.05)

        writer.submit(PendingVote(1, Vote(now, "open", "b" * 32, True), 5.0))
        pid = pg._pooled.driver_connection.info.backend_pid  # type: ignore[union-attr]
        with store.engine.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        with pytest.raises(sa_exc.OperationalError):
            writer.submit(PendingVote(1, Vote(now, "open", "c" * 32, True), 5.0))
        breaker = breaker_of(store.write_engine)
        assert breaker is not None and breaker.is_open
        breaker.reset()  # what the service's monitor does once the database answers
        stored = writer.submit(PendingVote(1, Vote(now, "open", "c" * 32, True), 5.0))
        assert stored.row.id in _stored_ids(store)
    finally:
        writer.close()
        store.close()


def test_a_busy_writer_lingers_for_more_and_a_lone_item_does_not_wait() -> None:
    """With ``linger_s``: an item alone is written at once; once batches hold several, the
    writer waits that long for more, so items arriving a little apart share a batch."""
    from stations.store.group_commit import GroupCommitWriter

    sizes: list[int] = []

    def write(batch: list[int]) -> list[int]:
        sizes.append(len(batch))
        time.sleep(0.05)  # a commit: what comes meanwhile queues up
        return batch

    writer: GroupCommitWriter[int, int] = GroupCommitWriter(write, name="t", linger_s=0.5)
    try:
        started = time.monotonic()
        assert writer.submit(1) == 1
        assert time.monotonic() - started < 0.4  # alone: no lingering
        with ThreadPoolExecutor(8) as pool:
            first = pool.submit(writer.submit, 2)
            time.sleep(0.01)
            rest = [pool.submit(writer.submit, n) for n in range(3, 6)]  # queue behind it
            assert first.result() == 2 and [f.result() for f in rest] == [3, 4, 5]
            # The last batch held several: the next item waits for company.
            a = pool.submit(writer.submit, 6)
            time.sleep(0.1)
            b = pool.submit(writer.submit, 7)
            assert (a.result(), b.result()) == (6, 7)
        assert sizes[0] == 1 and sizes[-1] == 2
    finally:
        writer.close()


def test_lingering_is_one_sleep_and_a_full_enough_batch_does_not_linger() -> None:
    """Once batches hold several, items put while the writer lingers all join the next batch
    (it sleeps, then takes what is queued); a queue already :data:`FULL_ENOUGH` is written
    without the linger, so a writer flat out does not sleep between full batches."""
    from stations.store.group_commit import FULL_ENOUGH, GroupCommitWriter

    sizes: list[int] = []
    gate = threading.Event()

    def write(batch: list[int]) -> list[int]:
        sizes.append(len(batch))
        gate.wait(5)  # the first batch holds the writer while the test queues more
        return batch

    writer: GroupCommitWriter[int, int] = GroupCommitWriter(write, name="t", linger_s=0.6)
    try:
        with ThreadPoolExecutor(FULL_ENOUGH + 8) as pool:
            first = pool.submit(writer.submit, 0)
            while not sizes:
                time.sleep(0.001)
            # Behind the first batch: two, which make the next batch one of several.
            two = [pool.submit(writer.submit, n) for n in (1, 2)]
            time.sleep(0.05)
            gate.set()
            assert first.result() == 0 and [f.result() for f in two] == [1, 2]
            assert sizes == [1, 2]
            # Lingering now: items put a little apart during the sleep share one batch.
            spread = []
            for n in range(3, 8):
                spread.append(pool.submit(writer.submit, n))
                time.sleep(0.03)
            assert [f.result() for f in spread] == list(range(3, 8))
            assert sizes[2:] == [5]
            # A full-enough queue behind a held batch of several is written as soon as the
            # writer is free (the held one lingered: its two items share it).
            gate.clear()
            held = [pool.submit(writer.submit, n) for n in (100, 101)]
            while len(sizes) < 4:
                time.sleep(0.001)
            full = [pool.submit(writer.submit, 200 + n) for n in range(FULL_ENOUGH)]
            while writer._queue.qsize() < FULL_ENOUGH:
                time.sleep(0.001)
            released = time.monotonic()
            gate.set()
            assert [f.result() for f in held] == [100, 101]
            assert [f.result() for f in full] == [200 + n for n in range(FULL_ENOUGH)]
            assert time.monotonic() - released < 0.45  # no 0.6 s linger before the full batch
            assert sizes[3:] == [2, FULL_ENOUGH]
    finally:
        writer.close()


def test_a_coroutine_that_waits_too_long_hears_a_timeout_and_the_writer_goes_on() -> None:
    """``submit_async`` gives up after ``timeout_s`` with ``TimeoutError`` (the item's write
    still happens, unacknowledged); the late answer is dropped and later items are answered."""
    from stations.store.group_commit import GroupCommitWriter

    written: list[int] = []

    def write(batch: list[int]) -> list[int]:
        time.sleep(0.3 if batch[0] == 1 else 0.0)
        written.extend(batch)
        return batch

    writer: GroupCommitWriter[int, int] = GroupCommitWriter(write, name="t")

    async def run() -> tuple[object, int]:
        try:
            await writer.submit_async(1, timeout_s=0.05)
            late: object = None
        except TimeoutError as exc:
            late = exc
        await asyncio.sleep(0.4)  # the first batch is answered meanwhile: nobody waits
        return late, await writer.submit_async(2, timeout_s=5)

    try:
        with ThreadPoolExecutor(1) as thread:
            late, second = thread.submit(asyncio.run, run()).result()
        assert isinstance(late, TimeoutError) and second == 2
        assert written == [1, 2]
    finally:
        writer.close()
