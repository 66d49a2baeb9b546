"""Writes by one process wake the catalogs of others (LISTEN/NOTIFY, SQLite data_version)."""

from __future__ import annotations

import threading
import time

from stations.store.sql import SqlStationStore
from tests.conftest import make_station


def test_wait_for_change_sees_a_write_from_another_connection(store_url: str) -> None:
    watcher = SqlStationStore(store_url)
    writer = SqlStationStore(store_url)
    assert watcher.wait_for_change(0.2) is False  # first call arms the watch
    timer = threading.Timer(0.3, lambda: writer.create(make_station(), actor="w"))
    started = time.monotonic()
    timer.start()
    assert watcher.wait_for_change(5.0) is True
    waited = time.monotonic() - started
    assert 0.2 < waited < 2.0
    assert watcher.wait_for_change(0.2) is False
    timer.join()
    watcher.close()
    writer.close()
