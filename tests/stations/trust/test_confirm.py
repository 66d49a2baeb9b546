"""A tap end to end on both engines: stored, de-duplicated, placed, weighed and queued."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import select

from geodata.crs import from_wgs84
from stations.errors import NotFound, TooManyRequests, ValidationFailed
from stations.search import StationCatalog
from stations.store.confirmations import SqlConfirmationStore
from stations.store.reports import Report, ReportStore, SqlReportStore
from stations.store.schema import confirmations_table
from stations.store.sql import SqlStationStore
from stations.trust.board import TrustBoard
from stations.trust.confirm import AUTO_REPORT_TEXT, TrustService, parse_confirmation
from stations.trust.cursor import HOLE_S
from tests.conftest import make_station

LON, LAT = 116.5068, 39.7954


@pytest.fixture
def trust(store: SqlStationStore) -> TrustService:
    store.create(make_station(opening_hours="24/7"), actor="t")
    catalog = StationCatalog(store)
    return TrustService(
        SqlConfirmationStore.beside(store), catalog, TrustBoard(), SqlReportStore.beside(store)
    )


def at_door(state: str, **kw: object) -> dict[str, object]:
    return {"state": state, "lat": LAT + 0.0003, "lon": LON, **kw}


def test_an_open_tap_confirms_and_the_device_is_only_a_hash(
    trust: TrustService, store: SqlStationStore
) -> None:
    receipt = trust.confirm(1, at_door("open"), "device-0001")
    assert receipt.onsite and 30 < receipt.distance_m < 40
    assert receipt.confidence.level == "confirmed"
    assert receipt.confidence.reasons[0].message_zh == "刚刚有骑手确认开放"
    with store.engine.connect() as conn:
        row = conn.execute(select(confirmations_table)).one()
    assert row.device_hash != "device-0001" and len(row.device_hash) == 32
    assert "device-0001" not in repr(tuple(row))
    assert store.get(1).version == 1  # the station itself is untouched


def test_one_vote_per_device_per_station_per_hour(trust: TrustService) -> None:
    now = time.time()
    trust.confirm(1, at_door("open"), "device-0001", now=now)
    with pytest.raises(TooManyRequests) as err:
        trust.confirm(1, at_door("closed"), "device-0001", now=now + 600)
    assert 2990 <= err.value.extra["retry_after_s"] <= 3001
    trust.confirm(1, at_door("closed"), "device-0002", now=now + 600)  # another device: fine
    trust.confirm(1, at_door("closed"), "device-0001", now=now + 3601)  # an hour later: fine


def test_a_vote_from_5_km_is_remote_and_does_not_confirm(trust: TrustService) -> None:
    receipt = trust.confirm(1, {"state": "open", "lat": LAT + 0.045, "lon": LON}, "device-0001")
    assert not receipt.onsite
    assert 4900 < receipt.distance_m < 5100
    assert receipt.confidence.level == "scheduled"


def test_the_position_is_read_in_the_page_crs(trust: TrustService) -> None:
    x, y = from_wgs84(LON, LAT, "gcj02")  # ~500 m away in WGS-84 terms, right here in GCJ-02
    receipt = trust.confirm(1, {"state": "open", "lat": y, "lon": x, "crs": "gcj02"}, "dev-gcj-01")
    assert receipt.onsite and receipt.distance_m < 1
    wrong = trust.confirm(1, {"state": "open", "lat": y, "lon": x}, "dev-wgs-001")
    assert not wrong.onsite and wrong.distance_m > 100


def test_three_closed_devices_queue_one_report_for_staff(
    trust: TrustService, store: SqlStationStore
) -> None:
    reports = SqlReportStore.beside(store)
    for i, state in enumerate(["closed", "locked"]):
        assert not trust.confirm(1, at_door(state), f"device-000{i}").queued
    assert reports.list()[1] == 0
    third = trust.confirm(1, at_door("closed"), "device-0009")
    assert third.queued and third.confidence.level == "doubtful"
    page, total = reports.list(status="pending")
    assert total == 1 and page[0].kind == "closed" and page[0].text == AUTO_REPORT_TEXT
    assert store.get(1).data.status == "open"  # queued for a human, never applied
    trust.confirm(1, at_door("closed"), "device-0010")
    page, total = reports.list(status="pending")
    assert total == 1 and page[0].count == 2  # one row, counted


class _QueueElsewhere(ReportStore):
    """The review queue behind another store: votes cannot file reports in their own
    transaction, so the service files each after its vote (the path any queue can take)."""

    def __init__(self, inner: SqlReportStore) -> None:
        self.inner = inner

    def submit(self, station_id: int, kind: str, text: str = "") -> Report:
        return self.inner.submit(station_id, kind, text)

    def get(self, report_id: int) -> Report:
        return self.inner.get(report_id)

    def list(self, **kw: Any) -> tuple[list[Report], int]:
        return self.inner.list(**kw)

    def accept(self, report_id: int, *, reviewer: str, stations: Any) -> Report:
        return self.inner.accept(report_id, reviewer=reviewer, stations=stations)

    def dismiss(self, report_id: int, *, reviewer: str) -> Report:
        return self.inner.dismiss(report_id, reviewer=reviewer)


def test_reports_filed_in_the_votes_transaction_as_after_each_vote(
    store: SqlStationStore, tmp_path: Any
) -> None:
    """The same taps through a service whose votes file their reports in their own
    transaction and through one that files each after its vote: the same receipts and the
    same review queue (rows and counts), on each engine."""
    from tests.conftest import fresh_database

    engine = store.engine.dialect.name
    now = time.time()
    taps = [
        (1, "closed", 0, 0.0),
        (1, "locked", 1, 0.0),
        (2, "closed", 1, 0.0),
        (1, "closed", 2, 0.0),  # the third device: queued
        (1, "closed", 3, 0.0),  # counted on the same row
        (1, "open", 4, 0.0),
        (1, "closed", 5, 0.0),  # after an open on site: not queued
        (2, "locked", 2, 5000.0),  # remote
        (2, "closed", 3, 0.0),
        (2, "broken", 4, 0.0),
        (2, "locked", 5, 0.0),  # devices 1, 3, 5 on site: queued
    ]
    seen = []
    for in_transaction in (True, False):
        with fresh_database(engine, tmp_path) as url:
            s = SqlStationStore(url)
            s.create(make_station(opening_hours="24/7"), actor="t")
            s.create(make_station(opening_hours="24/7", lon=LON + 0.01), actor="t")
            queue = SqlReportStore.beside(s)
            service = TrustService(
                SqlConfirmationStore.beside(s),
                StationCatalog(s),
                TrustBoard(),
                queue if in_transaction else _QueueElsewhere(queue),
            )
            assert (service._report is not None) is in_transaction
            receipts = []
            for n, (sid, state, device, off) in enumerate(taps):
                lon = LON + (0.01 if sid == 2 else 0.0)
                body = {"state": state, "lat": LAT + 0.0003 + off / 111_000, "lon": lon}
                r = service.confirm(sid, body, f"device-{device:04d}", now=now + n)
                receipts.append(r._replace(id=0))
            rows = [(r.station_id, r.kind, r.text, r.status, r.count) for r in queue.list()[0]]
            seen.append((receipts, rows))
            service.confirmations.close()
            s.close()
    assert seen[0] == seen[1]
    receipts, rows = seen[0]
    assert [r.queued for r in receipts] == [False] * 3 + [True] * 2 + [False] * 5 + [True]
    assert rows == [(1, "closed", AUTO_REPORT_TEXT, "pending", 2),
                    (2, "closed", AUTO_REPORT_TEXT, "pending", 1)]  # fmt: skip


def test_another_process_sees_the_vote_after_a_refresh(
    trust: TrustService, store: SqlStationStore
) -> None:
    other = TrustService(trust.confirmations, StationCatalog(store), TrustBoard())
    other.load()
    trust.confirm(1, at_door("open"), "device-0001")
    station = other.catalog.get(1)
    assert other.board.confidence(station, True).level == "scheduled"
    assert other.refresh() == 1
    assert other.refresh() == 0  # each vote once, however often it is pulled
    assert other.board.confidence(station, True).level == "confirmed"


def test_a_receipt_weighs_the_votes_another_process_stored_before_any_refresh(
    trust: TrustService, store: SqlStationStore
) -> None:
    """The vote's own transaction reads back the station's votes this process has not
    applied (its own earlier ones it has): two 关着 from another process, not yet pulled,
    and a third here make the receipt doubtful, each vote on the board once."""
    trust.confirm(1, at_door("open"), "device-0001", now=time.time() - 7200)
    other = TrustService(trust.confirmations, StationCatalog(store), TrustBoard())
    other.load()
    for device in ("device-0002", "device-0003"):
        other.confirm(1, at_door("closed"), device)
    receipt = trust.confirm(1, at_door("locked"), "device-0004")
    assert receipt.confidence.level == "doubtful"
    assert len({v.device for v in trust.board.votes(1)}) == len(trust.board.votes(1)) == 4
    assert trust.refresh() == 0  # nothing left to pull: the vote brought the other two


def _two_services(store: SqlStationStore) -> tuple[TrustService, TrustService]:
    """Two processes' services on one store with stations 1 and 2, boards loaded."""
    store.create(make_station(opening_hours="24/7"), actor="t")
    store.create(make_station(opening_hours="24/7", lon=LON + 0.001), actor="t")
    votes = SqlConfirmationStore.beside(store)
    here, there = (TrustService(votes, StationCatalog(store), TrustBoard()) for _ in "ab")
    here.load()
    there.load()
    return here, there


