"""Hardening: security headers everywhere, CORS allow-list, body-size and rate limits
(in-process and Redis), no stack traces, and access logs without precise rider positions."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from api.http.access_log import RoundCoordinates
from api.http.rate_limit import RateLimiter
from stations.store.sql import SqlStationStore
from tests.api.staff_kit import Staff, add_staff, test_settings
from tests.conftest import make_station, require

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def store(store_url: str) -> Iterator[SqlStationStore]:
    s = SqlStationStore(store_url)
    s.create(make_station(external_id="YZ-001"), actor="t")
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def staff(store: SqlStationStore) -> Staff:
    return add_staff(store)


def _app(store: SqlStationStore, **settings: Any) -> FastAPI:
    return create_app(test_settings(**settings), store=store)


# -- security headers ---------------------------------------------------------------------


def _boom() -> None:
    raise RuntimeError("database password is hunter2")


def test_security_headers_on_every_response(store: SqlStationStore, staff: Staff) -> None:
    app = _app(
        store,
        max_body_bytes=2000,
        rate_limit_per_minute=40,
        embed_frame_ancestors=["'self'", "https://partner.example"],
    )
    app.add_api_route("/boom", _boom)
    with TestClient(app, raise_server_exceptions=False) as client:
        responses = {
            "200": client.get("/api/v1/stations"),
            "404": client.get("/api/v1/stations/999"),
            "404-route": client.get("/no/such/page"),
            "405": client.put("/api/v1/nearest"),
            "422": client.get("/api/v1/stations", params={"bbox": "1,2"}),
            "401": client.post("/api/v1/stations", json={}),
            "413": client.post("/api/v1/stations", content=b"x" * 3000),
            "500": client.get("/boom"),
            "embed": client.get("/embed"),
            "docs": client.get("/docs"),
        }
        while (r := client.get("/api/v1/stations/1")).status_code != 429:
            pass
        responses["429"] = r
    for name, r in responses.items():
        assert r.headers["x-content-type-options"] == "nosniff", name
        assert r.headers["referrer-policy"] == "strict-origin-when-cross-origin", name
        csp = r.headers["content-security-policy"]
        assert "default-src 'self'" in csp, name
        if name == "embed":  # the page may set its own policy; framing follows the settings
            assert "frame-ancestors 'self' https://partner.example" in csp
            assert "x-frame-options" not in r.headers
        else:
            assert "object-src 'none'" in csp, name
            assert "frame-ancestors 'none'" in csp, name
            assert r.headers["x-frame-options"] == "DENY", name
        if name not in ("docs", "embed"):
            assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0], name
    assert responses["500"].status_code == 500
    body = responses["500"].text
    assert "hunter2" not in body and "Traceback" not in body and "RuntimeError" not in body
    assert responses["500"].headers["content-type"] == "application/problem+json"
    assert responses["413"].status_code == 413


# -- CORS ---------------------------------------------------------------------------------


def test_cors_allow_list(store: SqlStationStore) -> None:
    with TestClient(_app(store, cors_origins=["https://partner.example"])) as client:
        ok = client.get("/api/v1/stations", headers={"Origin": "https://partner.example"})
        assert ok.headers["access-control-allow-origin"] == "https://partner.example"
        assert "etag" in ok.headers["access-control-expose-headers"].lower()
        other = client.get("/api/v1/stations", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
        pre = client.options(
            "/api/v1/stations/1",
            headers={
                "Origin": "https://partner.example",
                "Access-Control-Request-Method": "PATCH",
                "Access-Control-Request-Headers": "authorization, if-match, content-type",
            },
        )
        assert pre.status_code == 200 and "PATCH" in pre.headers["access-control-allow-methods"]
        assert "if-match" in pre.headers["access-control-allow-headers"].lower()
    with TestClient(_app(store)) as client:  # default: same origin only
        r = client.get("/api/v1/stations", headers={"Origin": "https://partner.example"})
        assert "access-control-allow-origin" not in r.headers


def test_a_refusal_carries_cors_and_security_headers(store: SqlStationStore) -> None:
    app = _app(store, cors_origins=["https://partner.example"], rate_limit_per_minute=2)
    origin = {"Origin": "https://partner.example"}
    with TestClient(app) as client:
        codes = [client.get("/api/v1/stations", headers=origin) for _ in range(3)]
        preflight = client.options(  # answered before the rate limit counts it
            "/api/v1/stations/1",
            headers={**origin, "Access-Control-Request-Method": "PATCH"},
        )
    assert [r.status_code for r in codes] == [200, 200, 429]
    refused = codes[2]
    assert refused.headers["access-control-allow-origin"] == "https://partner.example"
    assert "retry-after" in refused.headers["access-control-expose-headers"].lower()
    assert refused.headers["x-frame-options"] == "DENY"
    assert preflight.status_code == 200
    assert preflight.headers["x-content-type-options"] == "nosniff"


# -- request size -------------------------------------------------------------------------


def test_body_size_limit_by_length_stream_and_upload(store: SqlStationStore, staff: Staff) -> None:
    with TestClient(_app(store, max_body_bytes=1000)) as client:
        big = {"kind": "other", "text": "x" * 480, "pad": "y" * 1000}
        r = client.post("/api/v1/stations/1/reports", json=big)
        assert r.status_code == 413
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["detail_zh"] == "请求内容超过 1000 字节，请减小后再发送"  # riders read it

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
            yield b'{"name": "'
            for _ in range(20):
                yield b"z" * 100
            yield b'", "lon": 116.5, "lat": 39.8}'

        r = client.post(
            "/api/v1/stations",
            content=chunks(),
            headers=dict(staff.as_editor, **{"Content-Type": "application/json"}),
        )
        assert r.status_code == 413, r.text
        r = client.post(
            "/api/v1/stations/1/reports",
            content=chunks(),
            headers={"Content-Type": "application/json"},
        )
        assert r.status_code == 413
        r = client.post(
            "/api/v1/auth/login",
            data={"name": "x"},
            files={"upload": ("stations.xlsx", b"\0" * 5000)},
        )
        assert r.status_code == 413
        r = client.post(  # a streamed form: counted as it arrives, not gathered up front
            "/api/v1/auth/login",
            content=iter([b"name=", b"z" * 600, b"z" * 600]),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert r.status_code == 413, r.text
        assert r.headers["x-content-type-options"] == "nosniff"
        assert len(store.all()) == 1
        ok = client.post(
            "/api/v1/stations",
            json={"name": "小", "lon": 116.5, "lat": 39.8},
            headers=staff.as_editor,
        )
        assert ok.status_code == 201


# -- rate limits --------------------------------------------------------------------------


def _until_limited(client: TestClient, url: str, limit: int) -> list[int]:
    return [client.get(url).status_code for _ in range(limit + 1)]


def test_public_rate_limit_in_process(store: SqlStationStore) -> None:
    with TestClient(_app(store, rate_limit_per_minute=5)) as client:
        codes = _until_limited(client, "/api/v1/nearest?lat=39.79&lon=116.5", 5)
        assert codes == [200] * 5 + [429]
        r = client.get("/api/v1/stations")
        assert r.status_code == 429 and r.headers["content-type"] == "application/problem+json"
        assert 1 <= int(r.headers["retry-after"]) <= 12
        assert client.get("/healthz").status_code == 200  # probes are never limited


def _redis() -> Any:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_timeout=1)
    try:
        client.ping()
    except redis.RedisError:
        client = None
    require(client is not None, "Redis at 127.0.0.1:6379")
    return client


def test_redis_rate_limit_is_shared_by_replicas(store: SqlStationStore) -> None:
    redis_client = _redis()
    prefix = f"stations-test:{uuid.uuid4().hex}:"
    replicas = [_app(store, redis_url=REDIS_URL, rate_limit_per_minute=5) for _ in range(2)]
    try:
        with TestClient(replicas[0]) as a, TestClient(replicas[1]) as b:
            for app in replicas:
                app.state.services.limiter.prefix = prefix  # keys of this test only
            codes = [a.get("/api/v1/stations").status_code for _ in range(3)]
            codes += [b.get("/api/v1/stations").status_code for _ in range(3)]
            assert codes == [200] * 5 + [429]
            assert a.get("/api/v1/stations").status_code == 429
        assert redis_client.exists(f"{prefix}public:testclient")
    finally:
        for key in redis_client.scan_iter(f"{prefix}*"):
            redis_client.delete(key)


def test_unreachable_redis_falls_back_to_in_process(
    store: SqlStationStore, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        caplog.at_level(logging.WARNING, logger="stations.api"),
        TestClient(
            _app(store, redis_url="redis://127.0.0.1:1/0", rate_limit_per_minute=3)
        ) as client,
    ):
        assert _until_limited(client, "/api/v1/stations", 3) == [200] * 3 + [429]
    assert "Redis unavailable" in caplog.text


# -- logs ---------------------------------------------------------------------------------


def _access_record(path: str) -> logging.LogRecord:
    return logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("10.0.0.7:5555", "GET", path, "1.1", 200),
        None,
    )


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_access_log_rounds_rider_coordinates(store: SqlStationStore) -> None:
    record = _access_record("/api/v1/nearest?lat=39.795412&lon=116.506834&k=3&amenity=toilet")
    assert RoundCoordinates().filter(record)
    line = record.getMessage()
    assert "lat=39.795&lon=116.507&k=3&amenity=toilet" in line and "39.7954" not in line
    untouched = _access_record("/api/v1/stations?bbox=116.5,39.7,116.6,39.8")
    RoundCoordinates().filter(untouched)
    assert "bbox=116.5,39.7,116.6,39.8" in untouched.getMessage()
    _app(store)  # building an app installs the filter on uvicorn's access logger
    logger, lines = logging.getLogger("uvicorn.access"), _Lines()
    logger.addHandler(lines)
    try:
        logger.handle(_access_record("/api/v1/nearest?lon=-0.1277583&lat=51.5073509"))
    finally:
        logger.removeHandler(lines)
    assert len(lines.lines) == 1
    assert "lon=-0.128&lat=51.507" in lines.lines[0] and "51.5073509" not in lines.lines[0]


def test_one_access_line_per_request_with_coordinates_rounded(
    store: SqlStationStore, capsys: pytest.CaptureFixture[str]
) -> None:
    with TestClient(_app(store, rate_limit_per_minute=2)) as client:
        client.get("/api/v1/nearest?lat=39.795412&lon=116.506834&k=3")
        client.post("/api/v1/stations", json={})
        client.get("/api/v1/stations/1")  # refused by the rate limit: logged too
    lines = [line for line in capsys.readouterr().out.splitlines() if ' - "' in line]
    assert lines == [
        'INFO:     testclient:50000 - "GET /api/v1/nearest?lat=39.795&lon=116.507&k=3 HTTP/1.1"'
        " 200 OK",
        'INFO:     testclient:50000 - "POST /api/v1/stations HTTP/1.1" 401 Unauthorized',
        'INFO:     testclient:50000 - "GET /api/v1/stations/1 HTTP/1.1" 429 Too Many Requests',
    ]
    with TestClient(_app(store, access_log=False)) as client:
        assert client.get("/api/v1/stations/1").status_code == 200
    assert ' - "' not in capsys.readouterr().out


def test_limiter_buckets_refill_at_their_own_rate() -> None:
    limiter = RateLimiter()
    assert [limiter.take_local("login", "a", 1 / 6, 2) for _ in range(2)] == [0.0, 0.0]
    assert limiter.take_local("login", "a", 1 / 6, 2) == pytest.approx(6, abs=0.1)
    assert limiter.take_local("login", "b", 1 / 6, 2) == 0.0  # per client
    assert limiter.take_local("public", "a", 10, 1) == 0.0  # per bucket


def test_zero_public_limit_turns_it_off(store: SqlStationStore) -> None:
    with TestClient(_app(store, rate_limit_per_minute=0)) as client:
        assert {client.get("/api/v1/stations").status_code for _ in range(30)} == {200}


# -- FastAPI's native OpenTelemetry -------------------------------------------------------


@pytest.mark.parametrize("on", [False, True])
def test_opentelemetry_follows_the_setting(
    store: SqlStationStore, monkeypatch: pytest.MonkeyPatch, on: bool
) -> None:
    # As if an operator had configured the global OpenTelemetry providers (the SDK is not a
    # dependency): FastAPI then instruments each request only when the setting allows it.
    import fastapi.telemetry._asgi as native

    monkeypatch.setattr(native, "_unconfigured", lambda provider: False)
    app = _app(store, opentelemetry=on)
    assert app._native_telemetry.enabled() is on  # noqa: SLF001
    with TestClient(app) as client:
        assert client.get("/livez").status_code == 200
