"""The network map at national scale: vector tiles against today's inlined station map.

Run by hand (needs Debian's ``/usr/bin/chromium``, ``playwright`` and ``wrk``)::

    python bench/tiles_bench.py                      # 200k tiles; inlined page at 10k/50k/200k
    python bench/tiles_bench.py --sizes 10000 --inline-sizes 10000 --runs 1

For each size, synthetic national stations (``bench/national.py``: allocated to China's
cities by population) are imported into a temporary SQLite store and served by
``stations serve`` (one uvicorn worker) on 127.0.0.1. Every number is from this run:

* page: ``/maps/network`` (vector tiles) and ``/maps/stations`` (every station inlined),
  each loaded cold in headless Chromium at 1280x800 with every other host blocked (so no
  basemap tiles): bytes received from the service and ``performance.now()`` at the first
  marker drawn (VectorGrid's style call for the network map; the first marker element for
  the inlined page, as in ``bench/map_bench.py``). Median of ``--runs``.
* tiles over HTTP: ``wrk -t1 -c8 -d10s --latency`` on a rotation of the tiles a user
  browsing the country and a city would fetch (zoom 4 to 14), one worker; p50/p99.
* tile encoders, in process, on the same tiles: the catalog + mapbox-vector-tile path the
  service uses, and PostGIS ``ST_AsMVT`` (with ``ST_SnapToGrid`` clusters below zoom 13)
  on a PostgreSQL copy of the stations when ``STATIONS_TEST_POSTGRES_URL`` is set.

Targets (issue 18): first marker ≤ 2 s, tile p99 ≤ 20 ms with one worker, network page
weight independent of the station count.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from national import national_stations  # noqa: E402

from stations.model import validate_station  # noqa: E402
from stations.store.base import ImportPlanRow  # noqa: E402
from stations.store.sql import SqlStationStore  # noqa: E402
from stations.tiles import TileIndex  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
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


def _rows(n: int) -> list[ImportPlanRow]:
    keep = ("external_id", "name", "address", "lon", "lat", "host_type", "opening_hours")
    out = []
    for r in national_stations(n):
        raw = {k: r[k] for k in keep if k in r}
        raw["lon"], raw["lat"] = float(raw["lon"]), float(raw["lat"])
        raw["amenities"] = [a for a in r.get("amenities", "").split(";") if a]
        out.append(ImportPlanRow(validate_station(raw)))
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    """``stations serve`` (one worker) on a store; stopped on exit."""

    def __init__(self, url: str) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, STATIONS_DATABASE_URL=url, STATIONS_WEBHOOKS_ENABLED="false")
        env["STATIONS_RATE_LIMIT_PER_MINUTE"] = "100000000"
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from cli import main; main()",
                "serve",
                "--port",
                str(self.port),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 300
        while True:
            try:
                if httpx.get(self.base + "/livez", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise SystemExit("the service did not start")
            time.sleep(0.3)

    def __enter__(self) -> Served:
        return self

    def __exit__(self, *exc: object) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)


def load(browser: Any, url: str, network: bool) -> tuple[int, float | None]:
    """Bytes from the service and the first marker's time (ms), one cold load."""
    own = urlsplit(url).netloc
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.route(
        "**/*", lambda r: r.continue_() if urlsplit(r.request.url).netloc == own else r.abort()
    )
    context.add_init_script(FIRST_MARKER_PROBE)
    page = context.new_page()
    received = [0]

    def count(response: Any) -> None:
        try:
            received[0] += len(response.body())
        except Exception:  # aborted requests have no body
            pass

    page.on("response", count)
    page.goto(url, wait_until="commit", timeout=600_000)
    probe = (
        "() => window.__warmTiles && window.__warmTiles.firstMarkerAt !== null"
        if network
        else "() => window.__firstMarker !== undefined"
    )
    try:
        page.wait_for_function(probe, timeout=600_000)
        first = float(
            page.evaluate("window.__warmTiles.firstMarkerAt" if network else "window.__firstMarker")
        )
    except Exception:
        first = None
    page.wait_for_load_state("networkidle", timeout=600_000)
    context.close()
    return received[0], first


