"""The database stops, freezes or is locked while the service runs: writes answer 503 with
``Retry-After`` within the timeout on a connection that stays usable, nothing is half-written,
what is served from memory keeps answering, ``/readyz`` answers within a second and flips,
and everything works again once the database is back — without restarting the service.

PostgreSQL runs as a private cluster of this module (``initdb`` on a temporary folder, its own
port, as the ``postgres`` user because initdb refuses root), so it can be stopped, frozen
with SIGSTOP and restarted without touching the shared test server. SQLite is locked by
another process holding ``BEGIN EXCLUSIVE``.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from api.app import create_app
from stations.store.outage import StoreLimits
from stations.store.sql import SqlStationStore
from tests.api.staff_kit import Staff, add_staff, test_settings
from tests.conftest import make_station, require

PG_BIN = Path("/usr/lib/postgresql/15/bin")
LIMITS = StoreLimits(connect_s=2, statement_s=2, lock_s=1, pool_wait_s=1, retry_after_s=2)
#: A write must give up within the client deadline (statement + 2 s) plus generous slack.
WRITE_BOUND_S = LIMITS.answer_deadline_s + 4


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres(*args: str) -> list[str]:
    if os.geteuid() != 0:
        return list(args)
    return ["runuser", "-u", "postgres", "--", *args]


class Cluster:
    """A private PostgreSQL cluster that the tests stop, freeze and restart."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.data = folder / "data"
        self.port = _free_port()
        folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres", "postgres")
        subprocess.run(
            _as_postgres(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U",
                         "postgres", "--no-sync"),
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", options, "-l",
                         str(self.folder / "log"), "-w", "-t", "60", "start"),
            check=True, capture_output=True, timeout=90,
        )  # fmt: skip

    def stop(self) -> None:
        subprocess.run(
            _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                         "-w", "stop"),
            check=False, capture_output=True, timeout=90,
        )  # fmt: skip

    def _pids(self) -> list[int]:
        main = int((self.data / "postmaster.pid").read_text().split()[0])
        pids = [main]
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == main:
                pids.append(int(stat.parent.name))
        return pids

    def _signal(self, sig: signal.Signals) -> None:
        for pid in self._pids():
            try:
                os.kill(pid, sig)
            except ProcessLookupError:  # a backend that ended after the listing
                pass

    def freeze(self) -> None:
        self._signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self._signal(signal.SIGCONT)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    require((PG_BIN / "initdb").exists(), "PostgreSQL 15 server binaries")
    # Straight under /tmp: pytest's own temporary folders are closed to the postgres user.
    folder = Path(tempfile.mkdtemp(prefix="stations-pg-"))
    c = Cluster(folder)
    c.start()
    from sqlalchemy import create_engine, text

    admin = create_engine(c.url)
    with admin.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
    admin.dispose()
    try:
        yield c
    finally:
        c.thaw()
        c.stop()
        shutil.rmtree(folder, ignore_errors=True)


class Live:
    """The app under uvicorn in a thread, and one keep-alive HTTP connection to it."""

    def __init__(self, store: SqlStationStore, staff: Staff) -> None:
        import uvicorn

        self.staff = staff
        self.port = _free_port()
        app = create_app(
            test_settings(db_probe_interval_s=0.2, db_retry_after_s=LIMITS.retry_after_s),
            store=store,
        )
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            assert time.monotonic() < deadline and self.thread.is_alive(), "server did not start"
            time.sleep(0.05)
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def request(
        self, method: str, path: str, body: Any = None, *, editor: bool = False, conn: Any = None
    ) -> tuple[int, dict[str, str], Any, float]:
        """``(status, headers, decoded body, seconds)`` over the kept-alive connection."""
        conn = conn or self.conn
        headers = {"Content-Type": "application/json"}
        if editor:
            headers.update(self.staff.as_editor)
        started = time.monotonic()
        conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
        response = conn.getresponse()
        data = response.read()
        elapsed = time.monotonic() - started
        assert not response.will_close, "the server closed the keep-alive connection"
        kind = response.headers.get("content-type", "")
        return (
            response.status,
            dict(response.headers),
            json.loads(data) if "json" in kind else data,
            elapsed,
        )

    def patch(self, station_id: int, notes: str) -> tuple[int, dict[str, str], Any, float]:
        return self.request(
            "PATCH", f"/api/v1/stations/{station_id}", {"notes": notes}, editor=True
        )

    def wait_ready(self, ready: bool, within_s: float = 30) -> None:
        deadline = time.monotonic() + within_s
        while True:
            status, _h, _b, elapsed = self.request("GET", "/readyz")
            assert elapsed < 1.0, f"/readyz took {elapsed:.2f} s"
            if (status == 200) == ready:
                return
            assert time.monotonic() < deadline, f"/readyz never became {ready}"
            time.sleep(0.1)

    def close(self) -> None:
        self.conn.close()
        self.server.should_exit = True
        self.thread.join(timeout=30)


