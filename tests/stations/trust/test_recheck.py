"""The written rule joining staff freshness and rider evidence on the re-check worklist."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from stations.search import StationCatalog
from stations.store.sql import SqlStationStore
from stations.trust.board import TrustBoard
from stations.trust.recheck import due_stations, freshness, unsettled_doubt
from stations.trust.rules import Vote
from tests.conftest import make_station


def test_doubt_after_the_last_staff_check_makes_a_fresh_station_due(tmp_path: Path) -> None:
    store = SqlStationStore("sqlite:///" + str(tmp_path / "s.db"))
    station = store.create(make_station(opening_hours="24/7"), actor="t")
    catalog = StationCatalog(store)
    station = catalog.get(station.id)
    now = time.time()
    board = TrustBoard()
    votes = [Vote(now - 3600 + i, "closed", f"phone-{i}", True, True) for i in range(3)]
    board.add([(i + 1, station.id, v) for i, v in enumerate(votes)], now=now)
    doubt = board.confidence(station, True, now)
    assert doubt.level == "doubtful"

    at = datetime.fromtimestamp(now, UTC)
    checked_before = at - timedelta(hours=2)  # staff were there before the riders' votes
    checked_after = at - timedelta(minutes=10)  # … or came after them and found it open
    assert freshness(checked_before, at) == freshness(checked_after, at) == "verified"
    assert unsettled_doubt(doubt, None)
    assert unsettled_doubt(doubt, checked_before)
    assert not unsettled_doubt(doubt, checked_after)
    assert not unsettled_doubt(board.confidence(station, True, now + 4 * 86400), None)

    def reasons(verified_at: datetime | None) -> set[str]:
        [due] = due_stations(
            [station],
            verified={station.id: verified_at},
            doubtful=lambda s: unsettled_doubt(board.confidence(s, True, now), verified_at),
            reported=set(),
            now=at,
        )
        return set(due.reasons)

    assert reasons(checked_before) == {"doubtful", "no_photo"}  # fresh, yet due
    assert reasons(checked_after) == {"no_photo"}  # the check settled the doubt
    assert reasons(None) == {"never_verified", "doubtful", "no_photo"}
    store.close()


def test_the_search_budget_grows_with_the_round_and_loses_little() -> None:
    from geodata.distance import geodesic_m
    from stations.trust.recheck import search_budget_s, visiting_order

    assert search_budget_s(5) < search_budget_s(40) < search_budget_s(300) == 2.0
    rng = np.random.default_rng(7)  # a district's round: 40 stops over E-Town
    stops = [(116.45 + 0.15 * x, 39.72 + 0.12 * y) for x, y in rng.random((40, 2))]

    def km(order: list[int]) -> float:
        p = np.asarray([stops[i] for i in [*order, order[0]]])
        return float(geodesic_m(p[:-1, 0], p[:-1, 1], p[1:, 0], p[1:, 1]).sum()) / 1000

    quick, full = visiting_order(stops), visiting_order(stops, time_limit_s=2.0)
    assert sorted(quick) == list(range(40))
    assert km(quick) <= 1.03 * km(full)  # the shorter search finds (nearly) the same round
