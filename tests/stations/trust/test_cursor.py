"""The incremental pull reads only votes not applied, and misses none a late commit brings.

The reference is the plain reload: a fresh board filled from every vote of the window
(``SqlConfirmationStore.recent``) must hold what the incrementally refreshed board holds.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import insert

from stations.search import StationCatalog
from stations.store.confirmations import SqlConfirmationStore
from stations.store.schema import confirmations_table
from stations.store.sql import SqlStationStore
from stations.trust.board import TrustBoard
from stations.trust.confirm import TrustService
from stations.trust.cursor import VoteCursor
from tests.conftest import make_station

LON, LAT = 116.5068, 39.7954


def test_holes_are_awaited_filled_and_given_up() -> None:
    c = VoteCursor(hole_s=60.0, max_gap=100)
    c.saw([1, 2, 5], now=0.0)
    assert c.top == 5 and c.holes == [3, 4]
    assert c.wanted() == (5, [3, 4])
    c.saw([4], now=1.0)  # the slow transaction committed
    assert c.holes == [3]
    c.saw([3, 3, 2], now=2.0)  # repeats are harmless
    assert c.holes == [] and c.wanted() == (5, [])
    c.saw([9], now=10.0)
    c.expire(now=69.0)
    assert c.holes == [6, 7, 8]  # noticed at 10: still awaited at 69
    c.expire(now=70.5)
    assert c.holes == [] and c.top == 9  # given up (rolled back, deleted, out of window)


def test_a_jump_notices_at_most_max_gap_and_many_holes_read_a_range() -> None:
    c = VoteCursor(max_gap=100)
    c.saw([1_000_000], now=0.0)
    assert c.holes == list(range(999_900, 1_000_000))
    assert c.wanted(max_listed=50) == (999_899, [])  # the range from the lowest hole
    assert c.wanted(max_listed=500) == (1_000_000, c.holes)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.tuples(st.just("saw"), st.lists(st.integers(1, 400), max_size=6)),
            st.tuples(st.just("own"), st.lists(st.integers(1, 400), max_size=3)),
            st.tuples(st.just("expire"), st.just([])),
            st.tuples(st.just("loaded"), st.lists(st.integers(1, 400), max_size=6)),
        ),
        max_size=30,
    )
)
def test_held_through_is_just_below_the_lowest_hole(steps: list[tuple[str, list[int]]]) -> None:
    """The remembered lowest hole against the plain definition, after any mix of pulls,
    expiries and starts (a hole filled, given up, or added above the others)."""
    c = VoteCursor(hole_s=5.0, max_gap=50)
    for now, (step, ids) in enumerate(steps):
        if step in ("saw", "own"):
            c.saw(ids, now=float(now), pulled=step == "saw")
        elif step == "expire":
            c.expire(now=float(now))
        else:
            c.loaded(ids, now=float(now), lookback=20)
        assert c.held_through == (c.holes[0] - 1 if c.holes else c.top)


def test_an_own_vote_far_above_leaves_the_ids_between_to_the_next_pull() -> None:
    """A process's own vote read back is not a pull: the ids below it are unread, not
    missing. Near, they are awaited; farther than ``max_gap``, the highest id stays and the
    next pull reads everything above it."""
    c = VoteCursor(max_gap=100)
    c.saw([1, 2, 3], now=0.0)
    c.saw([50], now=1.0, pulled=False)
    assert c.top == 50 and c.holes == list(range(4, 50))
    c.saw(range(4, 50), now=2.0)
    c.saw([5_000], now=3.0, pulled=False)
    assert c.top == 50 and c.holes == [] and c.wanted() == (50, []) and c.held_through == 50
    c.saw([4_990, 5_000], now=4.0)  # the pull: everything above 50 it found
    assert c.top == 5_000 and c.holes == [*range(4_890, 4_990), *range(4_991, 5_000)]


def test_a_start_awaits_only_the_last_ids_below_the_highest() -> None:
    c = VoteCursor()
    c.loaded([3, 10, 2_000, 2_003], now=0.0, lookback=512)
    assert c.top == 2_003 and c.holes[0] == 1_491 and 2_000 not in c.holes
    assert 2_001 in c.holes and len(c.holes) == 512 - 1  # 1_491 … 2_002 but 2_000


def _service(store: SqlStationStore, confirmations: SqlConfirmationStore) -> TrustService:
    return TrustService(confirmations, StationCatalog(store), TrustBoard())


def _votes(board: TrustBoard, ids: list[int]) -> dict[int, list[object]]:
    """Each station's votes (ties in time in any order: the rules read them as a set)."""
    return {i: sorted(board.votes(i), key=lambda v: (v.at, v.device)) for i in ids}


