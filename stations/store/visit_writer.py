"""Check-ins written a batch per transaction (the :class:`~stations.store.group_commit.
GroupCommitWriter`'s ``write`` for check-ins on PostgreSQL).

:func:`write_checkins` is the plain reference: one multi-row statement per table (the device
claims, the raw rows, and each roll-up, the batch added up in Python first by
``visit_rollups.add_visits``) and one commit for the whole batch, on a pooled connection.

:class:`PgCheckinWriter` is the fast path the service runs, fenced here: the whole batch is
ONE statement (:data:`_PG_BATCH`, data-modifying CTEs: claims, raw rows, the four roll-ups)
in autocommit on a connection kept while check-ins come (:class:`~stations.store.
kept_connection.KeptConnection`), prepared once, the batch sent as one JSON parameter. A
profile of one worker under load showed the writer waiting on round trips (a ping per pool
checkout, then eight per batch); this is one. A test gives both paths the same batches.

De-duplication stays exact: two taps of one device in the same batch count once (the
first), and across batches the same ``INSERT … ON CONFLICT DO UPDATE … WHERE`` decides as in
the one-by-one path, row by row against each row's own time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, select, tuple_

from stations.store.engine import WRITE
from stations.store.kept_connection import KeptConnection
from stations.store.visit_rollups import Visits, add_visits, pg_unnest_insert
from stations.store.visit_tables import checkins_table, visit_devices_table
from stations.visits.vocabulary import WORKER_COLUMNS

__all__ = ["PendingCheckin", "PgCheckinWriter", "write_checkins"]

#: One answer per check-in: (counted, when the device was last counted there).
Answer = tuple[bool, datetime]

_D = visit_devices_table
_R = checkins_table


@dataclass
class PendingCheckin:
    """One check-in waiting for its transaction."""

    station_id: int
    device_hash: str
    worker: str
    at: datetime
    day: date
    hour: int
    district: str = ""
    host_type: str = "other"


def write_checkins(engine: Engine, window: timedelta, batch: list[PendingCheckin]) -> list[Answer]:
    """Write ``batch`` in one transaction; per check-in (counted, last counted at)."""
    first_of, claims = _claims(batch)
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        claimed = pg_unnest_insert(
            conn,
            _D,
            [
                {"station_id": c.station_id, "device_hash": c.device_hash, "last_at": c.at}
                for c in claims
            ],
            "ON CONFLICT (station_id, device_hash) DO UPDATE SET last_at = excluded.last_at"
            " WHERE visit_devices.last_at <= excluded.last_at - %s::interval"
            " RETURNING station_id, device_hash",
            (window,),
        )
        counted = {(s, h) for s, h in claimed}
        winners = [c for c in claims if (c.station_id, c.device_hash) in counted]
        if winners:
            pg_unnest_insert(
                conn,
                _R,
                [
                    {"station_id": c.station_id, "at": c.at, "worker_type": c.worker}
                    for c in winners
                ],
            )
            add_visits(
                conn,
                (
                    Visits(c.station_id, c.district, c.host_type, c.day, c.hour, c.worker)
                    for c in winners
                ),
            )
        losers = {(c.station_id, c.device_hash) for c in batch} - counted
        last: dict[tuple[int, str], datetime] = {}
        if losers:
            rows = conn.execute(
                select(_D.c.station_id, _D.c.device_hash, _D.c.last_at).where(
                    tuple_(_D.c.station_id, _D.c.device_hash).in_(sorted(losers))
                )
            )
            last = {(s, h): _utc(t) for s, h, t in rows}
    return _answers(batch, first_of, counted, last)


def _claims(batch: list[PendingCheckin]) -> tuple[dict[tuple[int, str], int], list[PendingCheckin]]:
    """Each (station, device)'s first check-in in ``batch`` (its index), and those check-ins."""
    first_of: dict[tuple[int, str], int] = {}
    for i, item in enumerate(batch):
        first_of.setdefault((item.station_id, item.device_hash), i)
    return first_of, [batch[i] for i in sorted(first_of.values())]


def _answers(
    batch: list[PendingCheckin],
    first_of: dict[tuple[int, str], int],
    counted: set[tuple[int, str]],
    last: dict[tuple[int, str], datetime],
) -> list[Answer]:
    out: list[Answer] = []
    for i, item in enumerate(batch):
        key = (item.station_id, item.device_hash)
        if key in counted and first_of[key] == i:
            out.append((True, item.at))
        else:
            out.append((False, last.get(key, batch[first_of[key]].at)))
    return out


_MONTH_SUMS = ", ".join(f"count(*) FILTER (WHERE worker_type = '{w}')" for w in WORKER_COLUMNS)
_MONTH_ADD = ", ".join(
    f"{c} = visit_station_month.{c} + excluded.{c}" for c in (*WORKER_COLUMNS, "total")
)

