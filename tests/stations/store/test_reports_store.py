"""Rider reports on both engines: validation, de-duplication and review."""

from __future__ import annotations

import pytest

from stations.errors import Conflict, NotFound, ValidationFailed
from stations.store.reports import REPORT_TEXT_LIMIT, SqlReportStore
from stations.store.sql import SqlStationStore
from tests.conftest import make_station


@pytest.fixture
def reports(store: SqlStationStore) -> SqlReportStore:
    return SqlReportStore.beside(store)


def test_submit_and_list(store: SqlStationStore, reports: SqlReportStore) -> None:
    a = store.create(make_station(), actor="t")
    b = store.create(make_station(external_id="B"), actor="t")
    first = reports.submit(a.id, "closed", "  门锁着 \r\n")
    assert (first.status, first.count, first.text) == ("pending", 1, "门锁着")
    reports.submit(b.id, "amenity_missing", "没有热水")
    reports.submit(a.id, "other")
    page, total = reports.list(status="pending")
    assert total == 3 and [r.station_id for r in page] == [a.id, b.id, a.id]
    page, total = reports.list(station_id=b.id)
    assert total == 1 and page[0].kind == "amenity_missing"
    page, total = reports.list(limit=1, offset=1)
    assert total == 3 and len(page) == 1 and page[0].station_id == b.id
    assert reports.list(status="accepted") == ([], 0)


def test_identical_pending_reports_are_counted_not_repeated(
    store: SqlStationStore, reports: SqlReportStore
) -> None:
    s = store.create(make_station(), actor="t")
    first = reports.submit(s.id, "closed")
    again = reports.submit(s.id, "closed")
    assert again.id == first.id and again.count == 2
    assert reports.submit(s.id, "closed", "今天没开门").id != first.id


def test_reports_on_missing_or_deleted_stations_are_refused(
    store: SqlStationStore, reports: SqlReportStore
) -> None:
    s = store.create(make_station(), actor="t")
    store.delete(s.id, actor="t")
    for station_id in (s.id, 999, 2**62):  # 2**62: beyond PostgreSQL's integer, still a 404
        with pytest.raises(NotFound):
            reports.submit(station_id, "closed")
    with pytest.raises(NotFound):
        reports.get(2**62)
    assert reports.list(station_id=2**62) == ([], 0)


_BAD_REPORTS: list[tuple[str, object, str]] = [
    ("gone", "", "kind"),
    ("closed", "x" * (REPORT_TEXT_LIMIT + 1), "text"),
    ("closed", "bad\x00byte", "text"),
    ("closed", 42, "text"),
]


def test_bad_reports_are_refused(store: SqlStationStore, reports: SqlReportStore) -> None:
    s = store.create(make_station(), actor="t")
    for kind, text, field in _BAD_REPORTS:
        with pytest.raises(ValidationFailed) as info:
            reports.submit(s.id, kind, text)  # type: ignore[arg-type]
        assert [e.field for e in info.value.errors] == [field]
        assert info.value.errors[0].message_zh
    assert reports.list() == ([], 0)


def test_accepting_closed_report_closes_station_in_history(
    store: SqlStationStore, reports: SqlReportStore
) -> None:
    s = store.create(make_station(), actor="t")
    report = reports.submit(s.id, "closed", "关门了")
    assert store.get(s.id).version == 1  # a report alone changes nothing
    accepted = reports.accept(report.id, reviewer="王芳", stations=store)
    station = store.get(s.id)
    assert station.data.status == "temporarily_closed" and station.version == 2
    assert accepted.status == "accepted" and accepted.reviewed_by == "王芳"
    assert accepted.station_version == 2
    last = store.history(s.id)[-1]
    assert (last.action, last.actor, last.after["status"]) == (
        "update",
        "王芳",
        "temporarily_closed",
    )
    with pytest.raises(Conflict):
        reports.accept(report.id, reviewer="李雷", stations=store)
    with pytest.raises(Conflict):
        reports.dismiss(report.id, reviewer="李雷")


def test_accepting_never_reopens_or_touches_other_kinds(
    store: SqlStationStore, reports: SqlReportStore
) -> None:
    closed = store.create(make_station(status="closed"), actor="t")
    other = store.create(make_station(external_id="B"), actor="t")
    r1 = reports.accept(reports.submit(closed.id, "closed").id, reviewer="e", stations=store)
    r2 = reports.accept(
        reports.submit(other.id, "amenity_missing", "无热水").id, reviewer="e", stations=store
    )
    assert r1.station_version is None and r2.station_version is None
    assert store.get(closed.id).data.status == "closed" and store.get(closed.id).version == 1
    assert store.get(other.id).version == 1


def test_dismissing_keeps_station(store: SqlStationStore, reports: SqlReportStore) -> None:
    s = store.create(make_station(), actor="t")
    dismissed = reports.dismiss(reports.submit(s.id, "closed").id, reviewer="e")
    assert dismissed.status == "dismissed" and dismissed.reviewed_by == "e"
    assert store.get(s.id).data.status == "open" and store.get(s.id).version == 1
    with pytest.raises(NotFound):
        reports.dismiss(12345, reviewer="e")
