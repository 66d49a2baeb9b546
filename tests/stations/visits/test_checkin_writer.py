"""The check-in writer's fast path on PostgreSQL (one statement per batch on a kept
connection) against the plain reference (``write_checkins``: a statement per table in one
transaction): the same answers, the same rows, roll-ups equal to a recount of the raw rows,
and devices racing between two writers counted once."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from stations.store.group_commit import GroupCommitWriter
from stations.store.sql import SqlStationStore
from stations.store.visit_tables import (
    checkins_table,
    visit_area_daily_table,
    visit_daily_table,
    visit_devices_table,
    visit_station_last_table,
    visit_station_month_table,
)
from stations.store.visit_writer import PendingCheckin, PgCheckinWriter, write_checkins
from tests.conftest import pg_schema, postgres_url
from tests.stations.visits.visit_kit import stations_with_visits

pytestmark = pytest.mark.postgres

ZONE = ZoneInfo("Asia/Shanghai")
WINDOW = timedelta(hours=2)
T0 = datetime(2026, 10, 31, 15, 30, tzinfo=UTC)  # 23:30 on 31 Oct in Beijing
TABLES = (
    visit_devices_table,
    checkins_table,
    visit_daily_table,
    visit_station_month_table,
    visit_area_daily_table,
    visit_station_last_table,
)
PLACES = {0: ("亦庄镇", "bank"), 1: ("旧宫镇", "express_depot"), 2: ("", "other")}


def _item(ids: list[int], n: int, device: str, worker: str, at: datetime) -> PendingCheckin:
    local = at.astimezone(ZONE)
    district, host = PLACES[n]
    return PendingCheckin(ids[n], device, worker, at, local.date(), local.hour, district, host)


def _batches(ids: list[int]) -> list[list[PendingCheckin]]:
    """Several stations, hours, days and a month's turn; a device twice in one batch, again
    within the window in a later batch, and again once the window has passed."""
    m = timedelta(minutes=1)
    return [
        [_item(ids, 0, "a" * 32, "courier", T0)],
        [
            _item(ids, 0, "b" * 32, "delivery", T0 + m),
            _item(ids, 1, "a" * 32, "sanitation", T0 + m),
            _item(ids, 0, "b" * 32, "delivery", T0 + 2 * m),  # same batch: counts once
            _item(ids, 2, "c" * 32, "other", T0 + 40 * m),  # after midnight: November
            _item(ids, 0, "d" * 32, "unspecified", T0 + 41 * m),
        ],
        [
            _item(ids, 0, "a" * 32, "courier", T0 + 60 * m),  # within the window
            _item(ids, 1, "e" * 32, "courier", T0 + 61 * m),
            _item(ids, 1, "e" * 32, "courier", T0 + 62 * m),
        ],
        [
            _item(ids, 0, "a" * 32, "delivery", T0 + 121 * m),  # the window has passed
            _item(ids, 2, "c" * 32, "other", T0 + 130 * m),  # within its window
        ],
    ]


def _rows(store: SqlStationStore) -> dict[str, list[tuple[object, ...]]]:
    with store.engine.connect() as conn:
        return {
            t.name: sorted(
                tuple(str(v) for k, v in r._mapping.items() if k != "id")
                for r in conn.execute(select(t))
            )
            for t in TABLES
        }


def test_one_statement_writes_as_the_plain_path() -> None:
    """Both paths, each on a fresh schema, answer every check-in alike and leave the same
    rows in the devices, raw and roll-up tables; the roll-ups equal a recount of the raw rows.
    """
    answers, contents = [], []
    for fast in (True, False):
        with pg_schema(postgres_url()) as url:
            store = SqlStationStore(url)
            visits, ids = stations_with_visits(store, 3)
            visits.ensure_partitions([T0.date().replace(day=1), datetime(2026, 11, 1).date()])
            writer = PgCheckinWriter(store.write_engine, WINDOW)
            got = []
            for batch in _batches(ids):
                got += writer(batch) if fast else write_checkins(store.write_engine, WINDOW, batch)
            writer.release()
            answers.append(got)
            contents.append(_rows(store))
            if fast:
                _assert_rollups_recount_raw(store, ids)
            visits.close()
            store.close()
    assert answers[0] == answers[1]
    assert [c for c, _ in answers[0]] == [
        True,
        True,
        True,
        False,
        True,
        True,
        False,
        True,
        False,
        True,
        False,
    ]
    assert answers[0][-1][1] == T0 + timedelta(minutes=40)  # refused: when it last counted
    assert contents[0] == contents[1]


def _assert_rollups_recount_raw(store: SqlStationStore, ids: list[int]) -> None:
    place = {ids[n]: PLACES[n] for n in PLACES}
    daily: Counter[tuple[object, ...]] = Counter()
    month: Counter[tuple[object, ...]] = Counter()
    area: Counter[tuple[object, ...]] = Counter()
    last: dict[int, object] = {}
    with store.engine.connect() as conn:
        raw = conn.execute(select(checkins_table.c.station_id, checkins_table.c.at,
                                  checkins_table.c.worker_type)).all()  # fmt: skip
        for sid, at, worker in raw:
            local = at.astimezone(ZONE)
            day = local.date()
            daily[(sid, day, local.hour, worker)] += 1
            month[(sid, day.replace(day=1))] += 1
            district, host = place[sid]
            for scope, key in (("network", ""), ("district", district), ("host_type", host),
                               ("hour", f"{local.hour:02d}")):  # fmt: skip
                area[(scope, day, key, worker)] += 1
            last[sid] = max(last.get(sid, day), day)
        d, w, a, s = (visit_daily_table.c, visit_station_month_table.c,
                      visit_area_daily_table.c, visit_station_last_table.c)  # fmt: skip
        assert dict(daily) == {
            tuple(r[:4]): r[4]
            for r in conn.execute(select(d.station_id, d.day, d.hour, d.worker_type, d.count))
        }
        assert dict(month) == {
            (r[0], r[1]): r[2] for r in conn.execute(select(w.station_id, w.month, w.total))
        }
        assert dict(area) == {
            tuple(r[:4]): r[4]
            for r in conn.execute(select(a.scope, a.day, a.area, a.worker_type, a.count))
        }
        assert last == dict(conn.execute(select(s.station_id, s.last_day)).all())
    assert len(raw) == 7


def test_two_writers_racing_count_each_device_once(pg_schema_url: str) -> None:
    """Two group writers (two processes' worth, each its own kept connection) get the same
    taps at once: each device counts once per station, every refusal says a time within the
    window, and the raw rows, the roll-ups and the answers agree."""
    store = SqlStationStore(pg_schema_url)
    visits, ids = stations_with_visits(store, 3)
    visits.ensure_partitions([T0.date().replace(day=1), datetime(2026, 11, 1).date()])
    fast = [PgCheckinWriter(store.write_engine, WINDOW) for _ in range(2)]
    writers = [GroupCommitWriter(f, name=f"w{i}", idle=f.release) for i, f in enumerate(fast)]
    results: list[tuple[bool, datetime]] = []
    barrier = threading.Barrier(32)

    def tap(n: int) -> None:
        item = _item(ids, n % 3, f"{n % 12:032d}", "courier", T0 + timedelta(seconds=n % 5))
        barrier.wait()
        results.append(writers[n % 2].submit(item))

    threads = [threading.Thread(target=tap, args=(n,)) for n in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for w in writers:
        w.close()
    distinct = {(n % 3, n % 12) for n in range(32)}
    assert sum(c for c, _ in results) == len(distinct)
    assert all(T0 <= last <= T0 + timedelta(seconds=4) for c, last in results if not c)
    with store.engine.connect() as conn:
        raw = conn.execute(select(checkins_table.c.station_id)).all()
        total = conn.execute(select(visit_station_month_table.c.total)).scalars().all()
    assert len(raw) == sum(total) == len(distinct)
    visits.close()
    store.close()
