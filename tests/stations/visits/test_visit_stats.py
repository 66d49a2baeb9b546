"""Statistics by station, district, host type, worker type and hour; days, weeks, months."""

from __future__ import annotations

from datetime import UTC, date, datetime

from stations.store.visit_stats import VisitStats
from tests.stations.visits.visit_kit import stations_with_visits


def at(day: int, hour_utc: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour_utc, tzinfo=UTC)


def seeded(store):
    visits, ids = stations_with_visits(store, 3)
    codes = visits.codes()
    # Mon 2 Nov, Sun 8 Nov (same ISO week), Mon 9 Nov (next week), 1 Dec.
    plan = [
        (ids[0], at(2, 1), "delivery"),
        (ids[0], at(8, 2), "courier"),
        (ids[1], at(9, 3), "delivery"),
        (ids[2], at(1, 1, 12), "sanitation"),
    ]
    for n, (sid, when, worker) in enumerate(plan):
        visits.check_in(codes[sid], f"device-{n:04d}", worker, at=when)
    visits.set_tallies([(ids[1], date(2026, 11, 9), 5)], actor="clerk")
    return VisitStats(store.engine), ids


def test_by_station_and_week(store) -> None:
    stats, ids = seeded(store)
    rows = stats.visits("station", "week", date(2026, 11, 1), date(2026, 12, 31))
    got = {(r.key, str(r.period), r.scans, r.tallied) for r in rows}
    assert got == {
        (str(ids[0]), "2026-11-02", 2, 0),
        (str(ids[1]), "2026-11-09", 1, 5),
        (str(ids[2]), "2026-11-30", 1, 0),
    }
    assert rows[0].label == "驿站1"


def test_by_district_month_and_host_type(store) -> None:
    stats, _ids = seeded(store)
    by_district = stats.visits("district", "month", date(2026, 11, 1), date(2027, 1, 1))
    assert {(r.label, str(r.period), r.visits) for r in by_district} == {
        ("亦庄镇", "2026-11-01", 2),
        ("旧宫镇", "2026-11-01", 6),
        ("亦庄镇", "2026-12-01", 1),
    }
    by_host = stats.visits("host_type", "all", date(2026, 11, 1), date(2027, 1, 1))
    assert {(r.key, r.label, r.visits) for r in by_host} == {
        ("bank", "银行网点", 2),
        ("express_depot", "快递网点", 7),
    }


def test_by_worker_type_and_hour_add_up(store) -> None:
    stats, _ids = seeded(store)
    span = (date(2026, 11, 1), date(2027, 1, 1))
    workers = stats.visits("worker_type", "all", *span)
    assert {(r.key, r.visits) for r in workers} == {
        ("delivery", 2),
        ("courier", 1),
        ("sanitation", 1),
        ("hand_tally", 5),
    }
    hours = stats.visits("hour", "all", *span)
    assert [(r.key, r.scans) for r in hours] == [("9", 2), ("10", 1), ("11", 1)]
    total = sum(r.visits for r in stats.visits("station", "all", *span))
    assert total == sum(r.visits for r in workers) == 9


def test_dashboard_lists_busiest_and_idle(store) -> None:
    stats, ids = seeded(store)
    board = stats.dashboard(date(2026, 11, 30), days=30)
    assert board.start == date(2026, 11, 1) and len(board.daily) == 30
    assert sum(s + t for _d, s, t in board.daily) == 8
    assert [b[0] for b in board.busiest] == [ids[1], ids[0]]
    assert board.idle_count == 1 and board.idle[0][0] == ids[2]
    assert board.by_worker["hand_tally"] == 5 and board.by_hour[9] == 1 and board.by_hour[10] == 1