def tile_list(index: TileIndex) -> list[tuple[int, int, int]]:
    """Tiles a user browsing the country, then a city, fetches (z 4-14 around Beijing,
    Shanghai and Guangzhou)."""
    out = []
    for lon, lat in ((116.40, 39.90), (121.47, 31.23), (113.26, 23.13)):
        for z in range(4, 15):
            n = 2**z
            cx = int((lon + 180) / 360 * n)
            r = math.radians(lat)
            cy = int((1 - math.log(math.tan(r) + 1 / math.cos(r)) / math.pi) / 2 * n)
            for dx in (-1, 0, 1):
                for dy in (-1, 0, 1):
                    out.append((z, cx + dx, cy + dy))
    return out


def wrk_latency(base: str, paths_list: list[str], seconds: int) -> tuple[str, str]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        paths = ", ".join(f'"{p}"' for p in paths_list)
        lua.write(
            f"local paths = {{{paths}}}\nlocal i = 0\n"
            "request = function()\n  i = i % #paths + 1\n"
            "  return wrk.format('GET', paths[i])\nend\n"
        )
    out = subprocess.run(
        ["wrk", "-t1", "-c8", f"-d{seconds}s", "--latency", "-s", lua.name, base],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    ).stdout
    os.unlink(lua.name)
    found = dict(
        line.split()[:2] for line in out.splitlines() if line.strip().startswith(("50%", "99%"))
    )
    return found.get("50%", "?"), found.get("99%", "?")


_PG_TILE = """
WITH b AS (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS env),
pts AS (
  SELECT s.id, s.name, s.status,
         ST_AsMVTGeom(ST_Transform(s.geom, 3857), b.env, 4096, %(buffer)s, true) AS g
  FROM stations s, b
  WHERE s.deleted_at IS NULL AND s.geom && ST_Transform(b.env, 4326)
),
feat AS (
  SELECT CASE WHEN %(cluster)s THEN NULL ELSE min(id) END AS id, count(*) AS count,
         ST_Centroid(ST_Collect(g)) AS g
  FROM pts WHERE g IS NOT NULL
  GROUP BY CASE WHEN %(cluster)s THEN ST_SnapToGrid(g, 512, 512) ELSE g END,
           CASE WHEN %(cluster)s THEN 0 ELSE id END
)
SELECT ST_AsMVT(feat, 'stations', 4096, 'g') FROM feat
"""


def encoder_times(
    index: TileIndex, tiles: list[tuple[int, int, int]], rows: list[ImportPlanRow]
) -> list[tuple[str, float, float]]:
    out = []
    for z, x, y in tiles:  # warm: each zoom's cells, as the service after its first tiles
        index.tile(z, x, y)
    times = []
    for z, x, y in tiles:
        t = time.perf_counter()
        index._encode(z, x, y, "wgs84")  # the encoder itself, past the service's tile cache
        times.append((time.perf_counter() - t) * 1000)
    out.append(("catalog + mapbox-vector-tile", *_p50_p99(times)))
    url = os.environ.get("STATIONS_TEST_POSTGRES_URL")
    if not url:
        return out
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from conftest import pg_schema

    from stations.store.outage import StoreLimits

    with pg_schema(url) as schema_url:
        # A 200k-row COPY takes longer than the service's 10 s statement limit.
        store = SqlStationStore(schema_url, limits=StoreLimits(statement_s=900, lock_s=900))
        store.apply_import(rows, actor="bench")
        raw = store.engine.raw_connection()
        cur = raw.cursor()
        cur.execute("ANALYZE stations")
        times = []
        for rep in range(2):
            for z, x, y in tiles:
                t = time.perf_counter()
                params = {"z": z, "x": x, "y": y, "buffer": 0 if z < 13 else 64}
                params["cluster"] = z < 13
                cur.execute(_PG_TILE, params)
                cur.fetchone()
                if rep:
                    times.append((time.perf_counter() - t) * 1000)
        raw.close()
        store.close()
    out.append(("PostGIS ST_AsMVT (+ ST_SnapToGrid)", *_p50_p99(times)))
    return out


