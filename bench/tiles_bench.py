"""The maps at national scale: vector tiles against the inlined station map of before.

Run by hand (needs Debian's ``/usr/bin/chromium``, ``playwright`` and ``wrk``)::

    python bench/tiles_bench.py                      # 200k tiled; inlined page at 10k/50k/200k
    python bench/tiles_bench.py --sizes 10000 --inline-sizes 10000 --runs 1
    python bench/tiles_bench.py --tiles-only          # 200k: tiles over HTTP and the encoders

For each size, synthetic national stations (``bench/national.py``: allocated to China's
cities by population) are imported into a temporary SQLite store and served by
``stations serve`` (one uvicorn worker) on 127.0.0.1. Every number is from this run:

* pages: ``/maps/network`` (VectorGrid), ``/maps/stations`` and ``/embed`` (markers from the
  tiles, as served above ``STATIONS_MAP_INLINE_MAX`` / ``STATIONS_EMBED_INLINE_MAX``), and the
  inlined ``/maps/stations`` (every station in the page, forced with
  ``STATIONS_MAP_INLINE_MAX``), each loaded cold in headless Chromium at 1280x800 with every
  other host blocked (so no basemap tiles): bytes received from the service and
  ``performance.now()`` at the first marker drawn (the tile reader's or VectorGrid's first
  marker for tiled pages; the first marker element for the inlined page, as in
  ``bench/map_bench.py``). Median of ``--runs``; one untimed load first (the worker imports
  folium and builds its tile index on first use).
* tiles over HTTP: ``wrk -t1 -c8 -d{--wrk-seconds}s --latency``, one worker, counting only
  2xx/204 answers:
  - *uncached*: every request a tile not asked before (``--fresh`` distinct tiles around
    random stations, zoom 3-16, in a random order; the run says if wrk went past the end and
    repeated), so the service encodes each one;
  - *cached*: a rotation of the tiles a user browsing the country and a city fetches
    (zoom 4-14 around Beijing, Shanghai, Guangzhou), fetched twice before;
  - ``/livez`` under the same load: the floor of this (shared) machine now; the ratios
    against it are what compare across runs.
* tile encoders, in process, on 2,000 other fresh tiles, wall and thread CPU time: the
  service's (``TileIndex.tile`` past its cache: Morton runs, pre-summed cells, own protobuf
  writer), the plain reference (scan + mapbox-vector-tile), and PostGIS ``ST_AsMVT`` (with ``ST_SnapToGrid`` clusters below
  zoom 13) on a PostgreSQL copy when ``STATIONS_TEST_POSTGRES_URL`` is set.

Targets (issue 18): first marker ≤ 2 s, tile p99 ≤ 20 ms with one worker, page weight
independent of the station count.
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
import numpy as np

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

    def __init__(self, url: str, **settings: str) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, STATIONS_DATABASE_URL=url, STATIONS_WEBHOOKS_ENABLED="false")
        env["STATIONS_RATE_LIMIT_PER_MINUTE"] = "100000000"
        env.update({f"STATIONS_{k.upper()}": v for k, v in settings.items()})
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


_BYTES = """() => {
  const own = location.host;
  const nav = performance.getEntriesByType('navigation')[0];
  let wire = nav ? nav.transferSize : 0, body = nav ? nav.decodedBodySize : 0;
  for (const e of performance.getEntriesByType('resource')) {
    if (new URL(e.name).host === own) { wire += e.transferSize; body += e.decodedBodySize; }
  }
  return [wire, body];
}"""


def load(browser: Any, url: str, tiled: bool) -> tuple[tuple[int, int], float | None]:
    """Bytes from the service (on the wire, decoded) and the first marker's time (ms), one
    cold load; bytes from the browser's resource timing once the first view is drawn."""
    own = urlsplit(url).netloc
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.route(
        "**/*", lambda r: r.continue_() if urlsplit(r.request.url).netloc == own else r.abort()
    )
    context.add_init_script(FIRST_MARKER_PROBE)
    page = context.new_page()
    page.goto(url, wait_until="commit", timeout=600_000)
    probe = (
        "() => window.__warmTiles && window.__warmTiles.firstMarkerAt !== null"
        if tiled
        else "() => window.__firstMarker !== undefined"
    )
    try:
        page.wait_for_function(probe, timeout=600_000)
        first = float(
            page.evaluate("window.__warmTiles.firstMarkerAt" if tiled else "window.__firstMarker")
        )
    except Exception:
        first = None
    try:  # the first view's tiles (or every inlined marker) in
        page.wait_for_function(
            "() => window.__warmTiles ? window.__warmTiles.idle : document.readyState === "
            "'complete'",
            timeout=60_000,
        )
        page.wait_for_load_state("networkidle", timeout=10_000)
    except Exception:  # a page that keeps asking (a poll) is counted up to here
        pass
    wire, body = page.evaluate(_BYTES)
    context.close()
    return (int(wire), int(body)), first


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


