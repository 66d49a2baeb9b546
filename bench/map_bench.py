"""Page weight and time to first marker of ``/embed`` and ``/maps/stations`` in Chromium.

Run by hand (needs Debian's ``/usr/bin/chromium`` and the ``playwright`` package)::

    python bench/map_bench.py            # 98 (demo), 1,000 and 10,000 stations
    python bench/map_bench.py --sizes 98 --runs 5
    python bench/map_bench.py --pages /maps/stations   # one page only

For each station count the app is served by uvicorn on 127.0.0.1 from a temporary SQLite
store (the demo set, or synthetic stations spread over Beijing), and each page is opened in
a fresh headless Chromium context (empty cache) at 360x640 with every other host blocked, as
from mainland China without CDNs; tiles are therefore never loaded and never counted.

* weight: every response the page loaded from the service, raw and gzip-compressed one by
  one (level 6) — the service does not compress yet, so gzip is what it *would* send;
* time to first marker: ``performance.now()`` when the first marker (or cluster) element
  enters the DOM, recorded by a MutationObserver installed before the page's own scripts;
  median of ``--runs`` cold loads.

Ratios are against baselines measured in the same run: weight against Leaflet alone (its JS
and CSS, the floor of any Leaflet page) and against the 80 KB budget; time against the same
page with 98 stations. A data table compares, for the same stations, the embed page's
inlined marker rows with ``/api/v1/stations`` GeoJSON and ``/embed/markers``.
"""

from __future__ import annotations

import argparse
import gzip
import random
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402

from api.app import create_app  # noqa: E402
from api.settings import Settings  # noqa: E402
from stations.model import validate_station  # noqa: E402
from stations.store.base import ImportPlanRow  # noqa: E402
from stations.store.sql import SqlStationStore  # noqa: E402
from stations.vocabulary import AMENITIES  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
BUDGET_GZIP = 80 * 1024
PAGES = ("/embed", "/maps/stations")

# Recorded before any page script runs: when does the first marker element appear?
FIRST_MARKER_PROBE = """
(() => {
  const SEL = 'path.leaflet-interactive, .leaflet-marker-icon, .marker-cluster, .cl';
  const seen = () => {
    if (window.__firstMarker === undefined && document.querySelector(SEL)) {
      window.__firstMarker = performance.now();
    }
  };
  new MutationObserver(seen).observe(document, {childList: true, subtree: true});
})();
"""

_HOSTS = [
    "顺丰速运",
    "京东物流",
    "中国邮政",
    "中通快递",
    "圆通速递",
    "韵达快递",
    "北京银行",
    "工商银行",
    "便利蜂",
    "物美",
    "中国石化",
    "社区服务中心",
    "街道工会",
]
_ROADS = [
    "荣华中路",
    "经海路",
    "科创街",
    "永昌南路",
    "西环南路",
    "宏达北路",
    "地盛北街",
    "兴盛街",
    "文化园西路",
    "博兴路",
    "景园街",
    "天华街",
    "万源街",
    "泰河路",
]
_HOURS = [
    "24/7",
    "Mo-Su 08:00-20:00",
    "Mo-Fr 09:00-17:00",
    "Mo-Su 07:30-21:00",
    "Mo-Fr 08:30-17:30; Sa,Su 09:00-16:00",
]


def synthetic_stations(n: int, seed: int = 20240612) -> list[ImportPlanRow]:
    """``n`` plausible stations spread over Beijing's plain (a city-sized network)."""
    rng = random.Random(seed)
    codes = list(AMENITIES)
    rows = []
    for i in range(n):
        host = rng.choice(_HOSTS)
        road = rng.choice(_ROADS)
        rows.append(
            ImportPlanRow(
                validate_station(
                    {
                        "external_id": f"SYN-{i:06d}",
                        "name": f"{host}{road}{rng.randint(1, 99)}号店暖心驿站",
                        "address": f"北京市{road}{rng.randint(1, 200)}号",
                        "lon": rng.uniform(116.05, 116.75),
                        "lat": rng.uniform(39.65, 40.15),
                        "host_type": "other",
                        "host_org": host,
                        "amenities": rng.sample(codes, rng.randint(2, 8)),
                        "opening_hours": rng.choice(_HOURS),
                    }
                )
            )
        )
    return rows


@contextmanager
def serve(app: Any) -> Iterator[str]:
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def app_for(n: int) -> Iterator[str]:
    """A live server on the demo set (n == 98) or on ``n`` synthetic stations."""
    if n == 98:
        with serve(create_app(Settings(), demo=True)) as url:
            yield url
        return
    with tempfile.TemporaryDirectory(prefix="map-bench-") as tmp:
        store = SqlStationStore("sqlite:///" + str(Path(tmp) / "bench.db"))
        store.apply_import(synthetic_stations(n), actor="bench")
        try:
            with serve(create_app(Settings(), store=store)) as url:
                yield url
        finally:
            store.close()


@dataclass
class Load:
    raw: int
    gzip: int
    requests: int
    first_marker_ms: float | None
    blocked_non_tile: int


