"""SIGTERM to a real ``stations serve``: a quick request in flight still gets its answer, a
request stuck on the database is cut off, and the process is gone within the grace period."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from stations.store.sql import SqlStationStore
from tests.conftest import make_station

GRACE_S = 2
#: Exit bound: the grace period, plus generous room for a loaded machine to tear down.
EXIT_BOUND_S = GRACE_S + 8

_LOCKER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.readline()
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(db: Path, port: int) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "STATIONS_DATABASE_URL": f"sqlite:///{db}",
        "STATIONS_SHUTDOWN_GRACE_S": str(GRACE_S),
        # Long enough that the stuck write is still waiting when the grace period ends.
        "STATIONS_DB_LOCK_TIMEOUT_S": "60",
        "STATIONS_RATE_LIMIT_PER_MINUTE": "100000",
    }
    bin_dir = Path(sys.executable).parent
    process = subprocess.Popen(
        [str(bin_dir / "stations"), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 90
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process
        except OSError:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "stations serve did not start"
            time.sleep(0.2)


def _request(port: int, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request(
            method, path, body=None if body is None else json.dumps(body),
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_sigterm_ends_in_flight_work_within_the_grace_period(tmp_path: Path) -> None:
    db = tmp_path / "stations.db"
    store = SqlStationStore(f"sqlite:///{db}")
    sid = store.create(make_station(), actor="seed").id
    store.close()
    port = _free_port()
    server = _serve(db, port)
    locker = None
    try:
        assert _request(port, "GET", "/livez")[0] == 200
        locker = subprocess.Popen(
            [sys.executable, "-c", _LOCKER, str(db)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert locker.stdout is not None and locker.stdout.readline().strip() == "locked"
        stuck: dict[str, Any] = {}

        def write() -> None:  # an anonymous rider report: waits on the locked database
            try:
                stuck["answer"] = _request(
                    port, "POST", f"/api/v1/stations/{sid}/reports", {"kind": "closed"}
                )
            except Exception as exc:  # the connection is cut: that is the point
                stuck["error"] = exc

        writer = threading.Thread(target=write, daemon=True)
        writer.start()
        time.sleep(1.0)  # the write is inside the server, waiting for the lock
        assert writer.is_alive()
        started = time.monotonic()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=EXIT_BOUND_S + 30)
        took = time.monotonic() - started
        assert took < EXIT_BOUND_S, f"stations serve took {took:.1f} s to stop"
        writer.join(timeout=10)
        assert not writer.is_alive()
        # Cut off (no answer) or answered with an error — never left hanging.
        assert "error" in stuck or stuck["answer"][0] >= 500
    finally:
        if locker is not None:
            locker.kill()
            locker.wait()
        if server.poll() is None:
            server.kill()
            server.wait()