# write_checkins as one statement (one round trip, one text: prepared once per connection).
# ``claimed`` moves each device's row forward only if its last counted visit is older than
# the window; ``w`` is the check-ins that counted; each roll-up adds them up, rows in key
# order (two batches touching the same rows lock them in the same order). The answer: the
# claims that counted ('c'), and the devices' rows as they were before this statement ('h'):
# a statement does not see its own writes, nor what another transaction committed after it
# began (the caller reads such a device again).
_PG_BATCH = f"""
WITH c AS (
  SELECT * FROM json_to_recordset(%(items)s::json) AS c(
    station_id integer, device_hash varchar, at timestamptz, worker_type varchar, day date,
    month date, hour smallint, hh varchar, district varchar, host_type varchar)
),
claimed AS (
  INSERT INTO visit_devices (station_id, device_hash, last_at)
  SELECT station_id, device_hash, at FROM c ORDER BY station_id, device_hash
  ON CONFLICT (station_id, device_hash) DO UPDATE SET last_at = excluded.last_at
  WHERE visit_devices.last_at <= excluded.last_at - %(window)s::interval
  RETURNING station_id, device_hash
),
w AS MATERIALIZED (SELECT c.* FROM c JOIN claimed USING (station_id, device_hash)),
raw AS (
  INSERT INTO checkins (station_id, at, worker_type) SELECT station_id, at, worker_type FROM w
),
daily AS (
  INSERT INTO visit_daily (station_id, day, hour, worker_type, count)
  SELECT station_id, day, hour, worker_type, count(*) FROM w
  GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
  ON CONFLICT (station_id, day, hour, worker_type)
  DO UPDATE SET count = visit_daily.count + excluded.count
),
monthly AS (
  INSERT INTO visit_station_month (station_id, month, {", ".join(WORKER_COLUMNS)}, total)
  SELECT station_id, month, {_MONTH_SUMS}, count(*) FROM w GROUP BY 1, 2 ORDER BY 1, 2
  ON CONFLICT (station_id, month) DO UPDATE SET {_MONTH_ADD}
),
area AS (
  INSERT INTO visit_area_daily (scope, day, area, worker_type, count)
  SELECT a.scope, w.day, a.area, w.worker_type, count(*)
  FROM w CROSS JOIN LATERAL (VALUES
    ('network', ''), ('district', w.district), ('host_type', w.host_type), ('hour', w.hh)
  ) AS a(scope, area)
  GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
  ON CONFLICT (scope, day, area, worker_type)
  DO UPDATE SET count = visit_area_daily.count + excluded.count
),
last AS (
  INSERT INTO visit_station_last (station_id, last_day)
  SELECT station_id, max(day) FROM w GROUP BY 1 ORDER BY 1
  ON CONFLICT (station_id)
  DO UPDATE SET last_day = greatest(visit_station_last.last_day, excluded.last_day)
)
SELECT 'c', station_id, device_hash, NULL::timestamptz FROM claimed
UNION ALL
SELECT 'h', d.station_id, d.device_hash, d.last_at FROM visit_devices d
WHERE (d.station_id, d.device_hash) IN (SELECT station_id, device_hash FROM c)
"""


class PgCheckinWriter(KeptConnection):
    """The check-in group writer's ``write`` on PostgreSQL: :data:`_PG_BATCH` per batch on a
    kept connection; answers as :func:`write_checkins`.
    """

    def __init__(self, engine: Engine, window: timedelta) -> None:
        super().__init__(engine)
        self.window = window

    def __call__(self, batch: list[PendingCheckin]) -> list[Answer]:
        """Write ``batch`` as one statement; per check-in (counted, last counted at)."""
        first_of, claims = _claims(batch)
        items = json.dumps(
            [
                {
                    "station_id": c.station_id,
                    "device_hash": c.device_hash,
                    "at": c.at.isoformat(),
                    "worker_type": c.worker,
                    "day": c.day.isoformat(),
                    "month": c.day.replace(day=1).isoformat(),
                    "hour": c.hour,
                    "hh": f"{c.hour:02d}",
                    "district": c.district or "",
                    "host_type": c.host_type or "",
                }
                for c in claims
            ]
        )
        counted: set[tuple[int, str]] = set()
        held: dict[tuple[int, str], datetime] = {}
        for kind, sid, device, at in self._execute(
            _PG_BATCH, {"items": items, "window": self.window}
        ):
            if kind == "c":
                counted.add((sid, device))
            else:
                held[(sid, device)] = _utc(at)
        losers = {(c.station_id, c.device_hash) for c in batch} - counted
        # A device row this statement did not see, or saw old enough to count, was moved by a
        # transaction that committed after the statement began: read it again, as it is now.
        first = {k: batch[i].at for k, i in first_of.items()}
        last = {k: held[k] for k in losers if k in held and held[k] > first[k] - self.window}
        if len(last) < len(losers):
            again = sorted(losers - last.keys())
            params = {"sid": [s for s, _ in again], "dev": [d for _, d in again]}
            for sid, device, at in self._execute(_PG_HELD, params):
                last[(sid, device)] = _utc(at)
        return _answers(batch, first_of, counted, last)


_PG_HELD = """
SELECT d.station_id, d.device_hash, d.last_at
FROM visit_devices d JOIN unnest(%(sid)s::integer[], %(dev)s::varchar[]) AS k(sid, dev)
  ON d.station_id = k.sid AND d.device_hash = k.dev
"""


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
