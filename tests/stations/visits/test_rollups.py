"""The roll-ups the reports read are kept in step by every check-in and tally change, and the
migration that introduced them (0012) fills them to exactly what the writes would have made."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from alembic import command
from alembic.config import Config
from sqlalchemy import select

from stations.store.engine import _MIGRATIONS, WRITE
from stations.store.visit_stats import VisitStats
from stations.store.visit_tables import (
    visit_area_daily_table,
    visit_monthly_table,
    visit_station_last_table,
)
from tests.stations.visits.visit_kit import stations_with_visits

ROLLUPS = (visit_monthly_table, visit_area_daily_table, visit_station_last_table)


def _contents(engine) -> dict[str, set[tuple]]:
    with engine.connect() as conn:
        return {
            t.name: {
                tuple(str(v) for v in row)
                for row in conn.execute(select(t))
                if "count" not in row._mapping or row._mapping["count"] != 0
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
            (r.station_id, str(r.month)[:10], r.worker_type): r.count
            for r in conn.execute(select(visit_monthly_table))
        }
        last = dict(conn.execute(select(visit_station_last_table)).all())
    assert monthly[(ids[0], "2026-11-01", "hand_tally")] == 4
    assert monthly[(ids[0], "2026-11-01", "delivery")] == 1  # the repeat within 2 h: once
    assert monthly.get((ids[2], "2026-11-01", "hand_tally"), 0) == 0
    assert sum(n for (s, m, _w), n in monthly.items() if m == "2026-11-01") == 4 + 4
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