def load_once(browser: Any, url: str) -> Load:
    own = urlsplit(url).netloc
    context = browser.new_context(
        viewport={"width": 360, "height": 640},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
    )
    blocked: list[str] = []

    def route(r: Any) -> None:
        if urlsplit(r.request.url).netloc == own:
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    context.add_init_script(FIRST_MARKER_PROBE)
    page = context.new_page()
    responses: list[Any] = []
    page.on("response", lambda r: responses.append(r))
    page.goto(url, wait_until="load")
    try:
        page.wait_for_function("() => window.__firstMarker !== undefined", timeout=15_000)
        first = float(page.evaluate("window.__firstMarker"))
    except Exception:  # no marker within 15 s: report it, do not crash the table
        first = None
    page.wait_for_timeout(800)  # the nearest list and any by-view markers
    raw = gz = 0
    for r in responses:
        try:
            body = r.body()
        except Exception:  # redirects and aborted requests have no body
            continue
        raw += len(body)
        gz += len(gzip.compress(body, 6))
    non_tile = [
        u
        for u in blocked
        if not any(h in u for h in ("tile.openstreetmap.org", "autonavi.com", "tianditu.gov.cn"))
    ]
    context.close()
    return Load(raw, gz, len(responses), first, len(non_tile))


def leaflet_floor(url: str) -> int:
    """gzip bytes of Leaflet's own JS + CSS as this service serves them."""
    from maps.assets import asset_url

    return sum(
        len(gzip.compress(httpx.get(url + asset_url(name)).content, 6))
        for name in ("leaflet/leaflet.js", "leaflet/leaflet.css")
    )


def data_options(url: str, n: int) -> dict[str, int]:
    """gzip bytes of the same stations as the page inlines them vs. the JSON APIs."""
    import json
    import re

    page = httpx.get(url + "/embed").text
    found = re.search(r'id="embed-config">(.*?)</script>', page, re.S)
    if found is None:
        raise SystemExit("/embed has no config block: is this the embed page?")
    cfg = json.loads(found.group(1))
    inline = cfg["markers"]
    out = {
        "inline rows in /embed": len(
            gzip.compress(json.dumps(inline, ensure_ascii=False, separators=(",", ":")).encode(), 6)
        )
        if inline
        else -1
    }
    limit = min(n, 1000)
    out[f"/api/v1/stations?limit={limit}"] = len(
        gzip.compress(
            httpx.get(url + "/api/v1/stations", params={"status": "open", "limit": limit}).content,
            6,
        )
    )
    out["/embed/markers (whole area)"] = len(
        gzip.compress(httpx.get(url + "/embed/markers", params={"zoom": 11}).content, 6)
    )
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[98, 1000, 10_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--pages",
        nargs="+",
        choices=PAGES,
        default=list(PAGES),
        help="pages to load (default: both)",
    )
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"needs Debian's chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    rows: list[tuple[str, int, Load, float | None]] = []
    base_time: dict[str, float | None] = {}
    floor = 0
    data: dict[int, dict[str, int]] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run"],
        )
        for n in args.sizes:
            t0 = time.perf_counter()
            with app_for(n) as url:
                setup_s = time.perf_counter() - t0
                print(f"-- {n:,} stations (store + app ready in {setup_s:.1f} s)", flush=True)
                floor = floor or leaflet_floor(url)
                data[n] = data_options(url, n)
                for path in args.pages:
                    if httpx.get(url + path, timeout=120).status_code != 200:
                        print(f"   {path}: not served yet, skipped")
                        continue
                    loads = [load_once(browser, url + path) for _ in range(args.runs)]
                    times = [ld.first_marker_ms for ld in loads if ld.first_marker_ms is not None]
                    median = statistics.median(times) if times else None
                    rows.append((path, n, loads[-1], median))
                    base_time.setdefault(path, median)
        browser.close()

    print()
    print(
        f"Leaflet alone (JS + CSS), the floor: {floor / 1024:.1f} KB gzip; budget "
        f"{BUDGET_GZIP // 1024} KB gzip for /embed with 98 stations"
    )
    head = (
        f"{'page':<16}{'stations':>9}{'raw KB':>9}{'gzip KB':>9}{'/floor':>8}{'/budget':>9}"
        f"{'requests':>10}{'1st marker ms':>15}{'/98':>7}{'blocked':>9}"
    )
    print(head)
    print("-" * len(head))
    for path, n, ld, median in rows:
        base = base_time.get(path)
        ratio = f"{median / base:.2f}" if median and base else "-"
        ms = f"{median:.0f}" if median is not None else "none"
        print(
            f"{path:<16}{n:>9,}{ld.raw / 1024:>9.1f}{ld.gzip / 1024:>9.1f}"
            f"{ld.gzip / floor:>8.2f}{ld.gzip / BUDGET_GZIP:>9.2f}{ld.requests:>10}"
            f"{ms:>15}{ratio:>7}{ld.blocked_non_tile:>9}"
        )
    print()
    print("station data, gzip KB (the page inlines up to 1,000 stations, else asks by view):")
    for n, options in data.items():
        cells = ", ".join(
            f"{k}: {v / 1024:.1f}" if v >= 0 else f"{k}: not inlined" for k, v in options.items()
        )
        print(f"  {n:>6,}: {cells}")
    print()
    print(
        "targets: /embed with 98 stations <= 80 KB gzip and <= 1000 ms to the first marker;"
        " <= 2000 ms with 10,000"
    )


if __name__ == "__main__":
    main()
