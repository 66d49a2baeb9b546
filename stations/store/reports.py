"""Rider reports: "this station is closed", "no hot water here" — a queue for staff to review.

Riders are anonymous, so nothing they send changes station data by itself: a report waits
as ``pending`` until an editor accepts or dismisses it. Accepting a ``closed`` report marks
the station temporarily closed through the ordinary store update, so the change appears in
the station's history under the reviewer's name like any other edit. Identical pending
reports (same station, kind and text) are counted on one row rather than piling up, which
also tells the reviewer how many riders saw the same thing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from stations.errors import Conflict, FieldError, NotFound, ValidationFailed
from stations.i18n import Message
from stations.orgs.scope import guard, scope_for
from stations.store.base import StationStore
from stations.store.repository import Repository
from stations.store.schema import reports_table, stations_table, storable_id

__all__ = [
    "REPORT_KINDS",
    "REPORT_STATUSES",
    "REPORT_TEXT_LIMIT",
    "Report",
    "ReportStore",
    "SqlReportStore",
    "count_report",
    "validate_report",
]

#: Report kind → Chinese label (what the embed page offers a rider).
REPORT_KINDS: Mapping[str, str] = {
    "closed": "驿站已关闭",
    "amenity_missing": "设施缺失或损坏",
    "moved": "位置有误或已搬迁",
    "other": "其他问题",
}
#: Review status → Chinese label.
REPORT_STATUSES: Mapping[str, str] = {
    "pending": "待处理",
    "accepted": "已采纳",
    "dismissed": "已驳回",
}
REPORT_TEXT_LIMIT = 500


def validate_report(kind: Any, text: Any) -> tuple[str, str]:
    """Check a rider's report, returning ``(kind, text)`` or raising ``ValidationFailed``.

    Text is optional and length-limited; control characters other than line breaks and tabs
    are refused (PostgreSQL cannot store NUL, and nothing legitimate needs them).
    """
    errors: list[FieldError] = []
    if kind not in REPORT_KINDS:
        errors.append(
            FieldError.from_catalog(
                "kind",
                "must be a report kind: {valid}",
                str(kind)[:40],
                valid=", ".join(REPORT_KINDS),
            )
        )
    if text is None:
        text = ""
    if not isinstance(text, str):
        errors.append(FieldError.from_catalog("text", "must be text"))
        text = ""
    clean = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(clean) > REPORT_TEXT_LIMIT:
        errors.append(
            FieldError.from_catalog(
                "text",
                "longer than {limit} characters ({length})",
                limit=REPORT_TEXT_LIMIT,
                length=len(clean),
            )
        )
    if any(ord(ch) < 32 and ch not in "\n\t" or ch == "\x7f" for ch in clean):
        errors.append(FieldError.from_catalog("text", "contains control characters (e.g. NUL)"))
    if errors:
        raise ValidationFailed(errors)
    return str(kind), clean


@dataclass(frozen=True)
class Report:
    """One report (or several identical ones: ``count``) and its review."""

    id: int
    station_id: int
    kind: str
    text: str
    status: str
    count: int
    created_at: datetime
    last_seen_at: datetime
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None
    #: The station's version after an accepted report changed it (None: nothing changed).
    station_version: int | None = None


class ReportStore(ABC):
    """The review queue of rider reports."""

    @abstractmethod
    def submit(self, station_id: int, kind: str, text: str = "") -> Report:
        """Record a report on a live station (``NotFound`` otherwise)."""

    @abstractmethod
    def get(self, report_id: int) -> Report: ...

    @abstractmethod
    def list(
        self,
        *,
        status: str | None = None,
        station_id: int | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[Report], int]:
        """A page of reports, oldest first, and how many match."""

    @abstractmethod
    def accept(self, report_id: int, *, reviewer: str, stations: StationStore) -> Report:
        """Accept a pending report; a ``closed`` one marks an open station temporarily
        closed (through ``stations.update``, recorded with ``reviewer`` as the actor).
        """

    @abstractmethod
    def dismiss(self, report_id: int, *, reviewer: str) -> Report:
        """Dismiss a pending report; the station is left as it is."""


_R = reports_table


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _report(row: Any) -> Report:
    m = row._mapping
    return Report(
        id=m["id"],
        station_id=m["station_id"],
        kind=m["kind"],
        text=m["text"],
        status=m["status"],
        count=m["count"],
        created_at=_utc(m["created_at"]),
        last_seen_at=_utc(m["last_seen_at"]),
        reviewed_by=m["reviewed_by"],
        reviewed_at=_utc(m["reviewed_at"]) if m["reviewed_at"] is not None else None,
        station_version=m["station_version"],
    )


def count_report(conn: Connection, station_id: int, kind: str, text: str, now: datetime) -> int:
    """Count a checked report on a live station in ``conn``'s transaction; the row's id.

    An identical pending report (same station, kind and text; the oldest if several) counts
    one more and was last seen ``now``; otherwise a new pending row. The queue's one rule,
    shared by a rider's report and the report rule 4 files in the vote's own transaction.
    """
    same = conn.execute(
        select(_R.c.id)
        .where(
            _R.c.station_id == station_id,
            _R.c.kind == kind,
            _R.c.text == text,
            _R.c.status == "pending",
        )
        .order_by(_R.c.id)
        .limit(1)
    ).first()
    if same is not None:
        conn.execute(
            update(_R).where(_R.c.id == same.id).values(count=_R.c.count + 1, last_seen_at=now)
        )
        return int(same.id)
    return int(
        conn.execute(
            insert(_R)
            .values(
                station_id=station_id,
                kind=kind,
                text=text,
                status="pending",
                count=1,
                created_at=now,
                last_seen_at=now,
            )
            .returning(_R.c.id)
        ).scalar_one()
    )


class SqlReportStore(Repository, ReportStore):
    """Reports in the stations' database (they reference the stations table)."""

    def submit(self, station_id: int, kind: str, text: str = "") -> Report:
        kind, text = validate_report(kind, text)
        now = datetime.now(UTC)
        t = stations_table
        with self._write() as conn, conn.begin():
            live = None
            if storable_id(station_id):
                live = conn.execute(
                    select(t.c.id).where(t.c.id == station_id, t.c.deleted_at.is_(None))
                ).first()
            if live is None:
                raise NotFound(Message("station {id} not found", id=station_id))
            report_id = count_report(conn, station_id, kind, text, now)
            return _report(conn.execute(select(_R).where(_R.c.id == report_id)).one())

    def get(self, report_id: int) -> Report:
        row = None
        if storable_id(report_id):
            with self.engine.connect() as conn:
                row = conn.execute(select(_R).where(_R.c.id == report_id)).first()
        if row is None:
            raise NotFound(Message("report {id} not found", id=report_id))
        return _report(row)

    def list(
        self,
        *,
        status: str | None = None,
        station_id: int | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[Report], int]:
        if status is not None and status not in REPORT_STATUSES:
            raise ValidationFailed(
                [
                    FieldError.from_catalog(
                        "status",
                        "must be a report status: {valid}",
                        status,
                        valid=", ".join(REPORT_STATUSES),
                    )
                ]
            )
        conditions = []
        if status is not None:
            conditions.append(_R.c.status == status)
        if station_id is not None:
            if not storable_id(station_id):  # no station has it, so no report names it
                return [], 0
            conditions.append(_R.c.station_id == station_id)
        query = select(_R).where(*conditions).order_by(_R.c.id).limit(limit).offset(offset)
        count = select(func.count()).select_from(_R).where(*conditions)
        with self.engine.connect() as conn:
            rows = [_report(r) for r in conn.execute(query)]
            total = int(conn.execute(count).scalar_one())
        return rows, total

    def _review(
        self, report: Report, status: str, reviewer: str, station_version: int | None
    ) -> Report:
        with self._write() as conn, conn.begin():
            result = conn.execute(
                update(_R)
                .where(_R.c.id == report.id, _R.c.status == "pending")
                .values(
                    status=status,
                    reviewed_by=reviewer,
                    reviewed_at=datetime.now(UTC),
                    station_version=station_version,
                )
            )
            if result.rowcount != 1:
                raise Conflict(
                    Message("report {id} was reviewed by someone else meanwhile", id=report.id)
                )
            return _report(conn.execute(select(_R).where(_R.c.id == report.id)).one())

    def _pending(self, report_id: int) -> Report:
        report = self.get(report_id)
        if report.status != "pending":
            raise Conflict(
                Message(
                    "report {id} is already {status} (by {who})",
                    id=report_id,
                    status=report.status,
                    who=report.reviewed_by,
                ),
                status_now=report.status,
            )
        return report

    def accept(self, report_id: int, *, reviewer: str, stations: StationStore) -> Report:
        report = self._pending(report_id)
        stations.authorise(report.station_id, actor=reviewer)  # the reviewer's scope
        version: int | None = None
        if report.kind == "closed":
            try:
                station = stations.get(report.station_id)
            except NotFound:  # deleted since: nothing left to close
                station = None
            if station is not None and station.data.status == "open":
                # expected_version: a concurrent edit (say, to "closed") is not overwritten.
                station = stations.update(
                    station.id,
                    {"status": "temporarily_closed"},
                    actor=reviewer,
                    expected_version=station.version,
                )
                version = station.version
        return self._review(report, "accepted", reviewer, version)

    def dismiss(self, report_id: int, *, reviewer: str) -> Report:
        report = self._pending(report_id)
        with self.engine.connect() as conn:  # the reviewer's organisation scope
            org_id = conn.execute(
                select(stations_table.c.org_id).where(stations_table.c.id == report.station_id)
            ).scalar_one_or_none()
            if org_id is not None:
                guard(conn, scope_for(conn, reviewer), org_id, station=report.station_id)
        return self._review(report, "dismissed", reviewer, None)