def fresh_tiles(index: TileIndex, count: int, seed: int = 18) -> list[tuple[int, int, int]]:
    """``count`` distinct tiles around random stations, zoom 3-16, in random order."""
    rng = np.random.default_rng(seed)
    seen: set[tuple[int, int, int]] = set()
    out: list[tuple[int, int, int]] = []
    while len(out) < count:
        i = int(rng.integers(0, len(index)))
        z = int(rng.integers(3, 17))
        n = 2**z
        r = math.radians(float(index.lat[i]))
        x = int((float(index.lon[i]) + 180) / 360 * n)
        y = int((1 - math.log(math.tan(r) + 1 / math.cos(r)) / math.pi) / 2 * n)
        if (z, x, y) not in seen:
            seen.add((z, x, y))
            out.append((z, x, y))
    return out


def wrk_latency(base: str, paths_list: list[str], seconds: int) -> dict[str, str]:
    """p50/p99 and counts of ``wrk -t1 -c8`` over ``paths_list`` in order (wrapping)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        paths = ", ".join(f'"{p}"' for p in paths_list)
        lua.write(
            f"local paths = {{{paths}}}\nlocal i = 0\nlocal bad = 0\n"
            "request = function()\n  i = i + 1\n"
            "  return wrk.format('GET', paths[(i - 1) % #paths + 1])\nend\n"
            "response = function(status, headers, body)\n"
            "  if status >= 300 then bad = bad + 1 end\nend\n"
            "done = function(summary, latency, requests)\n"
            "  io.write(string.format('requests %d\\nnon2xx %d\\n', summary.requests, bad))\n"
            "end\n"
        )
    out = subprocess.run(
        ["wrk", "-t1", "-c8", f"-d{seconds}s", "--latency", "-s", lua.name, base],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    ).stdout
    os.unlink(lua.name)
    found = dict(
        line.split()[:2]
        for line in out.splitlines()
        if line.strip().startswith(("50%", "99%", "requests ", "non2xx "))
    )
    found["distinct"] = str(len(set(paths_list)))
    return found


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
    """p50/p99 of each encoder over ``tiles`` (fresh ones), in wall time and in the
    thread's CPU time: on a shared machine the wall p99 is mostly the time the thread was
    not running, the CPU p99 what the encoder itself costs."""
    out = []
    index.tile(*tiles[0])  # the crs's sorted positions and cells, built once per index
    states = np.ones(len(index), np.int8)  # every station carries its open state, as served
    for name, encode in (
        ("service: Morton runs + own protobuf writer", index._encode),
        ("reference: scan + mapbox-vector-tile", index.reference_tile),
    ):
        wall, cpu = [], []
        for z, x, y in tiles:
            t, c = time.perf_counter(), time.thread_time()
            encode(z, x, y, "wgs84", states=states)  # past the index's cache
            cpu.append((time.thread_time() - c) * 1000)
            wall.append((time.perf_counter() - t) * 1000)
        out.append((f"{name}, wall", *_p50_p99(wall)))
        out.append((f"{name}, CPU", *_p50_p99(cpu)))
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


def _page(
    browser: Any, base: str, path: str, tiled: bool, runs: int
) -> tuple[tuple[int, int], float | None]:
    print(f"loading {path}", file=sys.stderr, flush=True)
    load(browser, base + path, tiled)  # untimed: folium imported, tile index built
    loads = [load(browser, base + path, tiled) for _ in range(runs)]
    return loads[0][0], _median([t for _, t in loads])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200_000])
    parser.add_argument("--inline-sizes", type=int, nargs="*", default=[10_000, 50_000, 200_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--wrk-seconds", type=int, default=10)
    parser.add_argument("--fresh", type=int, default=40_000, help="distinct uncached tiles")
    parser.add_argument(
        "--tiles-only",
        action="store_true",
        help="no browser: only the tiles over HTTP and the encoders (ST_AsMVT included)",
    )
    args = parser.parse_args(argv)
    if args.tiles_only:
        args.inline_sizes = []
    print(f"load before: {os.getloadavg()[0]:.2f} (1 min) on {os.cpu_count()} CPUs", flush=True)
    from contextlib import nullcontext

    from playwright.sync_api import sync_playwright

    sizes = sorted(set(args.sizes) | set(args.inline_sizes))
    pages: list[tuple[str, int, tuple[int, int], float | None]] = []
    http: list[tuple[str, int, dict[str, str]]] = []
    encoders: list[tuple[int, str, float, float]] = []
    with (
        nullcontext(None) if args.tiles_only else sync_playwright() as p,
        tempfile.TemporaryDirectory(prefix="tiles-bench-") as tmp,
    ):
        browser = (
            None
            if p is None
            else p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        )
        for n in sizes:
            rows = _rows(n)
            url = "sqlite:///" + str(Path(tmp) / f"s{n}.db")
            store = SqlStationStore(url)
            store.apply_import(rows, actor="bench")
            store.close()
            if n in args.sizes:
                with Served(url) as served:
                    for path, name in (
                        ("/maps/network", "/maps/network (VectorGrid)"),
                        ("/maps/stations", "/maps/stations (tiles)"),
                        ("/embed", "/embed (tiles)"),
                    ):
                        if browser is None:
                            break
                        pages.append((name, n, *_page(browser, served.base, path, True, args.runs)))
                    # the worker's tile index, built before the timed requests
                    httpx.get(f"{served.base}/api/v1/tiles/stations/3/6/3.mvt", timeout=300)
                    index = TileIndex.build(SqlStationStore(url).all(), 0)
                    tiles = tile_list(index)
                    for _ in range(2):  # the rotation, cached by the worker
                        for z, x, y in tiles:
                            httpx.get(f"{served.base}/api/v1/tiles/stations/{z}/{x}/{y}.mvt")
                    mvt = "/api/v1/tiles/stations/{}/{}/{}.mvt"
                    fresh = [mvt.format(*t) for t in fresh_tiles(index, args.fresh)]
                    cached = [mvt.format(*t) for t in tiles]
                    for name, paths in (
                        ("tiles, uncached (each tile asked once)", fresh),
                        ("tiles, cached (rotation fetched before)", cached),
                        ("/livez (baseline)", ["/livez"]),
                    ):
                        print(f"wrk {name}", file=sys.stderr, flush=True)
                        http.append((name, n, wrk_latency(served.base, paths, args.wrk_seconds)))
                    encoders += [
                        (n, *e)
                        for e in encoder_times(index, fresh_tiles(index, 2000, seed=7), rows)
                    ]
            if n in args.inline_sizes:
                with Served(url, map_inline_max=str(10**9)) as served:
                    runs = 1 if n > 10_000 else args.runs
                    pages.append(
                        (
                            "/maps/stations (inlined, as before)",
                            n,
                            *_page(browser, served.base, "/maps/stations", False, runs),
                        )
                    )
            print(f"done {n}", file=sys.stderr, flush=True)
        if browser is not None:
            browser.close()
    print("\n| page | stations | bytes on the wire | bytes decoded | first marker (ms) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, n, (wire, body), first in pages:
        shown = f"{first:.0f}" if first is not None else "none in 10 min"
        print(f"| {name} | {n:,} | {wire:,} | {body:,} | {shown} |")
    print(
        "\n| over HTTP, 1 worker, wrk -t1 -c8 | stations | requests | distinct paths | "
        "non-2xx | p50 | p99 | p99 / livez p99 |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    floor = {n: _ms(r.get("99%", "")) for name, n, r in http if name.startswith("/livez")}
    for name, n, r in http:
        p99, base = _ms(r.get("99%", "")), floor.get(n)
        ratio = f"{p99 / base:.1f}" if p99 and base else "?"
        print(
            f"| {name} | {n:,} | {r.get('requests', '?')} | {r['distinct']} | "
            f"{r.get('non2xx', '?')} | {r.get('50%', '?')} | {r.get('99%', '?')} | {ratio} |"
        )
    print("\n| tile encoder (in process, fresh tiles) | stations | p50 ms | p99 ms |")
    print("| --- | ---: | ---: | ---: |")
    for n, name, p50, p99 in encoders:
        print(f"| {name} | {n:,} | {p50:.2f} | {p99:.2f} |")
    print(f"\nload after: {os.getloadavg()[0]:.2f} (1 min) on {os.cpu_count()} CPUs")


def _ms(text: str) -> float | None:
    """wrk's latency text ("812.00us", "1.20ms", "2.01s") in milliseconds."""
    for unit, scale in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(unit):
            try:
                return float(text[: -len(unit)]) * scale
            except ValueError:
                return None
    return None


def _median(values: list[float | None]) -> float | None:
    got = [v for v in values if v is not None]
    return statistics.median(got) if got else None


if __name__ == "__main__":
    main()
