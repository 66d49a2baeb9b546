"""Check-ins across a kill -9 of the service (PostgreSQL, group commit): every check-in
answered 201 is a raw row afterwards, whatever was in flight."""

from __future__ import annotations

import threading
from datetime import datetime

import httpx
import pytest
from sqlalchemy import select

from stations.store.sql import SqlStationStore
from stations.store.visit_tables import checkins_table
from stations.store.visits import SqlVisitStore
from tests.api.server_process import kill_mid_burst, serve
from tests.conftest import make_station
from tests.maps.conftest import _free_port


@pytest.mark.postgres
def test_every_acknowledged_check_in_survives_kill_9(pg_schema_url: str) -> None:
    store = SqlStationStore(pg_schema_url)
    for i in range(20):
        store.create(make_station(name=f"驿站{i}", lon=116.5 + i * 0.001), actor="t")
    codes = list(SqlVisitStore.beside(store).codes().values())
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    proc = serve(
        pg_schema_url,
        port,
        STATIONS_CHECKIN_RATE_PER_HOUR="0",
        STATIONS_RATE_LIMIT_PER_MINUTE=str(10**9),
    )
    acked: list[tuple[int, datetime]] = []
    lock = threading.Lock()

    def fire(worker: int, stop: threading.Event) -> None:
        with httpx.Client(base_url=base, timeout=5) as client:
            n = 0
            while not stop.is_set():
                n += 1
                try:
                    r = client.post(
                        "/api/v1/checkins",
                        json={"code": codes[(worker + n) % len(codes)], "worker_type": "courier"},
                        headers={"X-Device-Id": f"kill-{worker}-{n}-device"},
                    )
                except httpx.HTTPError:
                    return  # the service is gone
                if r.status_code == 201:
                    body = r.json()
                    with lock:
                        acked.append((body["station_id"], datetime.fromisoformat(body["at"])))

    kill_mid_burst(proc, base, fire, until=lambda: len(acked) >= 150)
    with store.engine.connect() as conn:
        _R = checkins_table
        stored = set(conn.execute(select(_R.c.station_id, _R.c.at)).tuples())
    store.close()
    assert len(acked) >= 150 and len(set(acked)) == len(acked)
    assert set(acked) <= stored  # nothing acknowledged was lost
