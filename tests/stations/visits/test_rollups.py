"""The roll-ups the reports read are kept in step by every check-in and tally change, and the
migrations that introduced them (0012, and 0015's row per station and month) fill them to
exactly what the writes would have made."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from alembic import command
from alembic.config import Config
from sqlalchemy import select

from stations.store.engine import _MIGRATIONS, WRITE
from stations.store.visit_stats import VisitStats
from stations.store.visit_tables import (
    visit_area_daily_table,
    visit_station_last_table,
    visit_station_month_table,
)
from tests.stations.visits.visit_kit import stations_with_visits

KEYS_AND_TOTAL = ("station_id", "month", "total")
ROLLUPS = (visit_station_month_table, visit_area_daily_table, visit_station_last_table)


def _contents(engine) -> dict[str, set[tuple]]:
    with engine.connect() as conn:
        return {
            t.name: {
                tuple(str(v) for v in row)
                for row in conn.execute(select(t))
                if row._mapping.get("count", row._mapping.get("total")) != 0
            }
            for t in ROLLUPS
        }


def _busy_month(store):
    visits, ids = stations_with_visits(store, 3)
    codes = visits.codes()
    t = datetime(2026, 11, 9, 1, tzinfo=UTC)  # 09:00 in Beijing
    for n, (sid, worker) in enumerate(
        [(ids[0], "delivery"), (ids[0], "courier"), (ids[1], None), (ids[2], "sanitation")]
    ):
        visits.check_in(codes[sid], f"device-{n:04d}", worker, at=t + timedelta(hours=n))
    visits.check_in(codes[ids[0]], "device-0000", "delivery", at=t + timedelta(minutes=5))
    visits.check_in(codes[ids[1]], "device-9", "other", at=datetime(2026, 12, 1, tzinfo=UTC))
    visits.set_tallies([(ids[0], date(2026, 11, 2), 10), (ids[2], date(2026, 11, 3), 6)], actor="c")
    visits.set_tallies([(ids[0], date(2026, 11, 2), 4)], actor="c")  # corrected: replaces
    visits.set_tallies([(ids[2], date(2026, 11, 3), 0)], actor="c")  # and back to nothing
    return visits, ids


def test_rollups_follow_check_ins_and_tally_corrections(store) -> None:
    _visits, ids = _busy_month(store)
    with store.engine.connect() as conn:
        monthly = {
            (r.station_id, str(r.month)[:10]): r._mapping
            for r in conn.execute(select(visit_station_month_table))
        }
        last = dict(conn.execute(select(visit_station_last_table)).all())
    first = monthly[(ids[0], "2026-11-01")]
    assert first["hand_tally"] == 4  # 10, then corrected to 4
    assert first["delivery"] == 1  # the repeat within 2 h: once
    assert (first["courier"], first["total"]) == (1, 6)
    assert monthly[(ids[1], "2026-11-01")]["unspecified"] == 1
    assert monthly[(ids[1], "2026-12-01")]["other"] == 1
    # 6 tallied, then lowered to 0: the column is back to nothing, the scan still counts
    third = monthly[(ids[2], "2026-11-01")]
    assert (third["hand_tally"], third["sanitation"], third["total"]) == (0, 1, 1)
    assert sum(r["total"] for (_s, m), r in monthly.items() if m == "2026-11-01") == 4 + 4
    for row in monthly.values():  # the total is its columns' sum
        assert row["total"] == sum(v for k, v in row.items() if k not in KEYS_AND_TOTAL)
    # the zeroed tally no longer counts as a visit day; the scan of 9 Nov does
    assert str(last[ids[2]])[:10] == "2026-11-09"
    stats = VisitStats(store.engine)
    board = stats.dashboard(date(2026, 11, 30), days=30)
    assert sum(s + t for _d, s, t in board.daily) == 8
    assert board.by_worker["hand_tally"] == 4 and board.by_hour[9] == 1
    assert [b[0] for b in board.busiest] == [ids[0], ids[1], ids[2]]
    assert board.busiest[0][2] == 6
    rows = stats.monthly(date(2026, 11, 1), date(2026, 12, 1))
    assert [(r.station_id, r.scans, r.tallied) for r in rows] == [
        (ids[0], 2, 4),
        (ids[1], 1, 0),
        (ids[2], 1, 0),
    ]


def test_migration_0012_fills_the_rollups_as_the_writes_did(store) -> None:
    _busy_month(store)
    written = _contents(store.engine)
    assert all(written.values())
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with store.engine.connect().execution_options(**WRITE) as conn, conn.begin():
        config.attributes["connection"] = conn
        command.downgrade(config, "0010")  # drops the roll-ups
        command.upgrade(config, "head")  # makes them again from visit_daily and the tallies
    assert _contents(store.engine) == written


def test_migration_0015_fills_the_station_months_as_the_writes_did(store) -> None:
    _busy_month(store)
    written = _contents(store.engine)
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with store.engine.connect().execution_options(**WRITE) as conn, conn.begin():
        config.attributes["connection"] = conn
        command.downgrade(config, "0014")  # back to visit_monthly, made from the wide rows
        command.upgrade(config, "0015")  # and the wide rows again from visit_monthly
    assert _contents(store.engine) == written


def test_busiest_reads_down_the_month_lists_until_nobody_unread_can_overtake(store) -> None:
    """October's biggest totals lie before the window, and the window's busiest station is
    below them in October's list: only growing the lists finds it."""
    visits, ids = stations_with_visits(store, 27)
    visits.set_tallies([(sid, date(2026, 10, 2), 3) for sid in ids[:25]], actor="c")
    visits.set_tallies([(ids[25], date(2026, 10, 20), 2)], actor="c")  # in the window
    visits.set_tallies([(ids[26], date(2026, 11, 5), 1)], actor="c")
    stats = VisitStats(store.engine)
    board = stats.dashboard(date(2026, 11, 13), days=30, top=1)
    assert [(sid, n) for sid, _name, n in board.busiest] == [(ids[25], 2)]
    board = stats.dashboard(date(2026, 11, 13), days=30, top=3)
    assert [(sid, n) for sid, _name, n in board.busiest] == [(ids[25], 2), (ids[26], 1)]


