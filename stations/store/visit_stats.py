"""Visit statistics, each read from the smallest roll-up that answers it.

Every number here is ``scans + tallied``: check-ins counted by the service plus the visits
staff entered by hand (worker type ``hand_tally`` in the roll-ups). All tables are keyed by
the station's local day or month, so a day, week (ISO, Monday first) or month is a ``GROUP
BY`` on a date expression, done in SQL on either engine; raw check-ins are never read, which
is why pruning them changes nothing here.

* per district, host type, worker type or hour of day: ``visit_area_daily``, a few hundred
  rows a day however many stations there are (districts and host types as the stations had
  them when each visit was counted);
* the monthly table, per station over whole months, and the busiest stations:
  ``visit_station_month`` (one row per station and month, a column per worker type);
* per station by day or week: ``visit_daily`` and ``visit_tallies``;
* the dashboard's idle stations: ``visit_station_last``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    ARRAY,
    Date,
    Engine,
    Integer,
    and_,
    any_,
    bindparam,
    case,
    cast,
    func,
    literal,
    select,
    true,
    union_all,
)

from stations.orgs.scope import EVERYWHERE, ReadScope
from stations.store.schema import stations_table
from stations.store.visit_rollups import HAND_TALLY
from stations.store.visit_tables import (
    station_codes_table,
    visit_area_daily_table,
    visit_daily_table,
    visit_station_last_table,
    visit_station_month_table,
    visit_tallies_table,
)
from stations.visits.vocabulary import WORKER_COLUMNS
from stations.vocabulary import HOST_TYPES

__all__ = [
    "GROUPS",
    "HAND_TALLY",
    "PERIODS",
    "Dashboard",
    "MonthlyLine",
    "MonthlyRow",
    "StatsRow",
    "VisitStats",
]

_S = stations_table
_V = visit_daily_table
_T = visit_tallies_table
_W = visit_station_month_table
_A = visit_area_daily_table
_L = visit_station_last_table
_C = station_codes_table

#: What ``group=`` may be. worker_type and hour read only scans (tallies have neither;
#: under worker_type they are one more key, ``hand_tally``).
GROUPS = ("station", "district", "host_type", "worker_type", "hour")
PERIODS = ("day", "week", "month", "all")
NO_DISTRICT = "未填写区域"
#: Stations counted exactly per statement when ranking the busiest.
_BUSIEST_STEP = 500
#: Each month's stations first taken from the top of the index when ranking the busiest,
#: per station asked for.
_BUSIEST_FIRST = 20
#: Lines of the monthly report fetched per round trip while they are written out.
_LINES_PER_FETCH = 10_000
#: One line of the monthly report: name, code, district, then its numbers (one per worker
#: type, scans, hand tallies, total).
MonthlyLine = tuple[Any, ...]


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


def _room_to_sort(conn: Any) -> None:
    """PostgreSQL: let this transaction's sorts and hashes of ~100k stations stay in memory
    (the default 4 MB spills them to disk).
    """
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL work_mem = '64MB'")


def _among(conn: Any, ids: list[int]) -> Any:
    """``column IN ids`` as a function of the column. On PostgreSQL the ids travel as one
    array (``= ANY(%(ids)s)``): an expanded IN list of 500 ids, three times in a statement,
    cost more to render and parse than the statement took to run.
    """
    if conn.dialect.name == "postgresql":
        ids_param = bindparam("among_ids", list(ids), type_=ARRAY(Integer))
        return lambda column: column == any_(ids_param)
    return lambda column: column.in_(ids)


def _next_month(day: date) -> date | None:
    """The first of the month after ``day``'s, if ``day`` is a first of the month."""
    if day.day != 1:
        return None
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _as_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _labelled(group: str, key: str) -> tuple[str, str]:
    """A group's key and its Chinese label."""
    if group == "worker_type":
        return key, "手工登记" if key == HAND_TALLY else WORKER_COLUMNS.get(key, key)
    if group == "hour":
        key = str(int(key))
        return key, f"{key}时"
    if group == "district":
        return key, key or NO_DISTRICT
    return key, HOST_TYPES.get(key, key)


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

    def visits(
        self, group: str, period: str, start: date, end: date, scope: ReadScope = EVERYWHERE
    ) -> list[StatsRow]:
        """Visits per ``group`` and ``period`` for local days ``start`` ≤ day < ``end``, of the
        stations in ``scope`` (default: all).

        Callers validate ``group``/``period`` against ``GROUPS``/``PERIODS``. Within a part of
        the network, districts and host types are the stations' current ones (the area
        roll-up, which keeps them as they were, covers the whole network only).
        """
        if group == "station":
            return self._by_station(period, start, end, scope)
        if not scope.whole:
            return self._scoped(group, period, start, end, scope)
        scope = "network" if group == "worker_type" else group
        tallied = _A.c.worker_type == HAND_TALLY
        columns: list[Any] = [_A.c.worker_type if group == "worker_type" else _A.c.area]
        if period != "all":
            columns.append(self._period(_A.c.day, period))
        query = (
            select(
                *columns,
                func.sum(case((tallied, 0), else_=_A.c.count)),
                func.sum(case((tallied, _A.c.count), else_=0)),
            )
            .where(_A.c.scope == scope, _A.c.day >= start, _A.c.day < end)
            .group_by(*columns)
        )
        return self._grouped_rows(query, group, period)

    def _scoped(
        self, group: str, period: str, start: date, end: date, scope: ReadScope
    ) -> list[StatsRow]:
        """:meth:`visits` by district, host type, worker type or hour for some stations:
        from the per-station day tables joined to the stations in ``scope``.
        """
        hand = literal(HAND_TALLY)
        u = union_all(
            select(
                _V.c.station_id.label("sid"),
                _V.c.day.label("day"),
                _V.c.hour.label("hour"),
                _V.c.worker_type.label("worker"),
                _V.c.count.label("scans"),
                literal(0).label("tallied"),
            ).where(_V.c.day >= start, _V.c.day < end),
            select(_T.c.station_id, _T.c.day, literal(-1), hand, literal(0), _T.c.count).where(
                _T.c.day >= start, _T.c.day < end
            ),
        ).subquery()
        key = {
            "district": func.coalesce(_S.c.district, ""),
            "host_type": _S.c.host_type,
            "worker_type": u.c.worker,
            "hour": u.c.hour,
        }[group]
        columns: list[Any] = [key]
        if period != "all":
            columns.append(self._period(u.c.day, period))
        query = (
            select(*columns, func.sum(u.c.scans), func.sum(u.c.tallied))
            .select_from(u.join(_S, _S.c.id == u.c.sid))
            .where(scope.station_clause(_S.c.org_id))
            .group_by(*columns)
        )
        if group == "hour":  # tallies have no hour
            query = query.where(u.c.hour >= 0)
        return self._grouped_rows(query, group, period)

    def _grouped_rows(self, query: Any, group: str, period: str) -> list[StatsRow]:
        """Run a grouped ``query`` (key, [period,] scans, tallied) into labelled rows, the
        empty groups dropped, by hour of day or by most visits first within each period.
        """
        rows: list[StatsRow] = []
        with self.engine.connect() as conn:
            for r in conn.execute(query):
                when = _as_date(r[1]) if period != "all" else None
                scans, tallied = int(r[-2]), int(r[-1])
                if scans == 0 and tallied == 0:
                    continue
                rows.append(StatsRow(*_labelled(group, str(r[0])), when, scans, tallied))
        if group == "hour":
            rows.sort(key=lambda s: (s.period or date.min, int(s.key)))
        else:
            rows.sort(key=lambda s: (s.period or date.min, -s.visits, s.key))
        return rows

    def _by_station(
        self, period: str, start: date, end: date, scope: ReadScope = EVERYWHERE
    ) -> list[StatsRow]:
        whole_months = start.day == 1 and end.day == 1 and period in ("month", "all")
        if whole_months:  # one row per station and month instead of per day and hour
            u = select(
                _W.c.station_id.label("sid"),
                _W.c.month.label("day"),
                (_W.c.total - _W.c.hand_tally).label("scans"),
                _W.c.hand_tally.label("tallied"),
            ).where(_W.c.month >= start, _W.c.month < end)
        else:
            u = union_all(
                select(
                    _V.c.station_id.label("sid"),
                    _V.c.day.label("day"),
                    _V.c.count.label("scans"),
                    literal(0).label("tallied"),
                ).where(_V.c.day >= start, _V.c.day < end),
                select(_T.c.station_id, _T.c.day, literal(0), _T.c.count).where(
                    _T.c.day >= start, _T.c.day < end
                ),
            )
        sub = u.subquery()
        columns: list[Any] = [sub.c.sid, _S.c.name]
        if period != "all":
            columns.append(self._period(sub.c.day, period).label("period"))
        query = (
            select(*columns, func.sum(sub.c.scans), func.sum(sub.c.tallied))
            .select_from(sub.join(_S, _S.c.id == sub.c.sid))
            .where(scope.station_clause(_S.c.org_id))
            .group_by(*columns)
        )
        rows: list[StatsRow] = []
        with self.engine.connect() as conn:
            for r in conn.execute(query):
                scans, hand = int(r[-2]), int(r[-1])
                if scans == 0 and hand == 0:
                    continue
                when = _as_date(r[2]) if period != "all" else None
                rows.append(StatsRow(str(r[0]), r[1], when, scans, hand))
        rows.sort(key=lambda s: (s.period or date.min, -s.visits, s.key))
        return rows

    def _monthly_pivot(self, start: date, end: date) -> Any:
        """One row per station with visits in ``start`` ≤ day < ``end``: ``sid`` and a sum
        per worker type, then the hand tallies (``w0``…), as the monthly table's columns.

        Whole months (as the report asks) are read from ``visit_station_month``, whose rows
        are the report's lines already; other spans are pivoted by worker type in SQL.
        """
        workers = [*WORKER_COLUMNS, HAND_TALLY]
        if start.day == 1 and end.day == 1:
            return (
                select(
                    _W.c.station_id.label("sid"),
                    *(func.sum(_W.c[w]).label(f"w{i}") for i, w in enumerate(workers)),
                )
                .where(_W.c.month >= start, _W.c.month < end)
                .group_by(_W.c.station_id)
                .subquery()
            )
        src = union_all(
            select(_V.c.station_id, _V.c.worker_type, _V.c.count).where(
                _V.c.day >= start, _V.c.day < end
            ),
            select(_T.c.station_id, literal(HAND_TALLY), _T.c.count).where(
                _T.c.day >= start, _T.c.day < end
            ),
        ).subquery()
        sid, worker, count = src.c
        return (
            select(
                sid.label("sid"),
                *(
                    func.sum(case((worker == w, count), else_=0)).label(f"w{i}")
                    for i, w in enumerate(workers)
                ),
            )
            .group_by(sid)
            .subquery()
        )

    def _one_month(self, month: date) -> Any:
        """:meth:`_monthly_pivot` for exactly the calendar month starting ``month``, without
        a GROUP BY: ``visit_station_month`` holds one row per station and month, so the
        month's rows are the pivot already (a hash aggregate of 100k rows was half the
        report's query).
        """
        workers = [*WORKER_COLUMNS, HAND_TALLY]
        return (
            select(
                _W.c.station_id.label("sid"),
                *(_W.c[w].label(f"w{i}") for i, w in enumerate(workers)),
            )
            .where(_W.c.month == month)
            .subquery()
        )

    def monthly(self, start: date, end: date) -> list[MonthlyRow]:
        """Every live station (and any deleted one with visits) for ``start`` ≤ day < ``end``,
        by id: the table unions report upward each month.

        The plain version, one :class:`MonthlyRow` per station; :meth:`monthly_lines` is the
        report's fast path and a test holds the two to the same lines. Either way the
        database returns one row per station.
        """
        pivot = self._monthly_pivot(start, end)
        query = (
            select(_S.c.id, _S.c.name, _S.c.district, _S.c.deleted_at, *pivot.c[1:])
            .select_from(_S.outerjoin(pivot, pivot.c.sid == _S.c.id))
            .where(_S.c.deleted_at.is_(None) | pivot.c.sid.is_not(None))
            .order_by(_S.c.id)
        )
        out = []
        with self.engine.connect() as conn:
            _room_to_sort(conn)
            for row in conn.execute(query).all():  # one fetch: row by row costs ~2x here
                counts = [int(n or 0) for n in row[4:]]
                by_worker = dict(zip(WORKER_COLUMNS, counts[:-1], strict=True))
                out.append(MonthlyRow(row[0], row[1], row[2], by_worker, counts[-1]))
        return out

    def monthly_lines(self, start: date, end: date) -> Iterator[MonthlyLine]:
        """:meth:`monthly` as the report's lines, ready to write: (name, code, district, one
        number per worker type, scans, hand tallies, total), by station id.

        The speed path of the monthly report. At 100k stations, building a
        :class:`MonthlyRow` (a dict per station) and then its line cost more than the query;
        here the database returns each line finished (zeros, sums and the station's public
        code included; a deleted station's code is blank, as :meth:`SqlVisitStore.codes
        <stations.store.visits.SqlVisitStore.codes>` gives none) and the lines are handed
        on as the driver's tuples, a batch at a time. Codes are joined, not drawn: call
        ``SqlVisitStore.ensure_codes()`` first so every live station has one.
        """
        pivot = self._one_month(start) if _next_month(start) == end else None
        if pivot is None:
            pivot = self._monthly_pivot(start, end)
        counts = [func.coalesce(c, 0) for c in pivot.c[1:]]
        scans = sum(counts[:-1], literal(0))
        live = _S.c.deleted_at.is_(None)
        query = (
            select(
                _S.c.name,
                case((live, func.coalesce(_C.c.code, "")), else_=""),
                _S.c.district,
                *counts[:-1],
                scans,
                counts[-1],
                scans + counts[-1],
            )
            .select_from(
                _S.outerjoin(pivot, pivot.c.sid == _S.c.id).outerjoin(
                    _C, _C.c.station_id == _S.c.id
                )
            )
            .where(live | pivot.c.sid.is_not(None))
            .order_by(_S.c.id)
        )
        with self.engine.connect() as conn:
            _room_to_sort(conn)
            result = conn.execution_options(yield_per=_LINES_PER_FETCH).execute(query)
            for batch in result.partitions():
                yield from batch

    def dashboard(
        self,
        today: date,
        days: int = 30,
        top: int = 10,
        idle_shown: int = 50,
        scope: ReadScope = EVERYWHERE,
    ) -> Dashboard:
        """The console's numbers for the ``days`` local days ending with ``today``, over the
        stations in ``scope`` (default: all).
        """
        start, end = today - timedelta(days=days - 1), today + timedelta(days=1)
        out = Dashboard(start=start, end=end)
        in_range = and_(_A.c.day >= start, _A.c.day < end)
        scans: dict[date, int] = {}
        tallies: dict[date, int] = {}
        out.by_worker = {k: 0 for k in WORKER_COLUMNS}
        out.by_worker[HAND_TALLY] = 0
        if not scope.whole:  # a part of the network: from its stations' day tables
            for r in self._scoped("worker_type", "day", start, end, scope):
                assert r.period is not None
                scans[r.period] = scans.get(r.period, 0) + r.scans
                tallies[r.period] = tallies.get(r.period, 0) + r.tallied
                out.by_worker[r.key] = out.by_worker.get(r.key, 0) + r.visits
            for r in self._scoped("hour", "all", start, end, scope):
                out.by_hour[int(r.key)] = r.scans
        with self.engine.connect() as conn:
            if scope.whole:
                for d, worker, n in conn.execute(
                    select(_A.c.day, _A.c.worker_type, func.sum(_A.c.count))
                    .where(_A.c.scope == "network", in_range)
                    .group_by(_A.c.day, _A.c.worker_type)
                ):
                    day, n = _as_date(d), int(n)
                    into = tallies if worker == HAND_TALLY else scans
                    into[day] = into.get(day, 0) + n
                    out.by_worker[worker] = out.by_worker.get(worker, 0) + n
                for hour, n in conn.execute(
                    select(_A.c.area, func.sum(_A.c.count))
                    .where(_A.c.scope == "hour", in_range)
                    .group_by(_A.c.area)
                ):
                    out.by_hour[int(hour)] = int(n)
            day = start
            while day < end:
                out.daily.append((day, scans.get(day, 0), tallies.get(day, 0)))
                day += timedelta(days=1)
            out.busiest = self._busiest(conn, start, end, top, scope)
            if scope.whole:
                out.idle_count, out.idle = self._idle(conn, start, end, idle_shown)
            else:
                out.idle_count, out.idle = self._idle_plain(conn, start, end, idle_shown, scope)
        return out

    def _idle_plain(
        self, conn: Any, start: date, end: date, shown: int, scope: ReadScope = EVERYWHERE
    ) -> tuple[int, list[tuple[int, str, str]]]:
        """The live stations in ``scope`` with no visit day in ``start`` ≤ day < ``end``: how
        many, and the first ``shown`` by id. The plain version (an anti-join of every
        station), used within a part of the network; :meth:`_idle` is the network's.

        A last visit day before the window (or none) settles it from one small table; only a
        station whose last day lies after the window (visits dated in the future) needs its
        days looked at.
        """
        _room_to_sort(conn)  # an anti-join of ~100k stations
        last = _L.c.last_day
        idle = (
            _S.c.deleted_at.is_(None)
            & scope.station_clause(_S.c.org_id)
            & (last.is_(None) | (last < start) | ((last >= end) & self._no_visit(start, end)))
        )
        stations = _S.outerjoin(_L, _L.c.station_id == _S.c.id)
        count = int(conn.execute(select(func.count()).select_from(stations).where(idle)).scalar())
        listed = conn.execute(
            select(_S.c.id, _S.c.name, _S.c.district)
            .select_from(stations)
            .where(idle)
            .order_by(_S.c.id)
            .limit(shown)
        )
        return count, [(int(i), n, d) for i, n, d in listed]

    @staticmethod
    def _no_visit(start: date, end: date) -> Any:
        """The station (``stations.id``) has no scan and no tally above zero in the window."""
        scanned = select(_V.c.station_id).where(
            _V.c.station_id == _S.c.id, _V.c.day >= start, _V.c.day < end
        )
        tallied = select(_T.c.station_id).where(
            _T.c.station_id == _S.c.id, _T.c.day >= start, _T.c.day < end, _T.c.count > 0
        )
        return ~scanned.exists() & ~tallied.exists()

    def _idle(
        self, conn: Any, start: date, end: date, shown: int
    ) -> tuple[int, list[tuple[int, str, str]]]:
        """:meth:`_idle_plain` for the whole network, without joining every station to its
        last visit day (~250 ms at 100k stations): a station is idle when it was never
        visited, or its last day lies before the window, or after it with nothing inside.

        * never visited: the live stations less those with a last day (all rows of
          ``visit_station_last``, an index count, less the deleted stations' rows);
        * before the window, and after it with no visit inside: read from the
          ``last_day`` index, a few rows on a network in use.

        The never-visited stations are listed (an anti-join by id) only when there are any.
        A test holds this to :meth:`_idle_plain`.
        """
        live = _S.c.deleted_at.is_(None)
        has_last = select(_L.c.station_id).where(_L.c.station_id == _S.c.id).exists()
        live_n = conn.execute(select(func.count()).where(live)).scalar()
        with_last = conn.execute(select(func.count()).select_from(_L)).scalar()
        dead_with_last = conn.execute(
            select(func.count())
            .select_from(_L.join(_S, _S.c.id == _L.c.station_id))
            .where(_S.c.deleted_at.is_not(None))
        ).scalar()
        never = int(live_n) - (int(with_last) - int(dead_with_last))
        last = _L.c.last_day
        # Stated so that the first half is a range (two) on the last_day index.
        lapsed = ((last < start) | (last >= end)) & ((last < start) | self._no_visit(start, end))
        at_last = _L.join(_S, _S.c.id == _L.c.station_id)
        count = never + int(
            conn.execute(select(func.count()).select_from(at_last).where(live, lapsed)).scalar()
        )
        if count == 0:
            return 0, []
        parts = [
            select(_S.c.id, _S.c.name, _S.c.district)
            .select_from(at_last)
            .where(live, lapsed)
            .order_by(_S.c.id)
            .limit(shown)
        ]
        if never > 0:
            parts.append(
                select(_S.c.id, _S.c.name, _S.c.district)
                .where(live, ~has_last)
                .order_by(_S.c.id)
                .limit(shown)
            )
        listed = sorted((int(i), n, d) for part in parts for i, n, d in conn.execute(part))
        return count, listed[:shown]

    def _busiest(
        self, conn: Any, start: date, end: date, top: int, scope: ReadScope = EVERYWHERE
    ) -> list[tuple[int, str, int]]:
        """The ``top`` live stations by visits in ``start`` ≤ day < ``end``, exactly.

        A station's visits in the window are at most its totals in the months the window
        touches. Each month's stations are read from the top of the (month, total DESC) index,
        ``limit`` of them, and those are counted exactly from the day roll-up and the tallies.
        A station in none of the lists has at most the sum of each full list's last total;
        once the ``top``-th exact count exceeds that sum, nobody unread can overtake it.
        Otherwise the lists grow fourfold and the new stations are counted too.
        """
        months: list[date] = []
        m = start.replace(day=1)
        while m < end:
            months.append(m)
            m = (m + timedelta(days=32)).replace(day=1)
        in_scope = (
            true()
            if scope.whole
            else _W.c.station_id.in_(select(_S.c.id).where(scope.station_clause(_S.c.org_id)))
        )
        exact: dict[int, int] = {}
        limit = max(top, 1) * _BUSIEST_FIRST
        while True:
            unread_bound, seen = 0, set[int]()
            for month in months:
                listed = conn.execute(
                    select(_W.c.station_id, _W.c.total)
                    .where(_W.c.month == month, _W.c.total > 0, in_scope)
                    .order_by(_W.c.total.desc())
                    .limit(limit)
                ).all()
                seen.update(int(sid) for sid, _n in listed)
                if len(listed) == limit:
                    unread_bound += int(listed[-1][1])
            new = sorted(seen - exact.keys())
            for i in range(0, len(new), _BUSIEST_STEP):
                exact.update(self._window_counts(conn, new[i : i + _BUSIEST_STEP], start, end))
            best = sorted((n for n in exact.values() if n > 0), reverse=True)[:top]
            # Strictly greater: an unread station with an equal count and a smaller id would
            # rank above the last one kept.
            if unread_bound == 0 or (len(best) == top and best[-1] > unread_bound):
                break
            limit *= 4
        ranked = sorted(
            ((n, sid) for sid, n in exact.items() if n > 0), key=lambda x: (-x[0], x[1])
        )
        chosen = ranked[:top]
        names = dict(
            conn.execute(
                select(_S.c.id, _S.c.name).where(_S.c.id.in_([sid for _n, sid in chosen]))
            ).all()
        )
        return [(sid, names[sid], n) for n, sid in chosen]

    def _window_counts(self, conn: Any, ids: list[int], start: date, end: date) -> dict[int, int]:
        """Visits of the live stations among ``ids`` in ``start`` ≤ day < ``end`` (0 for the
        rest, so they are not counted again).
        """
        among = _among(conn, ids)
        per_station = union_all(
            select(_V.c.station_id.label("sid"), _V.c.count.label("n")).where(
                among(_V.c.station_id), _V.c.day >= start, _V.c.day < end
            ),
            select(_T.c.station_id, _T.c.count).where(
                among(_T.c.station_id), _T.c.day >= start, _T.c.day < end
            ),
        ).subquery()
        out = dict.fromkeys(ids, 0)
        for sid, n in conn.execute(
            select(per_station.c.sid, func.sum(per_station.c.n))
            .join(_S, _S.c.id == per_station.c.sid)
            # The ids again on the stations' side: else the planner hashes every station
            # (~100k) to find these few live ones.
            .where(_S.c.deleted_at.is_(None), among(_S.c.id))
            .group_by(per_station.c.sid)
        ):
            out[int(sid)] = int(n)
        return out
