"""Riders' confirmations across a kill -9 of the service (PostgreSQL, group commit): every
confirmation answered 201 is in the table afterwards, whatever was in flight."""

from __future__ import annotations

import threading

import httpx
import pytest
from sqlalchemy import select

from stations.store.schema import confirmations_table
from stations.store.sql import SqlStationStore
from tests.api.server_process import kill_mid_burst, serve
from tests.conftest import make_station
from tests.maps.conftest import _free_port


@pytest.mark.postgres
def test_every_acknowledged_confirmation_survives_kill_9(pg_schema_url: str) -> None:
    store = SqlStationStore(pg_schema_url)
    ids = [
        store.create(make_station(name=f"驿站{i}", lon=116.5 + i * 0.001), actor="t").id
        for i in range(20)
    ]
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    proc = serve(
        pg_schema_url,
        port,
        STATIONS_CONFIRM_PER_HOUR="0",
        STATIONS_RATE_LIMIT_PER_MINUTE=str(10**9),
    )
    acked: list[int] = []
    sent = [0]
    lock = threading.Lock()

    def fire(worker: int, stop: threading.Event) -> None:
        with httpx.Client(base_url=base, timeout=5) as client:
            n = 0
            while not stop.is_set():
                n += 1
                sid = ids[(worker + n) % len(ids)]
                try:
                    r = client.post(
                        f"/api/v1/stations/{sid}/confirmations",
                        json={"state": "open", "lat": 39.7954, "lon": 116.5 + (sid - 1) * 0.001},
                        headers={"X-Device-Id": f"kill-{worker}-{n}-device"},
                    )
                except httpx.HTTPError:
                    return  # the service is gone
                with lock:
                    sent[0] += 1
                    if r.status_code == 201:
                        acked.append(r.json()["id"])

    kill_mid_burst(proc, base, fire, until=lambda: len(acked) >= 150)
    with store.engine.connect() as conn:
        stored = set(conn.execute(select(confirmations_table.c.id)).scalars())
    store.close()
    assert len(acked) >= 150 and len(set(acked)) == len(acked)
    assert set(acked) <= stored  # nothing acknowledged was lost