def _memory_reads_answer(live: Live, station_id: int) -> None:
    for path in (
        "/api/v1/nearest?lat=39.795&lon=116.507&k=3",
        f"/api/v1/stations/{station_id}",
        "/api/v1/stations?limit=5",
        "/livez",
    ):
        status, _h, _b, elapsed = live.request("GET", path)
        assert status == 200, path
        assert elapsed < 2.0, f"{path} took {elapsed:.2f} s while the store was down"


def _assert_503(result: tuple[int, dict[str, str], Any, float], bound_s: float) -> None:
    status, headers, body, elapsed = result
    assert status == 503, body
    assert headers["content-type"] == "application/problem+json"
    assert int(headers["retry-after"]) >= 1
    assert "retry" in body["detail"]
    assert elapsed < bound_s, f"503 after {elapsed:.1f} s"


def _setup(url: str) -> tuple[SqlStationStore, Staff, int]:
    store = SqlStationStore(url, limits=LIMITS)
    station = store.create(make_station(external_id="YZ-OUT", notes="0"), actor="seed")
    return store, add_staff(store), station.id


def _history_is_whole(store: SqlStationStore, station_id: int, accepted: int) -> None:
    """Every accepted write is there exactly once; nothing else (no half-written change)."""
    station = store.get(station_id)
    history = store.history(station_id)
    assert station.version == 1 + accepted == len(history)
    assert station.data.notes == str(accepted)


def test_postgres_stopped_frozen_and_restarted(cluster: Cluster) -> None:
    store, staff, sid = _setup(cluster.url)
    live = Live(store, staff)
    accepted = 0
    try:
        assert live.patch(sid, str(accepted + 1))[0] == 200
        accepted += 1
        live.wait_ready(True)

        # -- frozen (SIGSTOP): nothing answers, nothing refuses -------------------------
        cluster.freeze()
        try:
            _assert_503(live.patch(sid, "frozen"), WRITE_BOUND_S)
            _assert_503(live.patch(sid, "frozen"), 1.5)  # the breaker: no second wait
            _memory_reads_answer(live, sid)
            live.wait_ready(False)
            # 50 writes at once (each on its own connection) cannot starve the reads.
            with ThreadPoolExecutor(50) as pool:

                def write(_: int) -> int:
                    conn = http.client.HTTPConnection("127.0.0.1", live.port, timeout=60)
                    try:
                        return live.request(
                            "PATCH", f"/api/v1/stations/{sid}", {"notes": "x"}, editor=True,
                            conn=conn,
                        )[0]  # fmt: skip
                    finally:
                        conn.close()

                futures = [pool.submit(write, i) for i in range(50)]
                _memory_reads_answer(live, sid)
                assert {f.result() for f in futures} == {503}
        finally:
            cluster.thaw()
        live.wait_ready(True)
        assert live.patch(sid, str(accepted + 1))[0] == 200
        accepted += 1

        # -- stopped, then started again ---------------------------------------------------
        cluster.stop()
        _assert_503(live.patch(sid, "stopped"), WRITE_BOUND_S)
        _memory_reads_answer(live, sid)
        live.wait_ready(False)
        cluster.start()
        live.wait_ready(True)
        deadline = time.monotonic() + 20
        while (result := live.patch(sid, str(accepted + 1)))[0] != 200:
            assert result[0] == 503 and time.monotonic() < deadline, result
            time.sleep(0.2)
        accepted += 1
        # Every pooled connection works again (none left broken by the outage).
        for _ in range(2 * (LIMITS.pool_size + LIMITS.max_overflow)):
            assert live.request("GET", f"/api/v1/stations/{sid}/history", editor=True)[0] == 200
    finally:
        live.close()
    _history_is_whole(store, sid, accepted)
    store.close()


_LOCKER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
conn.execute("UPDATE stations SET notes = 'locker' WHERE id = -1")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
"""


def test_sqlite_behind_another_process_exclusive_lock(tmp_path: Path) -> None:
    path = tmp_path / "stations.db"
    store, staff, sid = _setup(f"sqlite:///{path}")
    live = Live(store, staff)
    accepted = 0
    try:
        assert live.patch(sid, "1")[0] == 200
        accepted += 1
        locker = subprocess.Popen(
            [sys.executable, "-c", _LOCKER, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert locker.stdout is not None and locker.stdout.readline().strip() == "locked"
            _assert_503(live.patch(sid, "locked"), LIMITS.lock_s + 4)
            _memory_reads_answer(live, sid)
            # WAL readers are not blocked by a writer's lock: the store can still be read.
            status, _h, _b, elapsed = live.request("GET", "/readyz")
            assert status == 200 and elapsed < 1.0
        finally:
            assert locker.stdin is not None
            locker.stdin.write("\n")
            locker.stdin.flush()
            locker.wait(timeout=30)
        assert live.patch(sid, "2")[0] == 200
        accepted += 1
    finally:
        live.close()
    _history_is_whole(store, sid, accepted)
    store.close()
