"""Rider confirmations in the stations' database (migration 0003).

Writes are one transaction each: the station row is read (and on PostgreSQL locked, so two
taps of one device cannot both pass the once-an-hour check), the device's last vote on it is
looked up, the vote is inserted, and the station's recent votes come back for the rules —
all before commit. Nothing here touches the station itself or its history.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import Engine, func, insert, select, update

from stations.errors import ConfigurationError, NotFound, TooManyRequests
from stations.store.engine import WRITE
from stations.store.schema import (
    confirmations_table,
    stations_table,
    storable_id,
    trust_secrets_table,
)
from stations.trust.rules import VOTE_INTERVAL_S, WINDOW_S, Vote

__all__ = ["ConfirmationRow", "SqlConfirmationStore"]

_C = confirmations_table
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


class SqlConfirmationStore:
    """Confirmations beside a :class:`~stations.store.sql.SqlStationStore`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._salt: bytes | None = None

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
        at = datetime.fromtimestamp(vote.at, UTC)
        with self.engine.connect().execution_options(**WRITE) as conn, conn.begin():
            live = None
            if storable_id(station_id):
                query = select(_S.c.id).where(_S.c.id == station_id, _S.c.deleted_at.is_(None))
                if conn.dialect.name == "postgresql":
                    query = query.with_for_update(key_share=True)
                live = conn.execute(query).first()
            if live is None:
                raise NotFound(f"station {station_id} not found")
            last = conn.execute(
                select(func.max(_C.c.at)).where(
                    _C.c.device_hash == vote.device,
                    _C.c.station_id == station_id,
                    _C.c.at > datetime.fromtimestamp(vote.at - VOTE_INTERVAL_S, UTC),
                )
            ).scalar()
            if last is not None:
                wait = max(1, math.ceil(_utc(last).timestamp() + VOTE_INTERVAL_S - vote.at))
                raise TooManyRequests(
                    f"this device confirmed station {station_id} less than an hour ago; "
                    f"one vote per station per hour (retry in {wait} s)",
                    retry_after_s=wait,
                    detail_zh=f"每个驿站一小时内只能确认一次，请 {math.ceil(wait / 60)} 分钟后再试",
                )
            new_id = conn.execute(
                insert(_C)
                .values(
                    station_id=station_id,
                    at=at,
                    state=vote.state,
                    amenity=vote.amenity,
                    device_hash=vote.device,
                    onsite=vote.onsite,
                    distance_m=None
                    if distance_m is None or not math.isfinite(distance_m)
                    else distance_m,
                    scheduled=vote.scheduled,
                )
                .returning(_C.c.id)
            ).scalar_one()
            recent = conn.execute(
                select(*_VOTE_COLUMNS)
                .where(
                    _C.c.station_id == station_id,
                    _C.c.at > datetime.fromtimestamp(vote.at - WINDOW_S, UTC),
                )
                .order_by(_C.c.id)
            )
            rows = [_row(r) for r in recent]
        return ConfirmationRow(new_id, station_id, vote), rows

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
