"""Several worker processes: a write is seen by every worker's index within 1 s."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from stations.store.sql import SqlStationStore
from tests.conftest import make_station
from tests.maps.conftest import _free_port


@pytest.fixture
def two_workers(store_url: str) -> Iterator[tuple[str, str]]:
    SqlStationStore(store_url).close()  # migrate before the workers race to
    port = _free_port()
    env = dict(os.environ, STATIONS_DATABASE_URL=store_url)
    proc = subprocess.Popen(
        [sys.executable, "-c", "from api.cli import main; main()", "serve", "--workers", "2",
         "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        yield base, store_url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def _ready(base: str) -> dict:
    # A fresh connection each time, so the kernel spreads requests over both workers.
    with httpx.Client(timeout=5) as c:
        return c.get(base + "/readyz").json()


def test_write_reaches_both_workers_within_a_second(two_workers: tuple[str, str]) -> None:
    base, url = two_workers
    deadline = time.monotonic() + 60
    pids: set[int] = set()
    while len(pids) < 2:
        assert time.monotonic() < deadline, "two workers never answered"
        try:
            pids.add(_ready(base)["pid"])
        except httpx.HTTPError:
            time.sleep(0.2)
    store = SqlStationStore(url)
    station = store.create(make_station(name="新开驿站", lon=116.6, lat=39.7), actor="other")
    target = store.change_counter()
    written = time.monotonic()
    caught_up: dict[int, float] = {}
    while set(caught_up) != pids and time.monotonic() - written < 5:
        body = _ready(base)
        if body["index_counter"] >= target and body["pid"] not in caught_up:
            caught_up[body["pid"]] = time.monotonic() - written
    store.close()
    assert set(caught_up) == pids, f"workers that never saw the write: {pids - set(caught_up)}"
    assert max(caught_up.values()) < 1.0, caught_up
    with httpx.Client(timeout=5) as c:
        for _ in range(6):
            r = c.get(base + "/api/v1/nearest", params={"lat": 39.7, "lon": 116.6, "k": 1},
                      headers={"Connection": "close"})
            assert r.json()["features"][0]["id"] == station.id
