"""When the database stalls or goes away: bounded waits, one clear error, fast failure.

Every wait on the database has an end: connecting (``connect_s``), a statement
(``statement_s``, enforced by the server) and a lock (``lock_s``: PostgreSQL's
``lock_timeout``, SQLite's busy timeout), and — because a frozen server enforces nothing —
a client-side deadline on every answer from PostgreSQL (``statement_s + 2``), after which the
connection is closed and dropped from the pool. SQLite's statements are interrupted by a
progress handler at the same statement limit.

A connection-level failure (cannot connect, connection lost, no answer in time) opens a
:class:`Breaker` on the engine for ``retry_after_s``: while it is open, asking the engine for
a connection fails at once with :class:`StoreUnavailable` (a 503 with ``Retry-After`` in the
API) instead of tying up a thread for the full timeout. A probe (:func:`ping`, run by the
service's monitor) closes it as soon as the database answers again. Lock and statement
timeouts are contention, not an outage: they fail that one call and leave the breaker shut.
"""

from __future__ import annotations

import math
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy import exc as sa_exc

from stations.errors import StationsError
from stations.i18n import Message

__all__ = [
    "UNAVAILABLE_ERRORS",
    "Breaker",
    "StoreLimits",
    "StoreUnavailable",
    "breaker_of",
    "connect_bounded",
    "install_limits",
    "Pinger",
]

_BREAKERS: weakref.WeakKeyDictionary[Engine, Breaker] = weakref.WeakKeyDictionary()


class StoreUnavailable(StationsError):
    """The database cannot be reached, or did not answer in time: try again shortly."""

    status = 503
    title = "Service unavailable"

    def __init__(self, detail: str | Message, *, retry_after_s: float = 5.0) -> None:
        super().__init__(detail, retry_after_s=max(1, math.ceil(retry_after_s)))
        self.retry_after_s = retry_after_s


#: Errors that mean "the store did not answer" (mapped to 503 by the API): the driver's
#: operational errors (connection lost, lock or statement timeout, "database is locked") and
#: SQLAlchemy's own wait for a pooled connection.
UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    sa_exc.OperationalError,
    sa_exc.TimeoutError,
    sa_exc.InterfaceError,
)


@dataclass(frozen=True)
class StoreLimits:
    """How long any database call may wait (seconds), and the pools' sizes."""

    connect_s: float = 3.0
    statement_s: float = 10.0
    lock_s: float = 5.0
    #: Wait for a free pooled connection before answering 503.
    pool_wait_s: float = 2.0
    #: How long a connection-level failure keeps the breaker open (and ``Retry-After``).
    retry_after_s: float = 5.0
    pool_size: int = 5
    max_overflow: int = 5

    @property
    def answer_deadline_s(self) -> float:
        """Client-side limit on one answer from the server (past its own statement limit)."""
        return self.statement_s + 2.0


class Breaker:
    """Open after a connection-level failure: callers fail fast until a probe succeeds."""

    def __init__(self, retry_after_s: float) -> None:
        self.retry_after_s = retry_after_s
        self._open_until = 0.0
        self.last_error: str | None = None
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        """True while the breaker fails calls fast."""
        return time.monotonic() < self._open_until

    def trip(self, reason: str) -> None:
        """Open the breaker: the database is down (``reason`` is logged)."""
        with self._lock:
            self._open_until = time.monotonic() + self.retry_after_s
            self.last_error = reason

    def reset(self) -> None:
        """Close the breaker: the database answers again."""
        with self._lock:
            self._open_until = 0.0
            self.last_error = None

    def check(self) -> None:
        """Raise ``StoreUnavailable`` at once while the breaker is open."""
        if self.is_open:
            raise StoreUnavailable(
                Message(
                    "the database is unreachable ({reason}); retry shortly", reason=self.last_error
                ),
                retry_after_s=self.retry_after_s,
            )


def _deadline_connection_class(deadline_s: float) -> Any:
    """A psycopg connection whose every wait for the server ends after ``deadline_s``."""
    import psycopg
    import psycopg.connection
    from psycopg import errors as pg_errors

    interval = getattr(psycopg.connection, "_WAIT_INTERVAL", 0.1)

    class DeadlineConnection(psycopg.Connection):  # type: ignore[type-arg]
        def wait(self, gen: Any, interval: float = interval, timeout: float | None = None) -> Any:
            if timeout is not None:  # the caller's own bound (e.g. LISTEN's notifies)
                return super().wait(gen, interval, timeout)
            try:
                return super().wait(gen, interval, deadline_s)
            except pg_errors._WaitTimeout:
                # Mid-protocol: the connection cannot be reused. Closed, the pool drops it.
                self.pgconn.finish()
                raise psycopg.OperationalError(
                    f"the connection is lost: no answer from the database within {deadline_s:g} s"
                ) from None

    return DeadlineConnection


