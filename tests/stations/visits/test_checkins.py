"""Check-ins: counted once per device per station per window, anonymous, and summed
into the roll-ups that every report reads (so pruning raw rows changes no total)."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import inspect, select

from stations.errors import NotFound, ValidationFailed
from stations.store.visit_stats import VisitStats
from stations.store.visit_tables import visit_daily_table, visit_devices_table
from tests.stations.visits.visit_kit import stations_with_visits

T0 = datetime(2026, 11, 3, 1, 30, tzinfo=UTC)  # 09:30 in Beijing


def test_one_visit_per_device_per_station_per_window(store) -> None:
    visits, ids = stations_with_visits(store, 2, window_h=2)
    codes = visits.codes()
    a, b = codes[ids[0]], codes[ids[1]]
    first = visits.check_in(a, "device-0001", "delivery", at=T0)
    assert first.counted and first.station_id == ids[0]
    again = visits.check_in(a, "device-0001", "delivery", at=T0 + timedelta(minutes=119))
    assert not again.counted
    assert again.next_count_at == T0 + timedelta(hours=2)
    assert visits.check_in(b, "device-0001", "delivery", at=T0 + timedelta(minutes=5)).counted
    assert visits.check_in(a, "device-0002", None, at=T0 + timedelta(minutes=6)).counted
    assert visits.check_in(a, "device-0001", "courier", at=T0 + timedelta(hours=2)).counted
    rows = VisitStats(store.engine).visits("station", "all", date(2026, 11, 1), date(2026, 12, 1))
    assert {(r.key, r.scans) for r in rows} == {(str(ids[0]), 3), (str(ids[1]), 1)}


def test_racing_taps_from_one_device_count_once(store) -> None:
    visits, ids = stations_with_visits(store, 1)
    code = visits.code_for(ids[0])
    results: list[bool] = []
    barrier = threading.Barrier(6)

    def tap() -> None:
        barrier.wait()
        results.append(visits.check_in(code, "same-phone-1", "courier", at=T0).counted)

    threads = [threading.Thread(target=tap) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 5 + [True]


def test_days_and_hours_are_local_time(store) -> None:
    visits, ids = stations_with_visits(store, 1)
    code = visits.code_for(ids[0])
    late = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)  # 00:30 on 1 December in Beijing
    visits.check_in(code, "device-late-1", "sanitation", at=late)
    with store.engine.connect() as conn:
        row = conn.execute(select(visit_daily_table)).one()
    assert (str(row.day), row.hour, row.worker_type, row.count) == (
        "2026-12-01",
        0,
        "sanitation",
        1,
    )


def test_nothing_personal_is_stored(store) -> None:
    visits, ids = stations_with_visits(store, 1)
    visits.check_in(visits.code_for(ids[0]), "my-phone-id-123", "delivery", at=T0)
    names = {
        c["name"]
        for t in ("checkins", "visit_daily", "visit_devices")
        for c in inspect(store.engine).get_columns(t)
    }
    assert not names & {"name", "phone", "lon", "lat", "ip", "device_id", "user_agent"}
    with store.engine.connect() as conn:
        stored = conn.execute(select(visit_devices_table.c.device_hash)).scalar_one()
    assert "my-phone-id-123" not in stored and len(stored) == 32


@pytest.mark.parametrize(
    ("code", "worker", "device", "field"),
    [
        ("12", "delivery", "device-0001", "code"),
        (None, "delivery", "device-0001", "code"),
        ("ABCDEFGH", "pilot", "device-0001", "worker_type"),
        ("ABCDEFGH", "delivery", None, "X-Device-Id"),
        ("ABCDEFGH", "delivery", "short", "X-Device-Id"),
        ("ABCDEFGH", "delivery", "bad id with spaces", "X-Device-Id"),
    ],
)
def test_bad_check_ins_say_which_field(store, code, worker, device, field) -> None:
    visits, _ids = stations_with_visits(store, 1)
    with pytest.raises(ValidationFailed) as caught:
        visits.check_in(code, device, worker)
    assert [e.field for e in caught.value.errors] == [field]
    assert caught.value.errors[0].message_zh


def test_an_unknown_code_is_not_found(store) -> None:
    visits, _ids = stations_with_visits(store, 1)
    with pytest.raises(NotFound):
        visits.check_in("ZZZZZZZZ", "device-0001", "delivery")


def test_pruning_raw_rows_changes_no_total(store) -> None:
    visits, ids = stations_with_visits(store, 2, keep_raw_days=30)
    codes = visits.codes()
    old = datetime(2026, 9, 10, 4, tzinfo=UTC)
    recent = datetime(2026, 11, 20, 4, tzinfo=UTC)
    visits.ensure_partitions([date(2026, 9, 1), date(2026, 11, 1)])
    for i in range(5):
        visits.check_in(codes[ids[0]], f"device-old-{i}", "delivery", at=old)
        visits.check_in(codes[ids[1]], f"device-new-{i}", "courier", at=recent)
    stats = VisitStats(store.engine)
    before = stats.visits("worker_type", "month", date(2026, 1, 1), date(2027, 1, 1))
    assert visits.raw_count() == 10
    pruned = visits.prune(now=datetime(2026, 11, 25, tzinfo=UTC))
    assert pruned["checkins"] == 5
    assert pruned["devices"] == 10
    assert visits.raw_count() == 5
    assert stats.visits("worker_type", "month", date(2026, 1, 1), date(2027, 1, 1)) == before


def test_partitions_take_rows_from_the_default(pg_schema_url) -> None:
    """PostgreSQL only: a month's partition made after its rows arrived moves them in."""
    from sqlalchemy import text

    from stations.store.sql import SqlStationStore

    store = SqlStationStore(pg_schema_url)
    try:
        visits, ids = stations_with_visits(store, 1)
        code = visits.code_for(ids[0])
        visits.check_in(code, "device-0001", "delivery", at=T0)
        assert visits.ensure_partitions([date(2026, 11, 1)]) == ["checkins_p202611"]
        assert visits.ensure_partitions([date(2026, 11, 1)]) == []
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM checkins_p202611")).scalar() == 1
            assert conn.execute(text("SELECT count(*) FROM checkins_default")).scalar() == 0
        assert visits.raw_count() == 1
    finally:
        store.close()


