"""kill -9 in the middle of a 50,000-row import, three times: all or nothing, and the service
starts cleanly afterwards.

Each round runs the real command (``stations import FILE``) in a subprocess, waits until its
write transaction is open (SQLite: another connection cannot take the write lock; PostgreSQL:
the importer's session is inserting), lets it run a random while longer and SIGKILLs it. The
store must then hold either none or all of that file's rows — never part — and reopen (and
on SQLite pass ``PRAGMA integrity_check``). Every round imports new external ids, so a round
whose import finished before the kill does not make the next one trivial.
"""

from __future__ import annotations

import csv
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import Engine, make_url

from api.app import create_app
from api.settings import Settings
from stations.store.schema import history_table, stations_table
from stations.store.sql import SqlStationStore
from tests.conftest import make_station

ROWS = 50_000
ROUNDS = 3


def _write_csv(path: Path, prefix: str) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(
            ["external_id", "name", "lon", "lat", "amenities", "opening_hours", "host_type"]
        )
        for i in range(ROWS):
            out.writerow(
                [
                    f"{prefix}-{i}",
                    f"{prefix}驿站{i}",
                    116.2 + (i % 250) * 0.002,
                    39.6 + (i // 250) * 0.001,
                    "热水;手机充电",
                    "Mo-Su 08:00-20:00",
                    "express_depot",
                ]
            )


def _sqlite_writing(url: str) -> Callable[[], bool]:
    path = make_url(url).database

    def writing() -> bool:
        probe = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError:  # "database is locked": the import holds the lock
            return True
        finally:
            probe.close()

    return writing


def _postgres_writing(engine: Engine, app_name: str) -> Callable[[], bool]:
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = :name "
        "AND xact_start IS NOT NULL AND (query ILIKE 'insert%' "
        "OR query ILIKE 'copy%' OR query ILIKE 'lock table%')"
    )

    def writing() -> bool:
        with engine.connect() as conn:
            return bool(conn.execute(query, {"name": app_name}).scalar_one())

    return writing


def _counts(url: str, prefix: str) -> tuple[int, int, int]:
    """(all stations, this file's stations, this file's history rows)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(stations_table)).scalar_one()
            mine = conn.execute(
                select(func.count())
                .select_from(stations_table)
                .where(stations_table.c.external_id.like(f"{prefix}-%"))
            ).scalar_one()
            logged = conn.execute(
                select(func.count())
                .select_from(history_table)
                .where(history_table.c.action == "import", history_table.c.actor == "cli-import")
            ).scalar_one()
            if engine.dialect.name == "sqlite":
                assert conn.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
    finally:
        engine.dispose()
    return int(total), int(mine), int(logged)


def test_killed_import_leaves_all_or_nothing(
    engine: str, store_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    app_name = "import-crash-" + uuid.uuid4().hex[:8]
    if engine == "sqlite":
        url = store_url
        writing = _sqlite_writing(url)
    else:
        base = store_url
        url = f"{base}&application_name={app_name}"
        probe = create_engine(base)
        request.addfinalizer(probe.dispose)
        writing = _postgres_writing(probe, app_name)
    store = SqlStationStore(url)
    store.create(make_station(external_id="BEFORE-1"), actor="t")
    store.close()
    rng = random.Random(20261124)
    env = dict(os.environ, STATIONS_DATABASE_URL=url)
    cut_mid_transaction = 0
    expected_total = 1
    for round_no in range(ROUNDS):
        prefix = f"R{round_no}"
        sheet = tmp_path / f"{prefix}.csv"
        _write_csv(sheet, prefix)
        proc = subprocess.Popen(
            [sys.executable, "-c", "from cli import main; main()", "import", str(sheet)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 120
            while not writing():
                assert proc.poll() is None, "the import ended before it began writing"
                assert time.monotonic() < deadline, "the import never began writing"
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 1.0))  # the transaction takes seconds at this size
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.kill()
            proc.wait(timeout=30)
        total, mine, _logged = _counts(url, prefix)
        assert mine in (0, ROWS), f"round {round_no}: partial import ({mine} of {ROWS} rows)"
        assert total == expected_total + mine
        expected_total = total
        cut_mid_transaction += mine == 0
    assert cut_mid_transaction >= 1, "no kill landed inside the write transaction"
    # history and stations agree: one import row per imported station, nothing dangling
    assert _counts(url, "R")[2] == expected_total - 1
    # the service starts cleanly on what is left
    store = SqlStationStore(url)
    try:
        with TestClient(
            create_app(Settings(redis_url=None, refresh_interval_s=0.05), store=store)
        ) as client:
            health = client.get("/healthz").json()
            assert health["status"] == "ok" and health["stations"] == expected_total
            assert client.get("/readyz").status_code == 200
    finally:
        store.close()