def test_idle_stations_from_the_last_day_index_match_the_anti_join(store) -> None:
    """The network's idle count and list (never visited, lapsed, or visited only after the
    window) against the plain anti-join of every station with its last visit day."""
    visits, ids = stations_with_visits(store, 10)
    codes = visits.codes()

    def scan(i: int, day: date, device: str = "d") -> None:
        at = datetime(day.year, day.month, day.day, 4, tzinfo=UTC)
        visits.check_in(codes[ids[i]], f"device-{i}-{device}", at=at)

    scan(0, date(2026, 11, 10))  # active
    scan(2, date(2026, 10, 5))  # lapsed: idle
    scan(3, date(2026, 12, 5))  # only after the window: idle
    scan(4, date(2026, 11, 12))  # inside and after: active
    scan(4, date(2026, 12, 5), "later")
    visits.set_tallies([(ids[5], date(2026, 11, 3), 4)], actor="t")  # a tally alone: active
    scan(6, date(2026, 10, 1))  # deleted below: never idle
    scan(8, date(2026, 12, 6))  # after the window, its tally inside lowered to 0: idle
    visits.set_tallies([(ids[8], date(2026, 11, 4), 3)], actor="t")
    visits.set_tallies([(ids[8], date(2026, 11, 4), 0)], actor="t")
    store.delete(ids[6], actor="t")
    store.delete(ids[7], actor="t")  # deleted, never visited
    expected = [ids[1], ids[2], ids[3], ids[8], ids[9]]
    stats = VisitStats(store.engine)
    start, end = date(2026, 11, 1), date(2026, 12, 1)
    with store.engine.connect() as conn:
        for shown in (50, 3):
            fast = stats._idle(conn, start, end, shown)
            plain = stats._idle_plain(conn, start, end, shown)
            assert fast == plain
            assert fast[0] == len(expected) and [i for i, _n, _d in fast[1]] == expected[:shown]
        # a wider window: only the never-visited are idle, by either way
        assert stats._idle(conn, date(2026, 9, 1), date(2027, 1, 1), 50) == (
            stats._idle_plain(conn, date(2026, 9, 1), date(2027, 1, 1), 50)
        )
    board = stats.dashboard(date(2026, 11, 30), days=30)
    assert board.idle_count == len(expected)