def _p50_p99(values: list[float]) -> tuple[float, float]:
    values = sorted(values)
    return statistics.median(values), values[min(len(values) - 1, int(len(values) * 0.99))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200_000])
    parser.add_argument("--inline-sizes", type=int, nargs="*", default=[10_000, 50_000, 200_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--wrk-seconds", type=int, default=10)
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    sizes = sorted(set(args.sizes) | set(args.inline_sizes))
    pages: list[tuple[str, int, int, float | None]] = []
    http: list[tuple[str, int, str, str]] = []
    encoders: list[tuple[int, str, float, float]] = []
    with sync_playwright() as p, tempfile.TemporaryDirectory(prefix="tiles-bench-") as tmp:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        for n in sizes:
            rows = _rows(n)
            url = "sqlite:///" + str(Path(tmp) / f"s{n}.db")
            store = SqlStationStore(url)
            store.apply_import(rows, actor="bench")
            store.close()
            with Served(url) as served:
                if n in args.sizes:
                    # One untimed load: the worker builds its tile index on first use.
                    load(browser, served.base + "/maps/network", True)
                    loads = [
                        load(browser, served.base + "/maps/network", True) for _ in range(args.runs)
                    ]
                    pages.append(
                        ("/maps/network (tiles)", n, loads[0][0], _median([t for _, t in loads]))
                    )
                    index = TileIndex.build(SqlStationStore(url).all(), 0)
                    tiles = tile_list(index)
                    for _ in range(2):  # warm the worker's per-zoom cells
                        for z, x, y in tiles:
                            httpx.get(f"{served.base}/api/v1/tiles/stations/{z}/{x}/{y}.mvt")
                    paths = [f"/api/v1/tiles/stations/{z}/{x}/{y}.mvt" for z, x, y in tiles]
                    http.append(
                        (
                            "/api/v1/tiles/stations/z/x/y.mvt",
                            n,
                            *wrk_latency(served.base, paths, args.wrk_seconds),
                        )
                    )
                    # The floor on this machine now: the cheapest route, same load.
                    http.append(
                        (
                            "/livez (baseline)",
                            n,
                            *wrk_latency(served.base, ["/livez"], args.wrk_seconds),
                        )
                    )
                    encoders += [(n, *e) for e in encoder_times(index, tiles, rows)]
                if n in args.inline_sizes:
                    runs = 1 if n > 10_000 else args.runs
                    loads = [
                        load(browser, served.base + "/maps/stations", False) for _ in range(runs)
                    ]
                    pages.append(
                        ("/maps/stations (inlined)", n, loads[0][0], _median([t for _, t in loads]))
                    )
                print(f"done {n}", file=sys.stderr, flush=True)
        browser.close()
    print("\n| page | stations | bytes from the service | first marker (ms) |")
    print("| --- | ---: | ---: | ---: |")
    for name, n, size, first in pages:
        shown = f"{first:.0f}" if first is not None else "none in 10 min"
        print(f"| {name} | {n:,} | {size:,} | {shown} |")
    print("\n| over HTTP, 1 worker, wrk -t1 -c8 | stations | p50 | p99 |")
    print("| --- | ---: | ---: | ---: |")
    for name, n, p50, p99 in http:
        print(f"| {name} | {n:,} | {p50} | {p99} |")
    print("\n| tile encoder (in process, warm) | stations | p50 ms | p99 ms |")
    print("| --- | ---: | ---: | ---: |")
    for n, name, p50, p99 in encoders:
        print(f"| {name} | {n:,} | {p50:.2f} | {p99:.2f} |")


def _median(values: list[float | None]) -> float | None:
    got = [v for v in values if v is not None]
    return statistics.median(got) if got else None


if __name__ == "__main__":
    main()
