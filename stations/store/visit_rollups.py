"""Keeping the visit roll-ups in step: every counted visit, in the transaction that counts it.

A batch of visits (one check-in on SQLite, a group commit's worth on PostgreSQL, or the
changes a corrected tally sheet makes) is first added up here in Python, so each roll-up
table gets ONE multi-row ``INSERT … ON CONFLICT DO UPDATE SET count = count + excluded``
(on ``visit_station_month`` each worker type's column, the tallies' and the total) however
many visits the batch holds. Rows go in key order: two processes' batches that
touch the same rows lock them in the same order and cannot deadlock. On PostgreSQL the rows
travel as one array per column (``INSERT … SELECT * FROM unnest(…)``): the statement text is
the same for every batch, so it is prepared once, and nothing is compiled per batch.

Hand tallies arrive as differences (a corrected register replaces the day's number, so the
roll-ups move by new − old) under the worker type ``hand_tally``, and never carry an hour.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, func, select, union_all

from stations.store.engine import upsert
from stations.store.visit_tables import (
    visit_area_daily_table,
    visit_daily_table,
    visit_station_last_table,
    visit_station_month_table,
    visit_tallies_table,
)
from stations.visits.vocabulary import WORKER_COLUMNS

__all__ = [
    "HAND_TALLY",
    "MONTH_COLUMNS",
    "SCOPES",
    "Visits",
    "add_visits",
    "pg_unnest_insert",
    "recompute_last_days",
]

_V = visit_daily_table
_W = visit_station_month_table
_A = visit_area_daily_table
_L = visit_station_last_table
_T = visit_tallies_table

#: The worker type hand tallies are rolled up under.
HAND_TALLY = "hand_tally"
#: What ``visit_area_daily.scope`` may be.
SCOPES = ("network", "district", "host_type", "hour")
#: The counted columns of ``visit_station_month``, in order: one per worker type, the hand
#: tallies, and the total.
MONTH_COLUMNS = (*WORKER_COLUMNS, HAND_TALLY, "total")
_MONTH_INDEX = {c: i for i, c in enumerate(MONTH_COLUMNS)}


@dataclass(frozen=True)
class Visits:
    """``n`` visits (negative: a tally lowered) at one station on one local day.

    ``hour`` is the local hour of a scan and None for a hand tally; ``district`` and
    ``host_type`` are the station's when the visits were counted.
    """

    station_id: int
    district: str
    host_type: str
    day: date
    hour: int | None
    worker: str
    n: int = 1


#: PostgreSQL array types of the visit tables' columns (for ``unnest``).
_PG_TYPES = {
    "station_id": "int",
    "day": "date",
    "month": "date",
    "hour": "smallint",
    "worker_type": "text",
    "count": "int",
    "scope": "text",
    "area": "text",
    "last_day": "date",
    **dict.fromkeys(MONTH_COLUMNS, "int"),
    "device_hash": "text",
    "last_at": "timestamptz",
    "at": "timestamptz",
}


def pg_unnest_insert(
    conn: Connection, table: Any, rows: list[dict[str, Any]], tail: str = "", extra: tuple = ()
) -> Any:
    """PostgreSQL: ``INSERT INTO table (…) SELECT * FROM unnest(one array per column) tail``.

    ``tail`` (an ``ON CONFLICT …`` / ``RETURNING …`` clause, its own parameters in ``extra``)
    is fixed text, so the whole statement is too.
    """
    cols = list(rows[0])
    arrays = ", ".join(f"%s::{_PG_TYPES[c]}[]" for c in cols)
    sql = f"INSERT INTO {table.name} ({', '.join(cols)}) SELECT * FROM unnest({arrays}) {tail}"
    params = tuple([r[c] for r in rows] for c in cols) + extra
    return conn.exec_driver_sql(sql, params)


def _add_counts(
    conn: Connection,
    table: Any,
    keys: list[str],
    counts: Mapping[tuple[Any, ...], int | Sequence[int]],
    columns: tuple[str, ...] = ("count",),
) -> None:
    """Add ``counts`` (key tuple in ``keys`` order → visits, or one number per column of
    ``columns``) onto ``table``'s ``columns``; keys that change nothing are left out.
    """
    rows = []
    for key, value in sorted(counts.items()):
        values = value if isinstance(value, Sequence) else (value,)
        if any(values):
            rows.append(
                {**dict(zip(keys, key, strict=True)), **dict(zip(columns, values, strict=True))}
            )
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        sets = ", ".join(f"{c} = {table.name}.{c} + excluded.{c}" for c in columns)
        pg_unnest_insert(conn, table, rows, f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {sets}")
        return
    stmt = upsert(conn, table).values(rows)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=keys,
            set_={c: table.c[c] + stmt.excluded[c] for c in columns},
        )
    )


def add_visits(conn: Connection, visits: Iterable[Visits]) -> None:
    """Add ``visits`` to every roll-up inside ``conn``'s transaction."""
    daily: Counter[tuple[int, date, int, str]] = Counter()
    monthly: dict[tuple[int, date], list[int]] = {}
    area: Counter[tuple[str, date, str, str]] = Counter()
    last: dict[int, date] = {}
    for v in visits:
        if v.n == 0:
            continue
        if v.hour is not None:
            daily[(v.station_id, v.day, v.hour, v.worker)] += v.n
            area[("hour", v.day, f"{v.hour:02d}", v.worker)] += v.n
        row = monthly.setdefault((v.station_id, v.day.replace(day=1)), [0] * len(MONTH_COLUMNS))
        row[_MONTH_INDEX[v.worker]] += v.n
        row[-1] += v.n
        area[("network", v.day, "", v.worker)] += v.n
        area[("district", v.day, v.district or "", v.worker)] += v.n
        area[("host_type", v.day, v.host_type or "", v.worker)] += v.n
        if v.n > 0 and (v.station_id not in last or last[v.station_id] < v.day):
            last[v.station_id] = v.day
    _add_counts(conn, _V, ["station_id", "day", "hour", "worker_type"], daily)
    _add_counts(conn, _W, ["station_id", "month"], monthly, MONTH_COLUMNS)
    _add_counts(conn, _A, ["scope", "day", "area", "worker_type"], area)
    if last:
        rows = [{"station_id": s, "last_day": d} for s, d in sorted(last.items())]
        if conn.dialect.name == "postgresql":
            pg_unnest_insert(
                conn,
                _L,
                rows,
                "ON CONFLICT (station_id) DO UPDATE"
                " SET last_day = greatest(visit_station_last.last_day, excluded.last_day)",
            )
            return
        stmt = upsert(conn, _L).values(rows)
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["station_id"],
                set_={"last_day": func.max(_L.c.last_day, stmt.excluded.last_day)},
            )
        )


def recompute_last_days(conn: Connection, station_ids: Iterable[int]) -> None:
    """Set each station's last visit day again from the day roll-up and the tallies (after a
    tally was lowered to zero, the stored day may be one with no visit left).
    """
    for sid in sorted(set(station_ids)):
        days = union_all(
            select(func.max(_V.c.day).label("d")).where(_V.c.station_id == sid),
            select(func.max(_T.c.day)).where(_T.c.station_id == sid, _T.c.count > 0),
        ).subquery()
        newest = conn.execute(select(func.max(days.c.d))).scalar()
        if newest is None:
            conn.execute(_L.delete().where(_L.c.station_id == sid))
            continue
        if not isinstance(newest, date):  # SQLite hands back the text it stores
            newest = date.fromisoformat(str(newest)[:10])
        conn.execute(_L.update().where(_L.c.station_id == sid).values(last_day=newest))
