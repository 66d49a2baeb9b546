"""Visit statistics read from the daily roll-ups and the hand tallies.

Every number here is ``scans + tallied``: check-ins counted by the service plus the visits
staff entered by hand. Both tables are keyed by the station's local day, so a day, week
(ISO, Monday first) or month is a ``GROUP BY`` on a date expression, done in SQL on either
engine; raw check-ins are never read, which is why pruning them changes nothing here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Date, Engine, and_, cast, func, literal, select, union_all

from stations.store.schema import stations_table
from stations.store.visit_tables import visit_daily_table, visit_tallies_table
from stations.visits.vocabulary import WORKER_COLUMNS
from stations.vocabulary import HOST_TYPES

__all__ = [
    "GROUPS",
    "PERIODS",
    "Dashboard",
    "MonthlyRow",
    "StatsRow",
    "VisitStats",
]

_S = stations_table
_V = visit_daily_table
_T = visit_tallies_table

#: What ``group=`` may be. worker_type and hour read only scans (tallies have neither;
#: under worker_type they are one more key, ``hand_tally``).
GROUPS = ("station", "district", "host_type", "worker_type", "hour")
PERIODS = ("day", "week", "month", "all")
HAND_TALLY = "hand_tally"
NO_DISTRICT = "未填写区域"


@dataclass(frozen=True)
class StatsRow:
    """Visits of one group in one period (``period`` is its first day; None for ``all``)."""

    key: str
    label: str
    period: date | None
    scans: int
    tallied: int

    @property
    def visits(self) -> int:
        return self.scans + self.tallied


@dataclass(frozen=True)
class MonthlyRow:
    """One station's line in the monthly report: scans by worker type, tallies, total."""

    station_id: int
    name: str
    district: str
    by_worker: dict[str, int]
    tallied: int

    @property
    def scans(self) -> int:
        return sum(self.by_worker.values())

    @property
    def total(self) -> int:
        return self.scans + self.tallied


@dataclass
class Dashboard:
    """What the console's dashboard draws, for the ``days`` up to and including ``today``."""

    start: date
    end: date  # exclusive
    daily: list[tuple[date, int, int]] = field(default_factory=list)  # day, scans, tallied
    by_worker: dict[str, int] = field(default_factory=dict)
    by_hour: list[int] = field(default_factory=lambda: [0] * 24)
    busiest: list[tuple[int, str, int]] = field(default_factory=list)  # id, name, visits
    idle_count: int = 0
    idle: list[tuple[int, str, str]] = field(default_factory=list)  # id, name, district


def _as_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