def test_a_vote_reads_back_what_its_board_still_awaits(store: SqlStationStore) -> None:
    """Another process's vote below this board's highest id, not pulled yet (a hole), comes
    back with this process's next vote on that station."""
    here, there = _two_services(store)
    there.confirm(1, at_door("open"), "device-0001")
    here.confirm(2, {**at_door("open"), "lon": LON + 0.001}, "device-0002")
    assert here.board.votes(1) == ()  # its id is below the board's highest: awaited
    here.confirm(1, at_door("open"), "device-0003")
    assert len(here.board.votes(1)) == 2


def test_a_pull_held_up_past_the_wait_still_reads_the_votes_it_awaited(
    store: SqlStationStore,
) -> None:
    """Holes are given up after the pull that asked for them, not before: a refresher held
    up longer than the wait (the database away, say) still gets the vote."""
    here, there = _two_services(store)
    there.confirm(1, at_door("open"), "device-0001")
    here.confirm(2, {**at_door("open"), "lon": LON + 0.001}, "device-0002")
    assert here.refresh(now=time.time() + 2 * HOLE_S) == 1
    assert len(here.board.votes(1)) == 1


def test_missing_or_deleted_station(trust: TrustService, store: SqlStationStore) -> None:
    with pytest.raises(NotFound):
        trust.confirm(99, at_door("open"), "device-0001")
    store.delete(1, actor="t")
    with pytest.raises(NotFound):  # the catalog still has it; the store refuses
        trust.confirm(1, at_door("open"), "device-0001")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"state": "maybe"}, "state"),
        ({"state": "open", "lat": "39.8", "lon": 116.5}, "lat"),
        ({"state": "open", "lat": 39.8}, "lat/lon"),
        ({"state": "open", "lat": 91, "lon": 116.5}, "lat"),
        ({"state": "open", "crs": "utm"}, "crs"),
        ({"state": "open", "amenity": "hot_water"}, "amenity"),
        ({"state": "broken", "amenity": "jacuzzi"}, "amenity"),
        ({"state": "open", "name": "x"}, "name"),
    ],
)
def test_bad_bodies_say_which_field(body: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        parse_confirmation(body)
    assert field in [e.field for e in err.value.errors]
    assert all(e.message_zh for e in err.value.errors)


def test_broken_takes_a_chinese_amenity_label() -> None:
    assert parse_confirmation({"state": "broken", "amenity": "热水"}).amenity == "hot_water"


@pytest.mark.parametrize("device", [None, "", "short", "bad id with spaces!", "x" * 200])
def test_a_device_id_is_required_and_checked(trust: TrustService, device: str | None) -> None:
    with pytest.raises(ValidationFailed) as err:
        trust.confirm(1, at_door("open"), device)
    assert err.value.errors[0].field == "X-Device-Id"


def test_expired_claims_are_pruned_by_the_refresh(
    trust: TrustService, store: SqlStationStore
) -> None:
    """A device's once-an-hour claim is deleted once its hour has passed (by the periodic
    tidy in refresh); the votes stay, and a claim still running is kept and still holds."""
    from stations.store.schema import confirmation_claims_table as claims
    from stations.trust.confirm import PRUNE_EVERY_S

    now = time.time()
    trust.confirm(1, at_door("open"), "device-0001", now=now - 2 * 3600)  # hour long past
    trust.confirm(1, at_door("closed"), "device-0002", now=now - 600)  # 50 minutes left

    def held() -> int:
        with store.engine.connect() as conn:
            return len(conn.execute(select(claims.c.device_hash)).all())

    assert held() == 2
    trust.refresh(now=now)
    assert held() == 1
    with pytest.raises(TooManyRequests):  # the running claim still decides
        trust.confirm(1, at_door("open"), "device-0002", now=now)
    with store.engine.connect() as conn:
        assert len(conn.execute(select(confirmations_table.c.id)).all()) == 2
    trust.confirm(1, at_door("open"), "device-0003", now=now)
    trust.refresh(now=now + 60)  # within PRUNE_EVERY_S: no second tidy yet
    assert held() == 2
    trust.refresh(now=now + PRUNE_EVERY_S + 3601)
    assert held() == 0
