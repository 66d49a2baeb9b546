"""Check-ins written a batch per transaction (the :class:`~stations.store.group_commit.
GroupCommitWriter`'s ``write`` for check-ins on PostgreSQL): one multi-row statement per
table (the device claims, the raw rows, and each roll-up, the batch added up in Python
first by ``visit_rollups.add_visits``) and one commit for the whole batch.

De-duplication stays exact: two taps of one device in the same batch count once (the
first), and across batches the same ``INSERT … ON CONFLICT DO UPDATE … WHERE`` decides as in
the one-by-one path, row by row against each row's own time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, select, tuple_

from stations.store.engine import WRITE
from stations.store.visit_rollups import Visits, add_visits, pg_unnest_insert
from stations.store.visit_tables import checkins_table, visit_devices_table

__all__ = ["PendingCheckin", "write_checkins"]

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


def write_checkins(
    engine: Engine, window: timedelta, batch: list[PendingCheckin]
) -> list[tuple[bool, datetime]]:
    """Write ``batch`` in one transaction; per check-in (counted, last counted at)."""
    first_of: dict[tuple[int, str], int] = {}
    for i, item in enumerate(batch):
        first_of.setdefault((item.station_id, item.device_hash), i)
    claims = [batch[i] for i in sorted(first_of.values())]
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
    out: list[tuple[bool, datetime]] = []
    for i, item in enumerate(batch):
        key = (item.station_id, item.device_hash)
        if key in counted and first_of[key] == i:
            out.append((True, item.at))
        else:
            out.append((False, last.get(key, batch[first_of[key]].at)))
    return out


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