def test_concurrent_check_ins_each_count_once(store) -> None:
    """Many phones at once (on PostgreSQL they share group-committed transactions): each
    counts once, a phone tapping twice counts once, and the roll-up agrees with the raw rows."""
    visits, ids = stations_with_visits(store, 3)
    codes = list(visits.codes().values())
    barrier = threading.Barrier(24)
    results: list[bool] = []

    def tap(n: int) -> None:
        barrier.wait()
        device = f"phone-{n % 20:04d}"  # phones 0-3 tap twice
        station = codes[(n % 20) % 3]
        results.append(visits.check_in(station, device, "delivery", at=T0).counted)

    threads = [threading.Thread(target=tap, args=(n,)) for n in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    expected = 20
    assert results.count(True) == expected == visits.raw_count()
    rows = VisitStats(store.engine).visits("station", "all", date(2026, 11, 1), date(2026, 12, 1))
    assert sum(r.scans for r in rows) == expected
    visits.close()


def test_a_deleted_station_stops_counting(store) -> None:
    visits, ids = stations_with_visits(store, 1)
    code = visits.code_for(ids[0])
    visits.code_cache_s = 0  # every look-up expires at once (in service: after a minute)
    assert visits.check_in(code, "phone-del-0001", "delivery", at=T0).counted
    store.delete(ids[0], actor="test")
    with pytest.raises(NotFound):
        visits.check_in(code, "phone-del-0002", "delivery", at=T0)