def _reference(store: SqlStationStore, confirmations: SqlConfirmationStore) -> TrustBoard:
    board = TrustBoard()
    board.add(confirmations.recent())
    return board


def test_incremental_refresh_holds_what_a_full_reload_holds(store: SqlStationStore) -> None:
    ids = [store.create(make_station(name=f"驿站{i}"), actor="t").id for i in range(3)]
    confirmations = SqlConfirmationStore.beside(store)
    mine, other = _service(store, confirmations), _service(store, confirmations)
    other.load()
    now = time.time()
    for n in range(12):
        writer = mine if n % 3 else other  # both "processes" write
        body = {"state": ("open", "closed", "locked")[n % 3], "lat": LAT + 0.0003, "lon": LON}
        writer.confirm(ids[n % 3], body, f"device-{n:04d}", now=now + n)
        if n % 4 == 0:
            assert other.refresh(now=now + n) >= 0
    other.refresh(now=now + 20)
    assert other.refresh(now=now + 21) == 0  # nothing applied twice, nothing left to read
    reference = _reference(store, confirmations)
    assert _votes(other.board, ids) == _votes(reference, ids)
    assert sum(len(v) for v in _votes(other.board, ids).values()) == 12


@pytest.mark.postgres
def test_a_vote_committed_below_one_already_read_still_arrives(
    store: SqlStationStore, engine: str
) -> None:
    if engine != "postgres":
        pytest.skip("only PostgreSQL lets a second writer commit while a first one holds an id")
    sid = store.create(make_station(), actor="t").id
    confirmations = SqlConfirmationStore.beside(store)
    mine, other = _service(store, confirmations), _service(store, confirmations)
    other.load()
    now = time.time()
    row = {
        "station_id": sid,
        "at": datetime.fromtimestamp(now, UTC),
        "state": "closed",
        "device_hash": "slow" * 8,
        "onsite": True,
        "distance_m": 30.0,
        "scheduled": True,
    }
    with store.engine.connect() as slow:
        slow.begin()
        slow_id = slow.execute(insert(confirmations_table).returning(confirmations_table.c.id), row)
        slow_id = slow_id.scalar_one()  # allocated, not committed
        fast = mine.confirm(sid, {"state": "open", "lat": LAT, "lon": LON}, "device-fast", now=now)
        assert fast.id > slow_id
        assert other.refresh(now=now) == 1  # the fast one; the slow id is now awaited
        assert other.board.cursor.holes == [slow_id]
        slow.commit()
    assert other.refresh(now=now + 1) == 1  # read by id, though below the highest seen
    assert other.board.cursor.holes == []
    assert other.refresh(now=now + 2) == 0
    assert _votes(other.board, [sid]) == _votes(_reference(store, confirmations), [sid])


def test_a_start_with_an_empty_window_awaits_nothing_below_the_first_new_vote() -> None:
    c = VoteCursor()
    c.loaded([], now=0.0, lookback=512, highest=700)  # every stored vote out of the window
    assert c.top == 700 and c.holes == list(range(188, 700))
    c.expire(now=61.0)
    c.saw([701], now=61.0)
    assert c.holes == [] and c.wanted() == (701, [])


def test_a_process_starting_after_a_quiet_day_reads_only_new_votes(
    store: SqlStationStore,
) -> None:
    """Votes all older than the window: the first new one is not a jump over awaited ids."""
    sid = store.create(make_station(), actor="t").id
    confirmations = SqlConfirmationStore.beside(store)
    old = datetime.fromtimestamp(time.time() - 3 * 86400, UTC)
    rows = [
        {
            "station_id": sid,
            "at": old,
            "state": "open",
            "device_hash": f"old-{i:04d}",
            "onsite": True,
            "distance_m": 20.0,
            "scheduled": True,
        }
        for i in range(700)
    ]
    with store.engine.begin() as conn:
        conn.execute(insert(confirmations_table), rows)
    mine, other = _service(store, confirmations), _service(store, confirmations)
    now = time.time()
    other.load()
    assert other.board.last_id == confirmations.highest_id() >= 700
    assert len(other.board.cursor.holes) <= 512  # the lookback, not every id since 0
    mine.confirm(sid, {"state": "open", "lat": LAT, "lon": LON}, "device-new", now=now)
    assert other.refresh(now=now + 61) == 1  # the awaited old ids given up by then
    assert other.board.cursor.holes == []
