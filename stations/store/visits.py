"""The visits repository: public codes, check-ins, hand tallies and their upkeep.

One counted check-in is written in one transaction of three statements: the (station, device
hash) row moves forward only if its last counted visit is older than the window (an
``INSERT … ON CONFLICT DO UPDATE … WHERE`` whose ``RETURNING`` says whether it counted,
atomic on both engines, so two taps racing each other count once), the raw row is
appended, and the station's (day, hour, worker type) roll-up is incremented. The API
answers only after the commit, so an acknowledged check-in survives a crash. On
PostgreSQL concurrent check-ins share transactions (``visit_writer``: group commit).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, delete, insert, select, text, tuple_

from stations.errors import ConfigurationError, FieldError, NotFound, ValidationFailed
from stations.i18n import Message
from stations.store.engine import upsert
from stations.store.group_commit import GroupCommitWriter, LazyGroupWriter
from stations.store.repository import Repository
from stations.store.schema import stations_table, storable_id
from stations.store.visit_rollups import HAND_TALLY, Visits, add_visits, recompute_last_days
from stations.store.visit_tables import (
    checkins_table,
    station_codes_table,
    visit_devices_table,
    visit_keys_table,
    visit_tallies_table,
)
from stations.store.visit_writer import PendingCheckin, PgCheckinWriter
from stations.visits.checkin import device_hash, validate_checkin
from stations.visits.codes import new_code, normalise_code

__all__ = ["CheckinResult", "SqlVisitStore", "StationRef", "Tally", "VisitPolicy", "upsert"]

_S = stations_table
_C = station_codes_table
_D = visit_devices_table
_R = checkins_table
_T = visit_tallies_table

#: The most a hand tally may say for one station and day (a typo guard, not a real limit).
MAX_TALLY = 100_000


@dataclass(frozen=True)
class VisitPolicy:
    """How visits are counted and kept; built from the settings."""

    #: One visit per device per station within this window.
    window: timedelta = timedelta(hours=2)
    #: Local time of the stations: days and hours in reports are local.
    tz: str = "Asia/Shanghai"
    #: Raw check-ins older than this are pruned (totals live in the roll-ups); None keeps all.
    keep_raw_days: int | None = None


@dataclass(frozen=True)
class CheckinResult:
    """What the rider's page is told: counted or not, and when a repeat would count."""

    counted: bool
    station_id: int
    at: datetime
    next_count_at: datetime


@dataclass(frozen=True)
class StationRef:
    """What counting a visit needs to know of its station: the roll-ups' keys."""

    station_id: int
    district: str
    host_type: str


class LiveStations(Protocol):
    """The in-memory catalog, as far as check-ins need it: ``get`` raises ``NotFound`` for a
    station that is not live.
    """

    def get(self, station_id: int) -> Any: ...


@dataclass(frozen=True)
class Tally:
    """Visits counted by hand for one station on one local day."""

    station_id: int
    day: date
    count: int
    entered_by: str
    updated_at: datetime


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


