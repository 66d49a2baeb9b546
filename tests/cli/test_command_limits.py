"""Commands wait longer on the database than the service does: a national import or a year's
report runs for minutes, and the service's 10 s statement limit (there to answer riders 503
instead of hanging) cancelled such a COPY on PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from cli.common import open_configured_store, settings


def test_commands_use_their_own_statement_limit(
    monkeypatch: pytest.MonkeyPatch, store_url: str, engine: str
) -> None:
    monkeypatch.setenv("STATIONS_DATABASE_URL", store_url)
    monkeypatch.setenv("STATIONS_DB_STATEMENT_TIMEOUT_S", "10")
    monkeypatch.setenv("STATIONS_CLI_STATEMENT_TIMEOUT_S", "1234")
    assert settings().store_limits().statement_s == 10  # what `stations serve` uses
    store = open_configured_store()
    try:
        if engine == "postgres":
            with store.engine.connect() as conn:
                assert conn.execute(text("SHOW statement_timeout")).scalar() == "1234s"
        else:  # SQLite: the limit is the store's own progress-handler deadline
            assert store.limits.statement_s == 1234
    finally:
        store.close()