class VisitStats:
    """Read-only statistics over a stations database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _period(self, column: Any, period: str) -> Any:
        if period == "day":
            return column
        if self.engine.dialect.name == "postgresql":
            unit = "week" if period == "week" else "month"
            return cast(func.date_trunc(unit, column), Date)
        if period == "week":  # SQLite: back to Monday ('weekday 0' is the next Sunday)
            return func.date(column, "weekday 0", "-6 days")
        return func.date(column, "start of month")

    def visits(self, group: str, period: str, start: date, end: date) -> list[StatsRow]:
        """Visits per ``group`` and ``period`` for local days ``start`` ≤ day < ``end``.

        Callers validate ``group``/``period`` against ``GROUPS``/``PERIODS``.
        """
        if group in ("worker_type", "hour"):
            return self._scan_breakdown(group, period, start, end)
        scans = select(
            _V.c.station_id.label("sid"),
            _V.c.day.label("day"),
            _V.c.count.label("scans"),
            literal(0).label("tallied"),
        ).where(_V.c.day >= start, _V.c.day < end)
        tallies = select(_T.c.station_id, _T.c.day, literal(0), _T.c.count).where(
            _T.c.day >= start, _T.c.day < end
        )
        u = union_all(scans, tallies).subquery()
        keys: list[Any]
        if group == "station":
            keys = [u.c.sid, _S.c.name]
        elif group == "district":
            keys = [_S.c.district]
        else:
            keys = [_S.c.host_type]
        columns = list(keys)
        if period != "all":
            columns.append(self._period(u.c.day, period).label("period"))
        query = (
            select(*columns, func.sum(u.c.scans), func.sum(u.c.tallied))
            .select_from(u.join(_S, _S.c.id == u.c.sid))
            .group_by(*columns)
        )
        rows: list[StatsRow] = []
        with self.engine.connect() as conn:
            for r in conn.execute(query):
                values = list(r)
                tallied, scans = int(values.pop()), int(values.pop())
                when = _as_date(values.pop()) if period != "all" else None
                if group == "station":
                    key, label = str(values[0]), values[1]
                elif group == "district":
                    key, label = values[0], values[0] or NO_DISTRICT
                else:
                    key, label = values[0], HOST_TYPES.get(values[0], values[0])
                rows.append(StatsRow(key, label, when, scans, tallied))
        rows.sort(key=lambda s: (s.period or date.min, -s.visits, s.key))
        return rows

    def _scan_breakdown(self, group: str, period: str, start: date, end: date) -> list[StatsRow]:
        key = _V.c.worker_type if group == "worker_type" else _V.c.hour
        columns = [key]
        if period != "all":
            columns.append(self._period(_V.c.day, period))
        query = (
            select(*columns, func.sum(_V.c.count))
            .where(_V.c.day >= start, _V.c.day < end)
            .group_by(*columns)
        )
        rows: list[StatsRow] = []
        with self.engine.connect() as conn:
            for r in conn.execute(query):
                when = _as_date(r[1]) if period != "all" else None
                k = str(r[0])
                label = WORKER_COLUMNS.get(k, k) if group == "worker_type" else f"{int(k)}时"
                rows.append(StatsRow(k, label, when, int(r[-1]), 0))
            if group == "worker_type":  # hand tallies: one more key, so totals still add up
                tcols = [] if period == "all" else [self._period(_T.c.day, period)]
                tq = select(*tcols, func.sum(_T.c.count)).where(_T.c.day >= start, _T.c.day < end)
                if tcols:
                    tq = tq.group_by(*tcols)
                for r in conn.execute(tq):
                    if r[-1] is None:
                        continue
                    when = _as_date(r[0]) if period != "all" else None
                    rows.append(StatsRow(HAND_TALLY, "手工登记", when, 0, int(r[-1])))
        if group == "hour":
            rows.sort(key=lambda s: (s.period or date.min, int(s.key)))
        else:
            rows.sort(key=lambda s: (s.period or date.min, -s.visits, s.key))
        return rows

    def monthly(self, start: date, end: date) -> list[MonthlyRow]:
        """Every live station (and any deleted one with visits) for ``start`` ≤ day < ``end``,
        by id: the table unions report upward each month.
        """
        by_worker: dict[int, dict[str, int]] = {}
        tallied: dict[int, int] = {}
        with self.engine.connect() as conn:
            scans = (
                select(_V.c.station_id, _V.c.worker_type, func.sum(_V.c.count))
                .where(_V.c.day >= start, _V.c.day < end)
                .group_by(_V.c.station_id, _V.c.worker_type)
            )
            for sid, worker, n in conn.execute(scans):
                by_worker.setdefault(sid, {})[worker] = int(n)
            tq = (
                select(_T.c.station_id, func.sum(_T.c.count))
                .where(_T.c.day >= start, _T.c.day < end)
                .group_by(_T.c.station_id)
            )
            tallied = {sid: int(n) for sid, n in conn.execute(tq)}
            counted = set(by_worker) | set(tallied)
            stations = conn.execute(
                select(_S.c.id, _S.c.name, _S.c.district, _S.c.deleted_at).order_by(_S.c.id)
            )
            out = []
            for sid, name, district, deleted_at in stations:
                if deleted_at is not None and sid not in counted:
                    continue
                workers = {k: by_worker.get(sid, {}).get(k, 0) for k in WORKER_COLUMNS}
                out.append(MonthlyRow(sid, name, district, workers, tallied.get(sid, 0)))
        return out

    def dashboard(
        self, today: date, days: int = 30, top: int = 10, idle_shown: int = 50
    ) -> Dashboard:
        """The console's numbers for the ``days`` local days ending with ``today``."""
        start, end = today - timedelta(days=days - 1), today + timedelta(days=1)
        out = Dashboard(start=start, end=end)
        in_range_v = and_(_V.c.day >= start, _V.c.day < end)
        in_range_t = and_(_T.c.day >= start, _T.c.day < end)
        with self.engine.connect() as conn:
            scans = dict(
                (_as_date(d), int(n))
                for d, n in conn.execute(
                    select(_V.c.day, func.sum(_V.c.count)).where(in_range_v).group_by(_V.c.day)
                )
            )
            tallies = dict(
                (_as_date(d), int(n))
                for d, n in conn.execute(
                    select(_T.c.day, func.sum(_T.c.count)).where(in_range_t).group_by(_T.c.day)
                )
            )
            day = start
            while day < end:
                out.daily.append((day, scans.get(day, 0), tallies.get(day, 0)))
                day += timedelta(days=1)
            out.by_worker = {k: 0 for k in WORKER_COLUMNS}
            for worker, n in conn.execute(
                select(_V.c.worker_type, func.sum(_V.c.count))
                .where(in_range_v)
                .group_by(_V.c.worker_type)
            ):
                out.by_worker[worker] = int(n)
            out.by_worker[HAND_TALLY] = sum(tallies.values())
            for hour, n in conn.execute(
                select(_V.c.hour, func.sum(_V.c.count)).where(in_range_v).group_by(_V.c.hour)
            ):
                out.by_hour[int(hour)] = int(n)
            per_station = union_all(
                select(_V.c.station_id.label("sid"), _V.c.count.label("n")).where(in_range_v),
                select(_T.c.station_id, _T.c.count).where(in_range_t),
            ).subquery()
            total = func.sum(per_station.c.n).label("total")
            busiest = (
                select(per_station.c.sid, _S.c.name, total)
                .select_from(per_station.join(_S, _S.c.id == per_station.c.sid))
                .where(_S.c.deleted_at.is_(None))
                .group_by(per_station.c.sid, _S.c.name)
                .order_by(total.desc(), per_station.c.sid)
                .limit(top)
            )
            out.busiest = [(int(s), n, int(t)) for s, n, t in conn.execute(busiest)]
            # NOT EXISTS probes each station's primary-key range (station_id, day, …): an index
            # look-up per station instead of hashing every visit of the window.
            scanned = select(_V.c.station_id).where(_V.c.station_id == _S.c.id, in_range_v)
            tallied = select(_T.c.station_id).where(_T.c.station_id == _S.c.id, in_range_t)
            idle = _S.c.deleted_at.is_(None) & ~scanned.exists() & ~tallied.exists()
            out.idle_count = int(
                conn.execute(select(func.count()).select_from(_S).where(idle)).scalar_one()
            )
            out.idle = [
                (int(i), n, d)
                for i, n, d in conn.execute(
                    select(_S.c.id, _S.c.name, _S.c.district)
                    .where(idle)
                    .order_by(_S.c.id)
                    .limit(idle_shown)
                )
            ]
        return out
