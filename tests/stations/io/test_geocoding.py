"""Geocoding through geopy against a local server that answers like Baidu and Nominatim.

This machine has no internet; geopy is pointed at 127.0.0.1 through its own ``scheme`` and
``domain`` options, so the requests, URL paths and JSON parsing are geopy's real ones.
"""

from __future__ import annotations

import csv
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from geodata.crs import from_wgs84
from stations.errors import ConfigurationError, ImportFailed
from stations.io.geocoding import make_geocoder, normalise_query
from stations.io.importing import plan_import, run_import
from stations.store.geocode_cache import GeocodeCacheStore
from stations.store.sql import SqlStationStore

# Two real E-Town places (WGS-84).
RONGHUA = (116.5068, 39.7954)
KECHUANG = (116.5540, 39.7811)


@dataclass
class FakeProvider:
    """Answers keyed by the query text; records every request (path, params, time)."""

    baidu: dict[str, Any] = field(default_factory=dict)
    nominatim: dict[str, Any] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str], float]] = field(default_factory=list)
    port: int = 0

    @property
    def domain(self) -> str:
        return f"127.0.0.1:{self.port}"


@pytest.fixture
def provider() -> Iterator[FakeProvider]:
    fake = FakeProvider()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            url = urlparse(self.path)
            params = {k: v[0] for k, v in parse_qs(url.query).items()}
            fake.requests.append((url.path, params, time.monotonic()))
            if url.path == "/geocoding/v3/":
                answer = fake.baidu.get(params.get("address", ""), {"status": 0})
            elif url.path == "/search":
                answer = fake.nominatim.get(params.get("q", ""), [])
            else:
                answer = None
            if answer == 500 or answer is None:
                self.send_response(500 if answer == 500 else 404)
                self.end_headers()
                return
            body = json.dumps(answer, ensure_ascii=False).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def baidu_hit(wgs: tuple[float, float], level: str = "门址", confidence: int = 80) -> dict:
    """Baidu geocoding v3's answer shape; coordinates in BD-09 as Baidu sends them."""
    lng, lat = from_wgs84(*wgs, "bd09")
    return {
        "status": 0,
        "result": {
            "location": {"lng": lng, "lat": lat},
            "precise": 1,
            "confidence": confidence,
            "comprehension": 100,
            "level": level,
        },
    }


def nominatim_hit(wgs: tuple[float, float], name: str) -> dict:
    return {
        "place_id": 1,
        "lat": repr(wgs[1]),
        "lon": repr(wgs[0]),
        "display_name": name,
        "class": "building",
        "type": "yes",
        "importance": 0.3,
    }


def baidu(fake: FakeProvider, store: SqlStationStore, **kw: Any) -> Any:
    """A Baidu geocoder keeping its answers beside ``store`` (a new one per call: a new
    process, as far as the cache goes)."""
    return make_geocoder(
        "baidu",
        api_key="test-ak",
        domain=fake.domain,
        scheme="http",
        min_delay_s=0,
        cache=GeocodeCacheStore.beside(store),
        **kw,
    )


def nominatim(fake: FakeProvider, store: SqlStationStore, **kw: Any) -> Any:
    return make_geocoder(
        "nominatim",
        domain=fake.domain,
        scheme="http",
        min_delay_s=0,
        cache=GeocodeCacheStore.beside(store),
        **kw,
    )


def sheet(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["编号", "名称", "地址", "经度", "纬度"])
        w.writerows(rows)
    return path


def test_baidu_bd09_results_are_stored_as_wgs84_and_marked(
    provider: FakeProvider, store: SqlStationStore, tmp_path: Path
) -> None:
    provider.baidu["北京市大兴区荣华中路10号"] = baidu_hit(RONGHUA)
    path = sheet(tmp_path / "s.csv", [["YZ-1", "荣华驿站", "北京市大兴区荣华中路10号", "", ""]])
    report = run_import(store, path, geocoder=baidu(provider, store))
    assert (report.added, report.geocoded) == (1, 1)
    [s] = store.all()
    assert s.geocoded is True
    assert s.lon == pytest.approx(RONGHUA[0], abs=1e-7)
    assert s.lat == pytest.approx(RONGHUA[1], abs=1e-7)
    [(path_, params, _)] = provider.requests
    assert path_ == "/geocoding/v3/"
    assert params == {"ak": "test-ak", "output": "json", "address": "北京市大兴区荣华中路10号"}


