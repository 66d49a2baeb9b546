"""Rider confirmations in the stations' database (migrations 0003 and 0011).

A vote is written in one transaction that checks the station is live (on PostgreSQL taking
a key-share lock on its row, so it cannot be removed underneath), claims the device's hour
on the station in ``confirmation_claims`` with one ``INSERT … ON CONFLICT DO UPDATE … WHERE
until <= at`` (two taps of one device cannot both pass, on either engine), inserts the vote,
and reads the station's recent votes back for the rules — all before commit. Nothing here
touches the station itself or its history.

On PostgreSQL concurrent votes share transactions (:class:`~stations.store.group_commit.
GroupCommitWriter`): :func:`write_votes` does the same steps for a whole batch with one
statement each, and every rider is answered only after the batch has committed. SQLite has
one writer at a time anyway: each vote is a batch of one.
"""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine, insert, select, tuple_, update

from stations.errors import ConfigurationError, NotFound, TooManyRequests
from stations.store.engine import WRITE
from stations.store.group_commit import GroupCommitWriter
from stations.store.schema import (
    confirmation_claims_table,
    confirmations_table,
    stations_table,
    storable_id,
    trust_secrets_table,
)
from stations.store.visits import upsert
from stations.trust.rules import VOTE_INTERVAL_S, WINDOW_S, Vote

__all__ = ["ConfirmationRow", "PendingVote", "SqlConfirmationStore", "write_votes"]

_C = confirmations_table
_K = confirmation_claims_table
_S = stations_table
_VOTE_COLUMNS = (
    _C.c.id,
    _C.c.station_id,
    _C.c.at,
    _C.c.state,
    _C.c.device_hash,
    _C.c.onsite,
    _C.c.scheduled,
    _C.c.amenity,
)
#: Rows pulled again behind the highest id seen: ids are allocated before commit, so a slow
#: transaction can land below one already read (the board counts each id once).
LOOKBACK = 512


class ConfirmationRow(NamedTuple):
    """A stored vote: its id, its station and the vote."""

    id: int
    station_id: int
    vote: Vote


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _row(r: Any) -> ConfirmationRow:
    return ConfirmationRow(
        r.id,
        r.station_id,
        Vote(
            _utc(r.at).timestamp(), r.state, r.device_hash, bool(r.onsite), r.scheduled, r.amenity
        ),
    )


class PendingVote(NamedTuple):
    """A vote waiting for its transaction, with the phone's distance from the station."""

    station_id: int
    vote: Vote
    distance_m: float | None


#: What a stored vote gives back: its row, and its station's votes of the last window.
Recorded = tuple[ConfirmationRow, list[ConfirmationRow]]


def _too_soon(station_id: int, wait_s: float) -> TooManyRequests:
    wait = max(1, math.ceil(wait_s))
    return TooManyRequests(
        f"this device confirmed station {station_id} less than an hour ago; "
        f"one vote per station per hour (retry in {wait} s)",
        retry_after_s=wait,
        detail_zh=f"每个驿站一小时内只能确认一次，请 {math.ceil(wait / 60)} 分钟后再试",
    )


def _one(results: list[Recorded | Exception]) -> Recorded:
    (result,) = results
    if isinstance(result, Exception):
        raise result
    return result


