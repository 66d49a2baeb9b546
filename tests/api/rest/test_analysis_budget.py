"""The analysis budget: sizes refused before any work, runs stopped at their time limit or
when the client leaves, answers reused — and the service process never does the work."""

from __future__ import annotations

import multiprocessing
import resource
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from stations.store.sql import SqlStationStore
from tests.api.staff_kit import Staff, add_staff, test_settings
from tests.conftest import make_station


def _square(west: float, south: float, size: float) -> dict[str, Any]:
    ring = [[west, south], [west + size, south], [west + size, south + size],
            [west, south + size], [west, south]]  # fmt: skip
    return {"type": "Polygon", "coordinates": [ring]}


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _workers() -> list[Any]:
    return multiprocessing.active_children()


@pytest.fixture(scope="module")
def served(module_store_url: str) -> Iterator[tuple[TestClient, Staff]]:
    store = SqlStationStore(module_store_url)
    for i in range(5):
        store.create(make_station(lon=116.49 + i / 100, lat=39.79 + i / 200), actor="seed")
    staff = add_staff(store)
    app = create_app(test_settings(analysis_time_limit_s=3.0), store=store)
    with TestClient(app) as client:
        yield client, staff
    store.close()


def test_a_continent_sized_plan_is_refused_before_any_work(
    served: tuple[TestClient, Staff],
) -> None:
    client, staff = served
    body = {"new_sites": 5, "resolution": 8, "area": _square(110, 25, 10)}
    rss = _peak_rss_mb()
    started = time.perf_counter()
    anonymous = client.post("/api/v1/plan", json=body)
    signed_in = client.post("/api/v1/plan", json=body, headers=staff.as_viewer)
    assert time.perf_counter() - started < 5  # before: 28 s and 851 MB
    assert _peak_rss_mb() - rss < 100
    # Over even the staff ceiling: 413 for everyone, saying what and by how much.
    for response in (anonymous, signed_in):
        assert response.status_code == 413, response.text
        fields = {e["field"] for e in response.json()["errors"]}
        assert "area" in fields  # 1.1 million km² (1.5 million cells at resolution 8)
        assert all(e["message_zh"] for e in response.json()["errors"])


def test_a_district_sized_plan_needs_a_staff_token_past_the_anonymous_limits(
    served: tuple[TestClient, Staff],
) -> None:
    client, staff = served
    candidates = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": {"type": "Point",
             "coordinates": [116.45 + (i % 100) / 1000, 39.75 + (i // 100) / 1000]},
             "properties": {}}
            for i in range(6_000)
        ],
    }  # fmt: skip
    body = {"new_sites": 2, "resolution": 8, "candidates": candidates, "method": "greedy"}
    started = time.perf_counter()
    response = client.post("/api/v1/plan", json=body)
    assert time.perf_counter() - started < 10
    assert response.status_code == 403, response.text
    assert "staff token" in response.json()["detail"]
    # With a staff token (any role) the same question is within budget: it runs (and may
    # meet this app's 3 s limit on a busy machine).
    signed_in = client.post("/api/v1/plan", json=body, headers=staff.as_viewer)
    assert signed_in.status_code in (200, 503), signed_in.text
    # Resolution 11 over 5,000 km² would be 2.4 million cells: more than anyone may ask.
    big = client.get("/api/v1/coverage", params={"resolution": 11}, headers=staff.as_viewer)
    assert big.status_code in (200, 413)


def test_a_run_past_its_time_limit_is_stopped(served: tuple[TestClient, Staff]) -> None:
    client, _staff = served
    started = time.perf_counter()
    # Resolution 11 over E-Town with many sites: far more than the 3 s this app allows.
    response = client.post(
        "/api/v1/plan", json={"new_sites": 200, "resolution": 11, "method": "exact"}
    )
    took = time.perf_counter() - started
    assert response.status_code == 503, response.text
    assert int(response.headers["retry-after"]) >= 1
    assert took < 3.0 + 10  # the limit, plus generous room to stop the worker
    deadline = time.monotonic() + 10
    while _workers():
        assert time.monotonic() < deadline, "the stopped worker is still running"
        time.sleep(0.1)


def test_the_same_question_is_answered_once(served: tuple[TestClient, Staff]) -> None:
    client, _staff = served
    params = {"radius_m": 700, "resolution": 8}
    started = time.perf_counter()
    first = client.get("/api/v1/coverage", params=params)
    computed = time.perf_counter() - started
    started = time.perf_counter()
    again = client.get("/api/v1/coverage", params=params)
    reused = time.perf_counter() - started
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert reused < computed  # no worker started the second time


def test_a_client_that_leaves_stops_its_run(module_store_url: str) -> None:
    import uvicorn

    store = SqlStationStore(module_store_url)
    app = create_app(test_settings(analysis_time_limit_s=120.0), store=store)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while not server.started:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        body = b'{"new_sites": 200, "resolution": 11, "method": "exact"}'
        with socket.create_connection(("127.0.0.1", port)) as conn:
            conn.sendall(
                b"POST /api/v1/plan HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            deadline = time.monotonic() + 30
            while not _workers():
                assert time.monotonic() < deadline, "no worker started"
                time.sleep(0.05)
        # The client has gone: its worker is stopped well before the 120 s limit.
        deadline = time.monotonic() + 10
        while _workers():
            assert time.monotonic() < deadline, "the worker outlived its client"
            time.sleep(0.1)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        store.close()