def test_cache_hit_makes_no_second_request(
    provider: FakeProvider, store: SqlStationStore, tmp_path: Path
) -> None:
    provider.baidu["北京市大兴区荣华中路10号"] = baidu_hit(RONGHUA)
    path = sheet(
        tmp_path / "s.csv",
        [
            ["YZ-1", "荣华驿站", "北京市大兴区荣华中路10号", "", ""],
            ["YZ-2", "荣华驿站二", "北京市大兴区 荣华中路１０号", "", ""],  # same after normalising
        ],
    )
    first = run_import(store, path, geocoder=baidu(provider, store))
    assert first.geocoded == 2 and len(provider.requests) == 1
    # A new geocoder (a new process) finds the answer in the store's cache.
    again = run_import(store, path, geocoder=baidu(provider, store))
    assert len(provider.requests) == 1
    assert (again.unchanged, again.geocoded) == (2, 2)
    hit = GeocodeCacheStore.beside(store).get(
        "baidu@" + provider.domain, normalise_query("北京市大兴区荣华中路10号")
    )
    assert hit is not None and hit["lon"] == pytest.approx(RONGHUA[0], abs=1e-7)


def test_failed_lookup_is_reported_per_row_never_guessed(
    provider: FakeProvider, store: SqlStationStore, tmp_path: Path
) -> None:
    provider.baidu["北京市大兴区荣华中路10号"] = baidu_hit(RONGHUA)
    path = sheet(
        tmp_path / "s.csv",
        [
            ["YZ-1", "荣华驿站", "北京市大兴区荣华中路10号", "", ""],
            ["YZ-2", "无名驿站", "不存在的路999号", "", ""],
        ],
    )
    with pytest.raises(ImportFailed) as info:
        run_import(store, path, geocoder=baidu(provider, store))
    [err] = info.value.errors  # only the address error: no "lon is required" noise
    assert (err.row, err.field, err.value) == (3, "address", "不存在的路999号")
    assert "found no place" in err.message
    assert store.all() == []
    report = run_import(store, path, geocoder=baidu(provider, store), skip_invalid=True)
    assert (report.added, report.invalid) == (1, 1) and report.reject_path is not None
    assert len(provider.requests) == 2  # the miss was cached as a miss, too


def test_vague_baidu_match_is_ambiguous(
    provider: FakeProvider, store: SqlStationStore, tmp_path: Path
) -> None:
    provider.baidu["大兴区"] = baidu_hit(RONGHUA, level="区县", confidence=20)
    provider.baidu["荣华中路"] = baidu_hit(RONGHUA, level="道路", confidence=50)
    path = sheet(tmp_path / "s.csv", [["A", "a", "大兴区", "", ""], ["B", "b", "荣华中路", "", ""]])
    report = plan_import(store, path, geocoder=baidu(provider, store))
    assert [(e.row, e.field) for e in report.errors] == [(2, "address"), (3, "address")]
    assert all("ambiguous" in e.message for e in report.errors)
    assert "区县" in report.errors[0].message


def test_nominatim_far_apart_candidates_are_ambiguous_close_ones_are_not(
    provider: FakeProvider, store: SqlStationStore, tmp_path: Path
) -> None:
    provider.nominatim["荣华中路10号"] = [
        nominatim_hit(RONGHUA, "荣华中路10号, 亦庄"),
        nominatim_hit(KECHUANG, "荣华中路10号, 别处"),
    ]
    near = (RONGHUA[0] + 0.0002, RONGHUA[1])  # ~17 m: the same building as node and way
    provider.nominatim["荣华中路12号"] = [
        nominatim_hit(RONGHUA, "荣华中路12号 (node)"),
        nominatim_hit(near, "荣华中路12号 (way)"),
    ]
    path = sheet(
        tmp_path / "s.csv", [["A", "a", "荣华中路10号", "", ""], ["B", "b", "荣华中路12号", "", ""]]
    )
    report = plan_import(store, path, geocoder=nominatim(provider, store))
    [err] = report.errors
    assert err.row == 2 and "ambiguous" in err.message and "2 candidates" in err.message
    assert report.geocoded == 1 and report.added == 1
    _, params, _ = provider.requests[0]
    assert params["q"] == "荣华中路10号" and params["format"] == "json" and params["limit"] == "5"


