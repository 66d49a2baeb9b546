"""The monitor's probe connection: kept between probes on PostgreSQL, replaced when dropped.

A new connection every half second per worker would start and end a server process each
time; a kept one that the server dropped (a restart) must not make the database look down.
"""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import create_engine, text

from stations.store.outage import Pinger
from tests.conftest import postgres_url


def _backend_pid(pinger: Pinger) -> int:
    assert pinger._conn is not None
    return int(pinger._conn.execute("SELECT pg_backend_pid()").fetchone()[0])


def test_the_probe_keeps_one_connection_and_replaces_a_dropped_one() -> None:
    engine = create_engine(postgres_url())
    pinger = Pinger(engine, timeout_s=0.8)
    try:
        pinger()
        first = _backend_pid(pinger)
        pinger()
        assert _backend_pid(pinger) == first  # the same server process answered
        with engine.begin() as conn:  # the server drops it, as a restart would
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        pinger()  # no error: a fresh connection reached the database
        assert _backend_pid(pinger) != first
    finally:
        pinger.close()
        engine.dispose()
    assert pinger._conn is None


def test_a_database_no_fresh_connection_reaches_is_down() -> None:
    url = postgres_url().replace("127.0.0.1:5432", "127.0.0.1:9")  # nothing listens there
    if url == postgres_url():
        pytest.skip("the test database is not at 127.0.0.1:5432")
    pinger = Pinger(create_engine(url), timeout_s=0.5)
    with pytest.raises(psycopg.OperationalError):
        pinger()
    assert pinger._conn is None
