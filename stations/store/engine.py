"""Engines and migrations for the two supported databases.

SQLite is the embedded default: one file, WAL mode so readers never wait for the writer,
a busy timeout instead of immediate "database is locked" errors, and ``BEGIN IMMEDIATE`` for
write transactions so two writers queue up rather than deadlock on a lock upgrade. Both
engines bound every wait (``stations.store.outage``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from stations.store.outage import Breaker, StoreLimits, install_limits

__all__ = ["make_engine", "migrate", "upsert", "WRITE"]

#: Execution option that marks a connection as about to write (SQLite: BEGIN IMMEDIATE).
WRITE = {"stations_write": True}

_MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own is too late/lazy).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get("stations_write"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


def make_engine(
    url: str,
    *,
    limits: StoreLimits | None = None,
    breaker: Breaker | None = None,
    **kwargs: Any,
) -> Engine:
    """Create an engine for ``url`` (``sqlite:///path`` or ``postgresql+psycopg://…``).

    Every wait on it is bounded by ``limits`` (defaults: ``StoreLimits()``), and it fails
    fast while ``breaker`` is open (see ``stations.store.outage``).
    """
    limits = limits or StoreLimits()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            kwargs.setdefault("pool_timeout", limits.pool_wait_s)
        engine = create_engine(url, connect_args={"timeout": limits.lock_s}, **kwargs)
        _sqlite_setup(engine)
    else:
        kwargs.setdefault("pool_timeout", limits.pool_wait_s)
        kwargs.setdefault("pool_pre_ping", True)
        kwargs.setdefault("pool_size", limits.pool_size)
        kwargs.setdefault("max_overflow", limits.max_overflow)
        engine = create_engine(url, **kwargs)
    install_limits(engine, limits, breaker)
    return engine


def migrate(engine: Engine) -> None:
    """Apply pending Alembic migrations; the service and the CLI call this on start."""
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with engine.connect().execution_options(**WRITE) as connection:
        if engine.dialect.name == "postgresql":
            # Two workers starting together must not both run the migrations.
            with connection.begin():
                connection.exec_driver_sql("SELECT pg_advisory_xact_lock(727274)")
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        else:
            with connection.begin():
                config.attributes["connection"] = connection
                command.upgrade(config, "head")


def upsert(conn: Connection, table: Any) -> Any:
    """The dialect's ``INSERT`` (with ``on_conflict_do_update``) for ``conn``."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)