def test_gcj02_sheet_does_not_shift_geocoded_rows_again(
    provider: FakeProvider, store: SqlStationStore, tmp_path: Path
) -> None:
    provider.nominatim["科创十三街"] = [nominatim_hit(KECHUANG, "科创十三街")]
    gcj = from_wgs84(*RONGHUA, "gcj02")
    path = sheet(
        tmp_path / "s.csv",
        [["A", "a", "荣华中路", repr(gcj[0]), repr(gcj[1])], ["B", "b", "科创十三街", "", ""]],
    )
    run_import(store, path, crs="gcj02", geocoder=nominatim(provider, store))
    a, b = store.all()
    assert (a.lon, a.lat) == pytest.approx(RONGHUA, abs=1e-9) and not a.geocoded
    assert (b.lon, b.lat) == pytest.approx(KECHUANG, abs=1e-12) and b.geocoded


def test_requests_are_rate_limited(provider: FakeProvider) -> None:
    geocoder = make_geocoder("nominatim", domain=provider.domain, scheme="http", min_delay_s=0.2)
    sent: list[float] = []
    ask = geocoder.backend.geocode

    def timed(*args: Any, **kwargs: Any) -> Any:  # when each request leaves, on our side:
        sent.append(time.monotonic())  # arrival times at the server jitter on a busy machine
        return ask(*args, **kwargs)

    geocoder.backend.geocode = timed
    for address in ("甲", "乙", "丙"):
        geocoder.lookup(address)
    assert len(provider.requests) == len(sent) == 3
    assert min(b - a for a, b in zip(sent, sent[1:], strict=False)) >= 0.19


def test_service_error_is_per_row_and_not_cached(
    provider: FakeProvider, store: SqlStationStore, tmp_path: Path
) -> None:
    provider.nominatim["坏地址"] = 500
    path = sheet(tmp_path / "s.csv", [["A", "a", "坏地址", "", ""]])
    for attempt in (1, 2):
        report = plan_import(store, path, geocoder=nominatim(provider, store))
        [err] = report.errors
        assert err.field == "address" and "service error" in err.message
        assert len(provider.requests) == attempt  # asked again: a failure is not cached


def test_baidu_status_1_is_a_per_row_miss_that_is_asked_again(
    provider: FakeProvider, store: SqlStationStore, tmp_path: Path
) -> None:
    # What Baidu's v3 API sends when it finds nothing; geopy raises a bare service error.
    provider.baidu["火星路1号"] = {"status": 1, "msg": "Internal Service Error:无相关结果"}
    path = sheet(tmp_path / "s.csv", [["A", "a", "火星路1号", "", ""]])
    for attempt in (1, 2):
        [err] = plan_import(store, path, geocoder=baidu(provider, store)).errors
        assert (err.row, err.field) == (2, "address") and "status 1" in err.message
        assert len(provider.requests) == attempt


def test_rejected_key_stops_the_import_with_one_clear_error(
    provider: FakeProvider, store: SqlStationStore, tmp_path: Path
) -> None:
    provider.baidu["荣华中路"] = {"status": 200, "message": "APP不存在，AK有误请检查再重试"}
    path = sheet(tmp_path / "s.csv", [["A", "a", "荣华中路", "", ""]])
    with pytest.raises(ConfigurationError, match="API key"):
        run_import(store, path, geocoder=baidu(provider, store))
    assert len(provider.requests) == 1  # not retried


def test_make_geocoder_checks_its_arguments() -> None:
    with pytest.raises(ConfigurationError, match="needs an API key"):
        make_geocoder("baidu")
    with pytest.raises(ConfigurationError, match="valid: baidu, nominatim"):
        make_geocoder("google")
    assert make_geocoder("nominatim").cache_name == "nominatim"
    long = make_geocoder("nominatim", domain="geocoder.internal.example.org:8080/nominatim")
    assert len(long.cache_name) <= 40


def test_normalise_query_folds_width_spaces_and_case() -> None:
    assert normalise_query("  北京市 大兴区\u3000荣华中路１０号 ") == "北京市大兴区荣华中路10号"
    assert normalise_query("Rong Hua  Road 10 号") == "rong hua road 10号"
    assert normalise_query("Rong Hua Road") != normalise_query("RongHua Road")
