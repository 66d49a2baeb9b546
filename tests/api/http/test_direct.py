"""The confirmations route answered from the edge answers as FastAPI's router would."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from stations.store.sql import SqlStationStore
from tests.api.staff_kit import test_settings
from tests.conftest import ENGINES, fresh_database, make_station

LON, LAT = 116.5068, 39.7954
PATH = "/api/v1/stations/{}/confirmations"
JSON = {"Content-Type": "application/json"}


def _tap(state: str, device: str, station: object = 1, **body: Any) -> dict[str, Any]:
    payload = {"state": state, "lat": LAT + 0.0002, "lon": LON, **body}
    return {
        "method": "POST",
        "url": PATH.format(station),
        "content": json.dumps(payload),
        "headers": {**JSON, "X-Device-Id": device},
    }


def _raw(station: object, content: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "method": "POST",
        "url": PATH.format(station),
        "content": content,
        "headers": {"X-Device-Id": "rider-phone-x1", **(headers or JSON)},
    }


#: Answers of every kind: stored (remote, on site, queued for review, compressed or not),
#: refused (the hour, a missing or deleted station), and every way a request can be wrong.
REQUESTS: list[dict[str, Any]] = [
    _tap("open", "rider-phone-01"),
    _tap("closed", "rider-phone-02"),
    _tap("locked", "rider-phone-03"),
    _tap("closed", "rider-phone-04"),  # the third contradicting device: queued
    _tap("closed", "rider-phone-05"),
    {
        **_tap("locked", "rider-phone-07"),
        "headers": {**JSON, "X-Device-Id": "rider-phone-07", "Accept-Encoding": "gzip"},
    },
    {
        **_tap("closed", "rider-phone-08"),
        "headers": {**JSON, "X-Device-Id": "rider-phone-08", "Accept-Encoding": "identity"},
    },
    _tap("open", "rider-phone-01"),  # the same device within the hour: 429
    _tap("broken", "rider-phone-09", amenity="热水"),
    _tap("broken", "rider-phone-10", amenity="jacuzzi"),
    _tap("open", "rider-phone-11", station=2, lat=LAT + 0.045),  # 5 km away: remote
    _tap("open", "rider-phone-12", station=2, crs="gcj02"),
    {**_tap("open", "rider-phone-13", station=2), "content": '{"state": "open"}'},
    _tap("open", "rider-phone-14", station=3),  # deleted
    _tap("open", "rider-phone-15", station=99),  # never existed
    _tap("open", "rider-phone-16", station="x"),
    _tap("open", "rider-phone-16", station="0"),
    _tap("open", "rider-phone-16", station="-1"),
    _tap("open", "rider-phone-16", station="01"),
    _tap("open", "rider-phone-16", station="9" * 30),
    _tap("open", "rider-phone-16", station="1.5"),
    _tap("maybe", "rider-phone-17"),
    _tap("open", "rider-phone-17", lat="39.8"),
    _tap("open", "rider-phone-17", lat=True),
    _tap("open", "rider-phone-17", lat=91),
    _tap("open", "rider-phone-17", crs="utm"),
    _tap("open", "rider-phone-17", extra=1),
    _tap("maybe", "rider-phone-17", station="x", lat=200),  # path and body: all errors at once
    {**_tap("open", "rider-phone-17"), "content": '{"state": "open", "lat": 39.8}'},
    _raw(1, "not json"),
    _raw(1, "[]"),
    _raw(1, '"open"'),
    _raw(1, "null"),
    _raw(1, ""),
    _raw(1, "[" * 100 + "]" * 100),  # too deep: the edge refuses it
    _raw(1, '{"state": "open", "x": "' + "a" * 6_000_000 + '"}'),  # too large: so does it
    _raw(1, '{"state": "open"}', {"Content-Type": "text/plain"}),
    _raw(1, '{"state": "open"}', {"Content-Type": "application/merge-patch+json"}),
    {**_tap("open", "x"), "headers": JSON},  # no device id
    {**_tap("open", "x"), "headers": {**JSON, "X-Device-Id": "bad id with spaces!"}},
    {"method": "GET", "url": PATH.format(1)},  # not the route's method: the router's 405
    {"method": "PUT", "url": PATH.format(1), "content": "{}", "headers": JSON},
    {**_tap("open", "rider-phone-18"), "url": PATH.format(1) + "/"},  # redirected, followed
    {**_tap("open", "rider-phone-18"), "url": "/api/v1/stations//confirmations"},
    {**_tap("open", "rider-phone-18"), "url": "/api/v1/stations/1/2/confirmations"},
    {**_tap("open", "rider-phone-19"), "url": PATH.format(1) + "?lat=1"},
]


@contextmanager
def _client(engine: str, folder: Path, settings: Settings, *, direct: bool) -> Iterator[TestClient]:
    with fresh_database(engine, folder) as url:
        store = SqlStationStore(url)
        store.create(make_station(name="荣华中路驿站", opening_hours="24/7"), actor="t")
        store.create(
            make_station(name="经海路驿站", lon=LON + 0.01, opening_hours="24/7"), actor="t"
        )
        store.create(make_station(name="已删除驿站", lon=LON + 0.02), actor="t")
        store.delete(3, actor="t")
        try:
            with TestClient(create_app(settings, store=store, direct=direct)) as client:
                yield client
        finally:
            store.close()


def _answers(client: TestClient, requests: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    out = []
    for r in requests:
        resp = client.request(**r)
        out.append((r["method"], r["url"], resp.status_code, resp.headers.raw, resp.content))
    return out


@pytest.mark.parametrize(
    ("limits", "requests"),
    [
        ({"confirm_per_hour": 0}, REQUESTS),
        # Six taps an hour from one address (and CORS on): the seventh on is refused with 429.
        (
            {"confirm_per_hour": 60, "cors_origins": ["https://rider.example"]},
            [
                {
                    **_tap("open", f"rider-phone-{i:02d}"),
                    "headers": {
                        **JSON,
                        "X-Device-Id": f"rider-phone-{i:02d}",
                        "Origin": "https://rider.example",
                    },
                }
                for i in range(9)
            ],
        ),
    ],
    ids=["answers", "limited"],
)
@pytest.mark.parametrize("engine", ENGINES)
def test_direct_route_answers_as_the_router(
    engine: str, tmp_path: Path, limits: dict[str, Any], requests: list[dict[str, Any]]
) -> None:
    """The same requests to two apps on two identical databases, one answering the
    confirmations from the edge and one through FastAPI's router: the same status, headers
    (security, CORS, Retry-After, compression) and body, request by request."""
    settings = test_settings(**limits)
    seen = []
    for direct in (True, False):
        with _client(engine, tmp_path, settings, direct=direct) as client:
            seen.append(_answers(client, requests))
    for one, other in zip(seen[0], seen[1], strict=True):
        assert one == other
    statuses = [a[2] for a in seen[0]]
    if limits["confirm_per_hour"]:
        assert statuses == [201] * 6 + [429] * 3
        return
    assert {201, 400, 404, 405, 413, 415, 422, 429} <= set(statuses)
    receipts = [json.loads(a[4]) for a in seen[0] if a[2] == 201]
    assert any(r["queued_for_review"] for r in receipts)
    assert any((b"content-encoding", b"gzip") in a[3] for a in seen[0] if a[2] == 201)