class SqlVisitStore(Repository):
    """Visits in the stations' database (codes and tallies reference the stations table)."""

    def __init__(
        self,
        engine: Engine,
        policy: VisitPolicy | None = None,
        *,
        write_engine: Engine | None = None,
    ) -> None:
        super().__init__(engine, write_engine=write_engine)
        self.policy = policy or VisitPolicy()
        self.zone = ZoneInfo(self.policy.tz)
        self._secret: bytes | None = None
        #: code → (station, until when): saves a query per check-in for a minute.
        self._code_cache: dict[str, tuple[StationRef, float]] = {}
        self.code_cache_s = 60.0
        #: code → station id, every stored code (loaded once; a code never moves to another
        #: station). The service's check-ins read liveness and keys from the catalog instead.
        self._code_ids: dict[str, int] | None = None
        pg = PgCheckinWriter(self.write_engine, self.policy.window)
        self._writer: LazyGroupWriter[PendingCheckin, tuple[bool, datetime]] = LazyGroupWriter(
            pg, name="checkin-writer", idle=pg.release
        )

    # -- public codes ----------------------------------------------------------------------

    def codes(self, station_ids: Iterable[int] | None = None) -> dict[int, str]:
        """The public code of each live station asked for (all live ones by default),
        drawing and storing a code for any station that has none yet.
        """
        wanted = None if station_ids is None else {i for i in station_ids if storable_id(i)}
        live = select(_S.c.id).where(_S.c.deleted_at.is_(None)).order_by(_S.c.id)
        if wanted is not None and len(wanted) <= 5000:  # beyond that: read all, filter here
            live = live.where(_S.c.id.in_(sorted(wanted)))
        with self.engine.connect() as conn:
            ids = [row.id for row in conn.execute(live)]
            if wanted is not None:
                ids = [i for i in ids if i in wanted]
            have = self._stored_codes(
                conn, ids if wanted is not None and len(ids) <= 5000 else None
            )
        missing = [i for i in ids if i not in have]
        if missing:
            have.update(self._assign(missing))
        return {i: have[i] for i in ids}

    def code_for(self, station_id: int) -> str:
        """The station's public code (``NotFound`` for a deleted or unknown station)."""
        found = self.codes([station_id])
        if station_id not in found:
            raise NotFound(Message("station {id} not found", id=station_id))
        return found[station_id]

    def ensure_codes(self) -> int:
        """Draw a code for every live station that has none yet; returns how many.

        For readers that join ``station_codes`` (the monthly report's lines) instead of
        asking :meth:`codes` for every station: one anti-join, and nothing written once all
        stations have their code.
        """
        has_code = select(_C.c.station_id).where(_C.c.station_id == _S.c.id).exists()
        with self.engine.connect() as conn:
            missing = list(
                conn.execute(
                    select(_S.c.id).where(_S.c.deleted_at.is_(None), ~has_code).order_by(_S.c.id)
                ).scalars()
            )
        if missing:
            self._assign(missing)
        return len(missing)

    def _stored_codes(self, conn: Connection, ids: list[int] | None) -> dict[int, str]:
        query = select(_C.c.station_id, _C.c.code)
        if ids is not None:
            out: dict[int, str] = {}
            for start in range(0, len(ids), 5000):  # keep IN lists within SQLite's limits
                chunk = ids[start : start + 5000]
                out.update(dict(conn.execute(query.where(_C.c.station_id.in_(chunk))).all()))
            return out
        return dict(conn.execute(query).all())

    def _assign(self, station_ids: list[int]) -> dict[int, str]:
        """Draw codes for ``station_ids`` in bulk: a code that clashes with a stored one, or a
        station given a code meanwhile by another process, is skipped by ``ON CONFLICT DO
        NOTHING`` and read back or drawn again.
        """
        out: dict[int, str] = {}
        missing = list(station_ids)
        for _round in range(10):  # a clash in 2**40 is rare; ten rounds in a row is a bug
            for start in range(0, len(missing), 1000):
                chunk = missing[start : start + 1000]
                now = datetime.now(UTC)
                with self._write() as conn, conn.begin():
                    stmt = upsert(conn, _C).values(
                        [{"station_id": i, "code": new_code(), "created_at": now} for i in chunk]
                    )
                    conn.execute(stmt.on_conflict_do_nothing())
                    out.update(self._stored_codes(conn, chunk))
            missing = [i for i in missing if i not in out]
            if not missing:
                return out
        raise ConfigurationError("could not draw unique station codes")  # pragma: no cover

    def station_for_code(self, code: str) -> int:
        """The live station a public code belongs to, or ``NotFound``."""
        clean = normalise_code(code)
        if clean is None:
            raise NotFound(Message("no station has this code"))
        return self._lookup(clean).station_id

    def _lookup(self, clean: str) -> StationRef:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(_C.c.station_id, _S.c.district, _S.c.host_type)
                .join(_S, _S.c.id == _C.c.station_id)
                .where(_C.c.code == clean, _S.c.deleted_at.is_(None))
            ).first()
        if row is None:
            raise NotFound(Message("no station has this code"))
        return StationRef(int(row[0]), row[1] or "", row[2] or "")

    def _cached(self, clean: str) -> StationRef:
        """The station of a code, looked up again after ``code_cache_s`` (a deleted station
        stops counting within that).
        """
        cached = self._code_cache.get(clean)
        now_s = time.monotonic()
        if cached is not None and cached[1] > now_s:
            return cached[0]
        ref = self._lookup(clean)
        if len(self._code_cache) >= 500_000:
            self._code_cache.clear()
        self._code_cache[clean] = (ref, now_s + self.code_cache_s)
        return ref

    def station_in(self, catalog: LiveStations, clean: str) -> StationRef:
        """The station of a (normalised) code, live in ``catalog``: no database call once the
        codes are loaded, and a deleted station stops counting as soon as the catalog knows.
        """
        ids = self._code_ids
        if ids is None:
            with self.engine.connect() as conn:
                ids = {c: int(i) for i, c in conn.execute(select(_C.c.station_id, _C.c.code))}
            self._code_ids = ids
        station_id = ids.get(clean)
        if station_id is None:  # a code drawn since (or none at all): ask the database
            with self.engine.connect() as conn:
                found = conn.execute(select(_C.c.station_id).where(_C.c.code == clean)).scalar()
            if found is None:
                raise NotFound(Message("no station has this code"))
            station_id = ids[clean] = int(found)
        station = catalog.get(station_id)
        return StationRef(station_id, station.data.district or "", station.data.host_type or "")

    # -- check-ins -------------------------------------------------------------------------

    def _key(self) -> bytes:
        if self._secret is None:
            with self._write() as conn, conn.begin():
                # Two processes starting together: the first row wins, both read it back.
                first = upsert(conn, visit_keys_table).values(
                    id=1, secret=secrets.token_hex(32), created_at=datetime.now(UTC)
                )
                conn.execute(first.on_conflict_do_nothing(index_elements=["id"]))
                row = conn.execute(select(visit_keys_table.c.secret)).scalar_one()
            self._secret = bytes.fromhex(row)
        return self._secret

    def check_in(
        self,
        code: Any,
        device_id: Any,
        worker_type: Any = None,
        *,
        at: datetime | None = None,
    ) -> CheckinResult:
        """Count a visit unless this device was counted at this station within the window.

        Raises ``ValidationFailed`` for a bad code, worker type or device id and
        ``NotFound`` for a code no live station has.
        """
        clean_code, worker, device = validate_checkin(code, worker_type, device_id)
        return self._count(self._cached(clean_code), device, worker, at)

    async def check_in_async(
        self, code: Any, device_id: Any, worker_type: Any, catalog: LiveStations
    ) -> CheckinResult:
        """:meth:`check_in` for the service's event loop, the station read from ``catalog``.

        On PostgreSQL the loop serves other requests while the batch holding this check-in
        commits; SQLite's single transaction runs in a worker thread.
        """
        clean_code, worker, device = validate_checkin(code, worker_type, device_id)
        ref = self.station_in(catalog, clean_code)
        if self.engine.dialect.name != "postgresql":
            return await asyncio.to_thread(self._count, ref, device, worker, None)
        at = datetime.now(UTC)
        counted, last = await self._group_writer().submit_async(
            self._pending(ref, device, worker, at)
        )
        return CheckinResult(counted, ref.station_id, at, last + self.policy.window)

    def _pending(self, ref: StationRef, device: str, worker: str, at: datetime) -> PendingCheckin:
        local = at.astimezone(self.zone)
        hashed = device_hash(self._key(), ref.station_id, device)
        return PendingCheckin(
            ref.station_id,
            hashed,
            worker,
            at,
            local.date(),
            local.hour,
            ref.district,
            ref.host_type,
        )

    def _count(
        self, ref: StationRef, device: str, worker: str, at: datetime | None
    ) -> CheckinResult:
        at = _utc(at) if at is not None else datetime.now(UTC)
        item = self._pending(ref, device, worker, at)
        if self.engine.dialect.name == "postgresql":
            counted, last = self._group_writer().submit(item)
            return CheckinResult(counted, ref.station_id, at, last + self.policy.window)
        # SQLite has one writer at a time anyway: each check-in is its own transaction.
        with self._write() as conn, conn.begin():
            claim = upsert(conn, _D).values(
                station_id=item.station_id, device_hash=item.device_hash, last_at=at
            )
            claim = claim.on_conflict_do_update(
                index_elements=[_D.c.station_id, _D.c.device_hash],
                set_={"last_at": claim.excluded.last_at},
                where=_D.c.last_at <= at - self.policy.window,
            ).returning(_D.c.last_at)
            counted = conn.execute(claim).first() is not None
            if counted:
                conn.execute(
                    insert(_R).values(station_id=item.station_id, at=at, worker_type=worker)
                )
                add_visits(
                    conn,
                    [
                        Visits(
                            item.station_id,
                            item.district,
                            item.host_type,
                            item.day,
                            item.hour,
                            worker,
                        )
                    ],
                )
                last = at
            else:
                last = _utc(
                    conn.execute(
                        select(_D.c.last_at).where(
                            _D.c.station_id == item.station_id,
                            _D.c.device_hash == item.device_hash,
                        )
                    ).scalar_one()
                )
        return CheckinResult(counted, ref.station_id, at, last + self.policy.window)

    def _group_writer(self) -> GroupCommitWriter[PendingCheckin, tuple[bool, datetime]]:
        return self._writer.get()

    def close(self) -> None:
        """Stop the group-commit writer thread, if one was started."""
        self._writer.close()

    def raw_count(self) -> int:
        """How many raw check-in rows are kept (what pruning shrinks)."""
        with self.engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM checkins")).scalar_one())

    # -- hand tallies ----------------------------------------------------------------------

    def set_tallies(self, rows: Sequence[tuple[int, date, int]], *, actor: str) -> int:
        """Record hand counts ``(station id, local day, visits)`` in ONE transaction.

        A station and day already tallied gets the new number (re-importing a corrected
        sheet replaces, never doubles). Every row is checked before anything is written.
        """
        errors: list[FieldError] = []
        for number, (_sid, day, count) in enumerate(rows, start=1):
            if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= MAX_TALLY:
                errors.append(
                    FieldError.from_catalog(
                        "count", "must be a whole number 0-{limit}", count, number, limit=MAX_TALLY
                    )
                )
            if not isinstance(day, date):
                errors.append(FieldError.from_catalog("day", "must be a date", day, number))
        if errors:
            raise ValidationFailed(errors)
        ids = sorted({r[0] for r in rows})
        now = datetime.now(UTC)
        final = {(sid, day): count for sid, day, count in rows}  # a later row replaces
        with self._write() as conn, conn.begin():
            if conn.dialect.name == "postgresql":
                # Roll-ups move by new − old: two staff saving the same day must not both read
                # the same "old". Tallies are rare; one lock for all of them is enough.
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(727276)")
            live: dict[int, StationRef] = {}
            for start in range(0, len(ids), 5000):
                chunk = [i for i in ids[start : start + 5000] if storable_id(i)]
                for sid, district, host_type in conn.execute(
                    select(_S.c.id, _S.c.district, _S.c.host_type).where(
                        _S.c.id.in_(chunk), _S.c.deleted_at.is_(None)
                    )
                ):
                    live[sid] = StationRef(sid, district or "", host_type or "")
            unknown = [
                FieldError.from_catalog("station", "no such station", sid, number)
                for number, (sid, _d, _n) in enumerate(rows, start=1)
                if sid not in live
            ]
            if unknown:
                raise ValidationFailed(unknown)
            keys = sorted(final)
            old: dict[tuple[int, date], int] = {}
            for start in range(0, len(keys), 500):
                chunk_keys = keys[start : start + 500]
                old.update(
                    ((sid, _day(d)), n)
                    for sid, d, n in conn.execute(
                        select(_T.c.station_id, _T.c.day, _T.c.count).where(
                            tuple_(_T.c.station_id, _T.c.day).in_(chunk_keys)
                        )
                    )
                )
            for station_id, day in keys:
                stmt = upsert(conn, _T).values(
                    station_id=station_id,
                    day=day,
                    count=final[station_id, day],
                    entered_by=actor,
                    updated_at=now,
                )
                conn.execute(
                    stmt.on_conflict_do_update(
                        index_elements=[_T.c.station_id, _T.c.day],
                        set_={
                            "count": stmt.excluded.count,
                            "entered_by": stmt.excluded.entered_by,
                            "updated_at": stmt.excluded.updated_at,
                        },
                    )
                )
            add_visits(
                conn,
                [
                    Visits(
                        sid,
                        live[sid].district,
                        live[sid].host_type,
                        day,
                        None,
                        HAND_TALLY,
                        final[sid, day] - old.get((sid, day), 0),
                    )
                    for sid, day in keys
                ],
            )
            emptied = [s for s, d in keys if final[s, d] == 0 and old.get((s, d), 0) > 0]
            if emptied:
                recompute_last_days(conn, emptied)
        return len(rows)

    def tallies(
        self, *, station_id: int | None = None, start: date | None = None, end: date | None = None
    ) -> list[Tally]:
        """Hand tallies, by station then day; ``end`` is exclusive."""
        if station_id is not None and not storable_id(station_id):
            return []  # no row can have it (and PostgreSQL refuses it as an INTEGER)
        query = select(_T).order_by(_T.c.station_id, _T.c.day)
        if station_id is not None:
            query = query.where(_T.c.station_id == station_id)
        if start is not None:
            query = query.where(_T.c.day >= start)
        if end is not None:
            query = query.where(_T.c.day < end)
        with self.engine.connect() as conn:
            return [
                Tally(r.station_id, _day(r.day), r.count, r.entered_by, _utc(r.updated_at))
                for r in conn.execute(query)
            ]

    # -- upkeep ----------------------------------------------------------------------------

    def ensure_partitions(self, months: Iterable[date]) -> list[str]:
        """PostgreSQL: give each month (its first day, UTC) its own ``checkins`` partition,
        moving any rows the DEFAULT partition holds for it. No-op on SQLite.
        """
        if self.engine.dialect.name != "postgresql":
            return []
        made = []
        for month in sorted({m.replace(day=1) for m in months}):
            name = f"checkins_p{month:%Y%m}"
            upper = (month + timedelta(days=32)).replace(day=1)
            lo, hi = f"{month:%Y-%m-%d} 00:00:00+00", f"{upper:%Y-%m-%d} 00:00:00+00"
            with self._write() as conn, conn.begin():
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(727275)")
                if conn.execute(text("SELECT to_regclass(:n)"), {"n": name}).scalar():
                    continue
                conn.exec_driver_sql(f"CREATE TABLE {name} (LIKE checkins)")
                conn.exec_driver_sql(
                    f"WITH moved AS (DELETE FROM checkins_default"
                    f" WHERE at >= '{lo}' AND at < '{hi}' RETURNING *)"
                    f" INSERT INTO {name} SELECT * FROM moved"
                )
                conn.exec_driver_sql(
                    f"ALTER TABLE checkins ATTACH PARTITION {name}"
                    f" FOR VALUES FROM ('{lo}') TO ('{hi}')"
                )
                made.append(name)
        return made

    def prune(self, now: datetime | None = None) -> dict[str, int]:
        """Forget device hashes past the window and raw rows past ``keep_raw_days``.

        Totals are read from the roll-ups, so no reported number changes. On PostgreSQL a
        month that lies wholly before the cut-off is dropped as a partition.
        """
        now = _utc(now) if now is not None else datetime.now(UTC)
        out = {"devices": 0, "checkins": 0, "partitions": 0}
        with self._write() as conn, conn.begin():
            out["devices"] = conn.execute(
                delete(_D).where(_D.c.last_at < now - self.policy.window)
            ).rowcount
        if self.policy.keep_raw_days is None:
            return out
        cutoff = now - timedelta(days=self.policy.keep_raw_days)
        with self._write() as conn, conn.begin():
            if conn.dialect.name == "postgresql":
                names = conn.execute(
                    text(
                        "SELECT c.relname FROM pg_inherits i"
                        " JOIN pg_class c ON c.oid = i.inhrelid"
                        " WHERE i.inhparent = 'checkins'::regclass"  # this schema's table
                        " AND c.relname ~ '^checkins_p[0-9]{6}$'"
                    )
                ).scalars()
                for name in sorted(names):
                    month = date(int(name[-6:-2]), int(name[-2:]), 1)
                    upper = (month + timedelta(days=32)).replace(day=1)
                    if datetime(upper.year, upper.month, 1, tzinfo=UTC) <= cutoff:
                        n = conn.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()
                        conn.exec_driver_sql(f"DROP TABLE {name}")
                        out["partitions"] += 1
                        out["checkins"] += int(n)
            out["checkins"] += conn.execute(delete(_R).where(_R.c.at < cutoff)).rowcount
        return out