def _live(conn: Connection, ids: set[int]) -> set[int]:
    wanted = sorted(i for i in ids if storable_id(i))
    if not wanted:
        return set()
    query = select(_S.c.id).where(_S.c.id.in_(wanted), _S.c.deleted_at.is_(None)).order_by(_S.c.id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(key_share=True)
    return set(conn.execute(query).scalars())


def write_votes(engine: Engine, batch: list[PendingVote]) -> list[Recorded | Exception]:
    """Store a batch of votes in one transaction; per vote its result or its refusal.

    A vote on a missing or deleted station gets ``NotFound``; a second vote of one device
    on one station within the hour (an earlier batch's, or an earlier one in this batch)
    gets ``TooManyRequests`` with the seconds left to wait. Each statement covers the whole
    batch: the live check, the claim, the insert and the read-back.
    """
    out: list[Recorded | Exception | None] = [None] * len(batch)
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        live = _live(conn, {p.station_id for p in batch})
        first: dict[tuple[int, str], int] = {}
        for i, p in enumerate(batch):
            if p.station_id not in live:
                out[i] = NotFound(f"station {p.station_id} not found")
                continue
            j = first.setdefault((p.station_id, p.vote.device), i)
            if j != i:
                out[i] = _too_soon(p.station_id, batch[j].vote.at + VOTE_INTERVAL_S - p.vote.at)
        claims = [batch[i] for i in first.values()]
        won: set[tuple[int, str]] = set()
        if claims:
            up = upsert(conn, _K).values(
                [
                    {
                        "station_id": p.station_id,
                        "device_hash": p.vote.device,
                        "last_at": _dt(p.vote.at),
                        "until": _dt(p.vote.at + VOTE_INTERVAL_S),
                    }
                    for p in claims
                ]
            )
            # Each row against its own time: the earlier vote's hour is over by this one's.
            stmt = up.on_conflict_do_update(
                index_elements=[_K.c.station_id, _K.c.device_hash],
                set_={"last_at": up.excluded.last_at, "until": up.excluded.until},
                where=_K.c.until <= up.excluded.last_at,
            ).returning(_K.c.station_id, _K.c.device_hash)
            won = {(s, d) for s, d in conn.execute(stmt)}
        lost = [k for k in first if k not in won]
        if lost:
            held = {
                (s, d): until
                for s, d, until in conn.execute(
                    select(_K.c.station_id, _K.c.device_hash, _K.c.until).where(
                        tuple_(_K.c.station_id, _K.c.device_hash).in_(lost)
                    )
                )
            }
            for key in lost:
                i = first[key]
                until = held.get(key)
                left = (
                    VOTE_INTERVAL_S if until is None else _utc(until).timestamp() - batch[i].vote.at
                )
                out[i] = _too_soon(key[0], left)
        winners = [i for i in first.values() if (batch[i].station_id, batch[i].vote.device) in won]
        if winners:
            ids = (
                conn.execute(
                    insert(_C).returning(_C.c.id, sort_by_parameter_order=True),
                    [_vote_row(batch[i]) for i in winners],
                )
                .scalars()
                .all()
            )
            since = min(batch[i].vote.at for i in winners) - WINDOW_S
            stations = sorted({batch[i].station_id for i in winners})
            recent: dict[int, list[ConfirmationRow]] = {s: [] for s in stations}
            for r in conn.execute(
                select(*_VOTE_COLUMNS)
                .where(_C.c.station_id.in_(stations), _C.c.at > _dt(since))
                .order_by(_C.c.id)
            ):
                recent[r.station_id].append(_row(r))
            for i, new_id in zip(winners, ids, strict=True):
                p = batch[i]
                window = [r for r in recent[p.station_id] if r.vote.at > p.vote.at - WINDOW_S]
                out[i] = (ConfirmationRow(new_id, p.station_id, p.vote), window)
    assert all(r is not None for r in out)
    return out  # type: ignore[return-value]


def _dt(at: float) -> datetime:
    return datetime.fromtimestamp(at, UTC)


def _vote_row(p: PendingVote) -> dict[str, Any]:
    v, d = p.vote, p.distance_m
    return {
        "station_id": p.station_id,
        "at": _dt(v.at),
        "state": v.state,
        "amenity": v.amenity,
        "device_hash": v.device,
        "onsite": v.onsite,
        "distance_m": None if d is None or not math.isfinite(d) else d,
        "scheduled": v.scheduled,
    }


class SqlConfirmationStore:
    """Confirmations beside a :class:`~stations.store.sql.SqlStationStore`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._salt: bytes | None = None
        self._writer: GroupCommitWriter[PendingVote, Recorded] | None = None
        self._writer_lock = threading.Lock()

    @classmethod
    def beside(cls, store: object) -> SqlConfirmationStore:
        """The confirmation store sharing a station store's database (and its engine)."""
        engine = getattr(store, "engine", None)
        if not isinstance(engine, Engine):
            raise ConfigurationError(f"{type(store).__name__} has no SQL engine for confirmations")
        return cls(engine)

    def salt(self) -> bytes:
        """The database's device-hash salt (made by migration 0003)."""
        if self._salt is None:
            t = trust_secrets_table
            with self.engine.connect() as conn:
                value = conn.execute(select(t.c.value).where(t.c.name == "device_salt")).scalar()
            if not value:
                raise ConfigurationError("the device salt is missing (migration 0003 not applied?)")
            self._salt = bytes.fromhex(value)
        return self._salt

    def record(
        self, station_id: int, vote: Vote, *, distance_m: float | None
    ) -> tuple[ConfirmationRow, list[ConfirmationRow]]:
        """Store ``vote``; returns it with the station's votes of the last window.

        Raises ``NotFound`` for a missing or deleted station and ``TooManyRequests`` when this
        device voted on this station less than an hour ago.
        """
        item = PendingVote(station_id, vote, distance_m)
        writer = self._group_writer()
        if writer is not None:
            return writer.submit(item)
        return _one(write_votes(self.engine, [item]))

    async def record_async(
        self, station_id: int, vote: Vote, *, distance_m: float | None
    ) -> tuple[ConfirmationRow, list[ConfirmationRow]]:
        """:meth:`record` for a coroutine (on SQLite it runs in a worker thread)."""
        item = PendingVote(station_id, vote, distance_m)
        writer = self._group_writer()
        if writer is not None:
            return await writer.submit_async(item)
        return _one(await asyncio.to_thread(write_votes, self.engine, [item]))

    def _group_writer(self) -> GroupCommitWriter[PendingVote, Recorded] | None:
        if self.engine.dialect.name != "postgresql":
            return None
        with self._writer_lock:
            if self._writer is None:
                engine = self.engine
                self._writer = GroupCommitWriter(
                    lambda batch: write_votes(engine, batch), name="confirmation-writer"
                )
            return self._writer

    def close(self) -> None:
        """Stop the group-commit writer thread, if one was started (queued votes are written)."""
        with self._writer_lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None

    def recent(self, now: float | None = None) -> list[ConfirmationRow]:
        """Every vote of the last window (what a process loads at start)."""
        now = datetime.now(UTC).timestamp() if now is None else now
        query = (
            select(*_VOTE_COLUMNS)
            .where(_C.c.at > datetime.fromtimestamp(now - WINDOW_S, UTC))
            .order_by(_C.c.id)
        )
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(query)]

    def since(self, last_id: int, now: float | None = None) -> list[ConfirmationRow]:
        """Votes with ids above ``last_id - LOOKBACK`` still in the window (the refresh)."""
        now = datetime.now(UTC).timestamp() if now is None else now
        query = (
            select(*_VOTE_COLUMNS)
            .where(
                _C.c.id > max(0, last_id - LOOKBACK),
                _C.c.at > datetime.fromtimestamp(now - WINDOW_S, UTC),
            )
            .order_by(_C.c.id)
        )
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(query)]

    def for_station(self, station_id: int, *, limit: int = 100) -> list[ConfirmationRow]:
        """A station's latest votes, newest first (the console)."""
        if not storable_id(station_id):
            return []
        query = (
            select(*_VOTE_COLUMNS)
            .where(_C.c.station_id == station_id)
            .order_by(_C.c.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(query)]

    def verified(self) -> dict[int, datetime | None]:
        """When staff last checked each live station (None: never)."""
        query = select(_S.c.id, _S.c.verified_at).where(_S.c.deleted_at.is_(None))
        with self.engine.connect() as conn:
            return {
                r.id: None if r.verified_at is None else _utc(r.verified_at)
                for r in conn.execute(query)
            }

    def mark_verified(self, station_id: int, at: datetime | None = None) -> datetime:
        """Record a staff check of a live station now; the record itself is unchanged."""
        at = at or datetime.now(UTC)
        if not storable_id(station_id):
            raise NotFound(f"station {station_id} not found")
        with self.engine.connect().execution_options(**WRITE) as conn, conn.begin():
            done = conn.execute(
                update(_S)
                .where(_S.c.id == station_id, _S.c.deleted_at.is_(None))
                .values(verified_at=at)
            )
        if done.rowcount != 1:
            raise NotFound(f"station {station_id} not found")
        return at

    def stations_with_votes(self, ids: Iterable[int]) -> set[int]:
        wanted = sorted({i for i in ids if storable_id(i)})
        found: set[int] = set()
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), 900):
                chunk = wanted[start : start + 900]
                found.update(
                    conn.execute(
                        select(_C.c.station_id).where(_C.c.station_id.in_(chunk))
                    ).scalars()
                )
        return found
