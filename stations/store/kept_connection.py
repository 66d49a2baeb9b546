"""A group writer's connection kept between batches (PostgreSQL, psycopg).

A group-commit writer (:class:`~stations.store.group_commit.GroupCommitWriter`) that writes
each batch as ONE statement does best on a connection it keeps while items come: no pool
checkout and ping per batch, and, in autocommit, no BEGIN and COMMIT round trips (one
statement is one transaction). The statement is prepared once per connection. The writer
gives the connection back when it has been idle (:meth:`KeptConnection.release`, its idle
hook), so a quiet process holds none.

As SQLAlchemy would: the store's breaker is checked before each batch (a database known to
be down fails at once), a driver error reaches the callers as SQLAlchemy's exception (the
API's 503 for an operational one), and a broken connection is dropped from the pool and
trips the breaker.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from sqlalchemy import exc as sa_exc

from stations.store.outage import breaker_of

__all__ = ["KeptConnection"]


class KeptConnection:
    """Runs one statement at a time, prepared and in autocommit, on a kept pooled connection."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._pooled: Any = None  # SQLAlchemy's pooled DBAPI connection, while kept

    def _connection(self) -> Any:
        """The kept psycopg connection (taken from the pool now if none), breaker checked."""
        breaker = breaker_of(self.engine)
        if breaker is not None:
            breaker.check()
        if self._pooled is None:
            self._pooled = self.engine.raw_connection()
            self._pooled.driver_connection.autocommit = True
        return self._pooled.driver_connection

    def _execute(self, sql: str, params: Any) -> list[tuple[Any, ...]]:
        """Run ``sql`` (psycopg's placeholders) as its own transaction; its rows."""
        import psycopg

        conn = self._connection()
        try:
            cur = conn.execute(sql, params, prepare=True)
            return cur.fetchall() if cur.description is not None else []
        except psycopg.Error as exc:
            raise self._failed(conn, exc, sql, params) from exc

    def _failed(self, conn: Any, exc: Exception, sql: str, params: Any) -> Exception:
        """SQLAlchemy's exception for a driver error; a broken connection is dropped from the
        pool and trips the breaker.
        """
        import psycopg

        broken = bool(conn.broken or conn.closed)
        if broken:
            if self._pooled is not None and self._pooled.driver_connection is conn:
                self._pooled.invalidate(exc)
                self._pooled = None
            breaker = breaker_of(self.engine)
            if breaker is not None:
                breaker.trip(type(exc).__name__)
        return sa_exc.DBAPIError.instance(
            sql, params, exc, psycopg.Error, hide_parameters=True, connection_invalidated=broken
        )

    def release(self) -> None:
        """Give the kept connection back to the pool (autocommit off again, as it lent it)."""
        pooled, self._pooled = self._pooled, None
        if pooled is None:
            return
        try:
            pooled.driver_connection.autocommit = False
        except Exception:  # a connection that cannot be reset is not lent again
            pooled.invalidate()
        pooled.close()
