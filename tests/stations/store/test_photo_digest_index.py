"""Migration 0014: the index on ``station_photos.digest`` comes and goes with the revision on
both engines, and the "was this photo published" query uses it."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from stations.store.engine import _MIGRATIONS, WRITE
from stations.store.sql import SqlStationStore

INDEX = "ix_station_photos_digest"
DIGEST = "ab" * 32


def _indexes(store: SqlStationStore) -> set[str]:
    return {i["name"] for i in inspect(store.engine).get_indexes("station_photos")}


def _plan(store: SqlStationStore) -> str:
    query = "SELECT id FROM station_photos WHERE digest = :d AND status = 'published' LIMIT 1"
    with store.engine.connect() as conn:
        if store.engine.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL enable_seqscan = off"))  # a tiny table: ask for it
            rows = conn.execute(text("EXPLAIN " + query), {"d": DIGEST})
        else:
            rows = conn.execute(text("EXPLAIN QUERY PLAN " + query), {"d": DIGEST})
        return " ".join(str(r[-1]) for r in rows)


def test_the_digest_index_upgrades_and_downgrades(store: SqlStationStore) -> None:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    before = ScriptDirectory.from_config(config).get_revision("0014").down_revision
    assert INDEX in _indexes(store)
    assert INDEX in _plan(store)
    with store.engine.connect().execution_options(**WRITE) as conn, conn.begin():
        config.attributes["connection"] = conn
        command.downgrade(config, str(before))
    assert INDEX not in _indexes(store)
    with store.engine.connect().execution_options(**WRITE) as conn, conn.begin():
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    assert INDEX in _indexes(store)
