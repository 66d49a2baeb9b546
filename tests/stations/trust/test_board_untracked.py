"""The trust board keeps days of votes; what it keeps is out of the cycle collector's view
(stations.trust._untrack), so a worker's full collections do not grow with the votes."""

from __future__ import annotations

import gc
import time

import pytest

from stations.model import Station
from stations.store.sql import SqlStationStore
from stations.trust._untrack import untrack
from stations.trust.board import TrustBoard
from stations.trust.rules import Vote
from tests.conftest import make_station


@pytest.fixture
def station(tmp_path) -> Station:  # type: ignore[no-untyped-def]
    store = SqlStationStore(f"sqlite:///{tmp_path / 's.db'}")
    try:
        return store.create(make_station(opening_hours="24/7"), actor="t")
    finally:
        store.close()


def test_untrack_returns_the_object_out_of_the_collectors_view() -> None:
    kept = (1.5, "open", [])  # a tuple holding a list stays tracked on its own
    assert gc.is_tracked(kept)
    assert untrack(kept) is kept
    assert not gc.is_tracked(kept)
    assert untrack(kept) is kept  # twice is harmless
    assert untrack(3) == 3  # an untracked object is left as it is


def test_what_the_board_keeps_is_untracked_and_still_answers(station: Station) -> None:
    board = TrustBoard()
    now = time.time()
    sid = station.id
    votes = [
        Vote(now - 60 * i, state, f"device-{i}", True, True)
        for i, state in enumerate(("closed", "locked", "closed", "open"))
    ]
    assert all(gc.is_tracked(v) for v in votes)  # a dataclass instance is tracked for life
    assert board.add([(i + 1, sid, v) for i, v in enumerate(votes)], now=now) == 4
    kept = board.votes(sid)
    assert [v.at for v in kept] == sorted(v.at for v in votes)
    assert not gc.is_tracked(kept)
    assert not any(gc.is_tracked(v) for v in kept)
    assert not gc.is_tracked(board._ids[sid])
    confidence = board.confidence(station, True, now)
    assert confidence.level == "doubtful"  # three devices found it shut after the open vote
    entry = board._assessed[sid]
    assert not gc.is_tracked(entry) and not gc.is_tracked(entry[3])
    assert not any(gc.is_tracked(r) for r in confidence.reasons)
    board.members([(station, 12.0, True)], [0], now)
    assert not gc.is_tracked(board._members[sid])
    # A repeat is skipped and a new vote still lands, in time order, after a collection.
    gc.collect()
    late = Vote(now, "closed", "late", True, True)
    assert board.add([(2, sid, votes[1]), (9, sid, late)], now=now) == 1
    assert board.votes(sid)[-1].device == "late"
    # Pruning forgets the ids of the votes that left the window, not only the votes.
    fresh = Vote(now + 4 * 86400, "open", "next-week", True, True)
    board.add([(10, sid, fresh)], now=fresh.at)  # the older votes leave the window here
    assert board.votes(sid) == (fresh,)
    board.prune(fresh.at)
    assert board.votes(sid) == (fresh,)
    assert set(board._ids[sid]) == {10} and not gc.is_tracked(board._ids[sid])
    board.prune(now + 10 * 86400)
    assert board.votes(sid) == ()
    assert sid not in board._ids


def test_an_edited_station_gets_its_own_default_members_within_the_minute(
    station: Station,
) -> None:
    """The members a splice takes are kept per assessment; a station edited meanwhile (a new
    object, hours cleared) is assessed anew and paired with its own defaults at once."""
    from dataclasses import replace

    from stations.trust.board import default_json

    board = TrustBoard()
    now = time.time()
    board.add([(1, station.id, Vote(now - 60, "open", "d1", True, True))], now=now)
    first = board.members([(station, 5.0, True)], [0], now)[0]
    assert first is not None and first[1] == default_json(station)
    assert board.members([(station, 5.0, True)], [0], now)[0] is first  # kept, not rebuilt
    edited = replace(station, data=replace(station.data, opening_hours=""), version=2)
    assert default_json(edited) != default_json(station)
    second = board.members([(edited, 5.0, True)], [0], now)[0]
    assert second is not None and second[1] == default_json(edited)