def _postgres_limits(engine: Engine, limits: StoreLimits) -> None:
    connection_class = _deadline_connection_class(limits.answer_deadline_s)
    settings = (
        f"-c statement_timeout={int(limits.statement_s * 1000)} "
        f"-c lock_timeout={int(limits.lock_s * 1000)} "
        f"-c idle_in_transaction_session_timeout={int(limits.answer_deadline_s * 3000)}"
    )

    @event.listens_for(engine, "do_connect")
    def _connect(_dialect: Any, _record: Any, cargs: Any, cparams: dict[str, Any]) -> Any:
        # libpq counts connect_timeout in whole seconds and takes 2 as its least.
        cparams.setdefault("connect_timeout", max(2, math.ceil(limits.connect_s)))
        cparams["options"] = f"{cparams.get('options', '')} {settings}".strip()
        return connection_class.connect(*cargs, **cparams)


def _sqlite_limits(engine: Engine, limits: StoreLimits) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={int(limits.lock_s * 1000)}")
        cursor.close()
        deadline = [math.inf]
        record.info["stations_deadline"] = deadline
        # Called every 10,000 VM steps: a non-zero answer interrupts the statement.
        dbapi_connection.set_progress_handler(lambda: time.monotonic() > deadline[0], 10_000)

    def _set(conn: Any, value: float) -> None:
        record = getattr(conn.connection, "_connection_record", None)
        deadline = record.info.get("stations_deadline") if record is not None else None
        if deadline is not None:
            deadline[0] = value

    @event.listens_for(engine, "before_cursor_execute")
    def _start(conn: Any, *_args: Any) -> None:
        _set(conn, time.monotonic() + limits.statement_s)

    # The limit is one statement's: lifted once it is done (or failed), so the connection's
    # next use outside SQLAlchemy's execute (a raw PRAGMA, a commit) is not interrupted.
    @event.listens_for(engine, "after_cursor_execute")
    def _done(conn: Any, *_args: Any) -> None:
        _set(conn, math.inf)

    @event.listens_for(engine, "handle_error")
    def _failed(context: Any) -> None:
        if context.connection is not None:
            _set(context.connection, math.inf)

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        deadline = record.info.get("stations_deadline") if record is not None else None
        if deadline is not None:
            deadline[0] = math.inf


def install_limits(engine: Engine, limits: StoreLimits, breaker: Breaker | None = None) -> Breaker:
    """Bound every wait of ``engine`` and guard it with ``breaker`` (a new one by default;
    the read and write engines of one store share theirs).
    """
    breaker = breaker or Breaker(limits.retry_after_s)
    _BREAKERS[engine] = breaker

    @event.listens_for(engine, "do_connect")
    def _before_connecting(*_args: Any) -> None:
        breaker.check()  # a new connection to a database known to be down: fail at once

    if engine.dialect.name == "postgresql":
        _postgres_limits(engine, limits)
    else:
        _sqlite_limits(engine, limits)

    @event.listens_for(engine, "engine_connect")
    def _fail_fast(_conn: Any) -> None:
        breaker.check()

    @event.listens_for(engine, "handle_error")
    def _outage(context: Any) -> None:
        if context.is_disconnect or context.connection is None:
            breaker.trip(type(context.original_exception).__name__)

    return breaker


def breaker_of(engine: Engine) -> Breaker | None:
    """The breaker guarding ``engine`` (None for an engine made without limits)."""
    return _BREAKERS.get(engine)


class Pinger:
    """Asks the database ``SELECT 1``: raises unless it answers within about ``timeout_s``.

    Used by the service's monitor, past the breaker (it is how the breaker learns the
    database is back): a connection of its own, never one from the pools. On PostgreSQL the
    connection is kept between probes: a new one every half second per worker was a server
    process started and ended each time. A kept connection that fails (the server restarted
    and dropped it) is replaced by a fresh one at once, so only a database that a fresh
    connection cannot reach counts as down.
    """

    def __init__(self, engine: Engine, *, timeout_s: float = 0.8) -> None:
        self.engine = engine
        self.timeout_s = timeout_s
        self._conn: Any = None

    def __call__(self) -> None:
        """One probe; raises what the database (or the way to it) did wrong."""
        if self.engine.dialect.name != "postgresql":
            self._sqlite()
            return
        if self._conn is not None:
            try:
                self._conn.execute("SELECT 1")
                return
            except Exception:  # dropped or stuck: a fresh connection decides
                self.close()
        conn = connect_bounded(self.engine, self.timeout_s)
        try:
            conn.execute("SELECT 1")
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    def _sqlite(self) -> None:
        import sqlite3

        conn = sqlite3.connect(self.engine.url.database or ":memory:", timeout=self.timeout_s)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            conn.close()

    def close(self) -> None:
        """Give the kept connection back (the monitor stopped, or it failed)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # a broken connection may fail to close; it is gone either way
                pass


def connect_bounded(engine: Engine, deadline_s: float) -> Any:
    """A psycopg connection (autocommit) outside the pools, every wait bounded by
    ``deadline_s`` (connecting: libpq's least, 2 s, if larger).
    """
    conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    cls = _deadline_connection_class(deadline_s)
    return cls.connect(conninfo, connect_timeout=max(2, math.ceil(deadline_s)), autocommit=True)
