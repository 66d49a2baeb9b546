"""The webhook consumers' table: registry, delivery positions, failures and leases.

What a consumer is and which URLs are accepted is :mod:`stations.feed.webhooks`; signing and
sending are :mod:`stations.feed.delivery`. Every lease and position change is one
conditional UPDATE, atomic on both engines, so two delivery workers never send to one
consumer at once.
"""

from __future__ import annotations

import builtins
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update

from stations.errors import NotFound
from stations.feed.webhooks import Consumer, check_url
from stations.i18n import Message
from stations.store.repository import Repository
from stations.store.schema import change_clock_table, webhook_consumers_table

__all__ = ["SqlWebhookStore"]

_W = webhook_consumers_table


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _consumer(row: Any) -> Consumer:
    return Consumer(
        id=row.id,
        url=row.url,
        created_at=_utc(row.created_at) or datetime.now(UTC),
        created_by=row.created_by,
        disabled=row.disabled_at is not None,
        delivered_seq=row.delivered_seq,
        delivered_count=row.delivered_count,
        failures=row.failures,
        next_attempt_at=_utc(row.next_attempt_at),
        last_attempt_at=_utc(row.last_attempt_at),
        last_success_at=_utc(row.last_success_at),
        last_status=row.last_status,
        last_error=row.last_error,
        secret=row.secret,
    )


class SqlWebhookStore(Repository):
    """Consumers in the station store's database."""

    # -- registry ----------------------------------------------------------------------
    def add(self, url: str, *, actor: str, from_start: bool = False) -> tuple[Consumer, str]:
        """Register ``url``; returns the consumer and its signing secret (shown once).

        A new consumer gets changes committed from now on, or with ``from_start`` the whole
        feed (to build its copy from nothing).
        """
        url = check_url(url)
        secret = "whsec_" + secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        with self._write() as conn, conn.begin():
            head = 0
            if not from_start:
                head = conn.execute(
                    select(change_clock_table.c.value).where(change_clock_table.c.id == 1)
                ).scalar_one()
            new_id = conn.execute(
                insert(_W)
                .values(
                    url=url,
                    secret=secret,
                    created_at=now,
                    created_by=actor,
                    delivered_seq=head,
                    delivered_count=0,
                    failures=0,
                )
                .returning(_W.c.id)
            ).scalar_one()
        return self.get(new_id), secret

    def get(self, consumer_id: int) -> Consumer:
        """One consumer by id; ``NotFound`` if there is none."""
        with self.engine.connect() as conn:
            row = conn.execute(select(_W).where(_W.c.id == consumer_id)).first()
        if row is None:
            raise NotFound(Message("webhook {id} not found", id=consumer_id))
        return _consumer(row)

    def list(self) -> list[Consumer]:
        """Every consumer, oldest first."""
        with self.engine.connect() as conn:
            return [_consumer(r) for r in conn.execute(select(_W).order_by(_W.c.id))]

    def disable(self, consumer_id: int) -> Consumer:
        """Stop delivering to a consumer (kept, with its history)."""
        with self._write() as conn, conn.begin():
            done = conn.execute(
                update(_W)
                .where(_W.c.id == consumer_id, _W.c.disabled_at.is_(None))
                .values(disabled_at=datetime.now(UTC))
            )
        if done.rowcount != 1:
            self.get(consumer_id)  # NotFound, or already disabled (then fine)
        return self.get(consumer_id)

    # -- delivery ----------------------------------------------------------------------
    def due(self, now: datetime) -> builtins.list[Consumer]:
        """Enabled consumers whose back-off has passed and whose lease is free."""
        query = select(_W).where(
            _W.c.disabled_at.is_(None),
            (_W.c.next_attempt_at.is_(None)) | (_W.c.next_attempt_at <= now),
            (_W.c.lease_until.is_(None)) | (_W.c.lease_until < now),
        )
        with self.engine.connect() as conn:
            return [_consumer(r) for r in conn.execute(query.order_by(_W.c.id))]

    def claim(self, consumer_id: int, owner: str, lease: timedelta) -> Consumer | None:
        """Take the consumer's lease (one conditional UPDATE, atomic on both engines)."""
        now = datetime.now(UTC)
        with self._write() as conn, conn.begin():
            done = conn.execute(
                update(_W)
                .where(
                    _W.c.id == consumer_id,
                    _W.c.disabled_at.is_(None),
                    (_W.c.lease_until.is_(None))
                    | (_W.c.lease_until < now)
                    | (_W.c.lease_owner == owner),
                )
                .values(lease_owner=owner, lease_until=now + lease)
            )
            if done.rowcount != 1:
                return None
            row = conn.execute(select(_W).where(_W.c.id == consumer_id)).one()
        return _consumer(row)

    def _owned(self, conn: Connection, consumer_id: int, owner: str, **values: Any) -> bool:
        done = conn.execute(
            update(_W).where(_W.c.id == consumer_id, _W.c.lease_owner == owner).values(**values)
        )
        return done.rowcount == 1

    def delivered(self, consumer_id: int, owner: str, seq: int, count: int, status: int) -> bool:
        """Record a batch acknowledged by the receiver (only while holding the lease)."""
        now = datetime.now(UTC)
        with self._write() as conn, conn.begin():
            return self._owned(
                conn,
                consumer_id,
                owner,
                delivered_seq=seq,
                delivered_count=_W.c.delivered_count + count,
                failures=0,
                next_attempt_at=None,
                last_attempt_at=now,
                last_success_at=now,
                last_status=status,
                last_error=None,
            )

    def failed(
        self, consumer_id: int, owner: str, status: int | None, error: str, retry_at: datetime
    ) -> bool:
        """Record a failed attempt and when to try again; the position does not move."""
        with self._write() as conn, conn.begin():
            return self._owned(
                conn,
                consumer_id,
                owner,
                failures=_W.c.failures + 1,
                next_attempt_at=retry_at,
                last_attempt_at=datetime.now(UTC),
                last_status=status,
                last_error=error[:500],
                lease_owner=None,
                lease_until=None,
            )

    def release(self, consumer_id: int, owner: str) -> None:
        """Give up the lease so another sender may claim the consumer."""
        with self._write() as conn, conn.begin():
            self._owned(conn, consumer_id, owner, lease_owner=None, lease_until=None)
