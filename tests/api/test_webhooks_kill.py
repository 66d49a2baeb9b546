"""Webhooks across a kill -9: the service dies mid-stream, restarts, and the receiver on
localhost ends up with every change exactly once (dropping a repeated ``Webhook-Id``), in
feed order. Writes go through the API while the service dies and comes back."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from stations.feed import decode_cursor, encode_cursor
from stations.store.sql import SqlStationStore
from stations.store.webhooks import SqlWebhookStore
from tests.api.server_process import is_up, serve, wait_for
from tests.api.staff_kit import add_staff
from tests.maps.conftest import _free_port
from tests.stations.feed.webhook_receiver import Receiver

WRITES = 120


def _serve(url: str, port: int) -> subprocess.Popen[bytes]:
    return serve(url, port, STATIONS_WEBHOOK_LEASE_S="2", STATIONS_WEBHOOK_POLL_S="0.05")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def test_every_change_once_in_order_across_kill_9(store_url: str, receiver: Receiver) -> None:
    store = SqlStationStore(store_url)
    staff = add_staff(store)
    hooks = SqlWebhookStore.beside(store)
    _consumer, receiver.secret = hooks.add(receiver.url, actor="t", from_start=True)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    procs = [_serve(store_url, port)]
    written = {"ok": 0, "failed": 0}
    stop = threading.Event()

    def write() -> None:
        # Keeps writing through the API whatever the service is doing; a request that fails
        # while it is down may or may not have committed: the feed says which.
        with httpx.Client(base_url=base, headers=staff.as_editor, timeout=5) as client:
            i = 0
            while written["ok"] < WRITES and not stop.is_set():
                body = {"name": f"驿站{i}", "lon": 116.5 + i * 1e-4, "lat": 39.79}
                try:
                    r = client.post("/api/v1/stations", json=body)
                    written["ok" if r.status_code == 201 else "failed"] += 1
                except httpx.HTTPError:
                    written["failed"] += 1
                    time.sleep(0.05)
                i += 1

    try:
        wait_for(lambda: is_up(base))
        writer = threading.Thread(target=write)
        writer.start()
        wait_for(lambda: len(receiver.changes()) >= 40)
        os.killpg(procs[0].pid, signal.SIGKILL)  # kill -9: no shutdown, no lease released
        procs[0].wait(10)
        delivered_at_kill = len(receiver.changes())
        time.sleep(0.5)
        procs.append(_serve(store_url, port))
        wait_for(lambda: is_up(base))
        writer.join(180)
        head = store.feed_head()
        wait_for(lambda: len(receiver.changes()) >= head)
    finally:
        stop.set()
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(10)
    feed = store.feed(0, 10_000)
    got = receiver.changes()
    assert [e["cursor"] for e in got] == [encode_cursor(h.seq or 0) for h in feed]
    assert [e["station_id"] for e in got] == [h.station_id for h in feed]
    assert delivered_at_kill < len(feed)  # the kill really came mid-stream
    assert written["ok"] == WRITES and len(feed) >= WRITES
    # Entries only ever arrive in feed order: a POST starts after the last recorded one, so
    # anything older than the newest entry received is a repeat of one already held.
    newest, held = 0, set()
    for batch in receiver.batches:
        for e in batch["changes"]:
            position = decode_cursor(e["cursor"])
            assert position > newest or e["cursor"] in held
            newest = max(newest, position)
            held.add(e["cursor"])
    assert receiver.bad_signatures == 0
    store.close()
