"""Nearest-station benchmark: GeodesicIndex against the usual alternatives, run by hand.

    python bench/nearest_bench.py [--n 100000] [--queries 10000] [--k 5]

Synthetic stations are spread uniformly over a Beijing-sized box (lon 115.4–117.5,
lat 39.4–41.1); queries are uniform over the same box. Every method answers the same
single-point k-nearest queries one at a time, the way a request handler asks. The fast
methods take turns query by query (round robin), so a busy machine slows them alike and the
ratios stay fair; the table shows median microseconds per query and each one's ratio to the
index.

Baselines, all measured in this run:

* geopandas scan: geodesic metres from the query to every point of a GeoSeries (pyproj,
  vectorised C), then a (distance, id) sort — the exact answer by brute force. It is slow,
  so it runs on ``--scan-queries`` queries only, and its answers are the exactness reference.
* scikit-learn BallTree (haversine), queried one point at a time: spherical, so its answers
  are not the geodesic ones; shown for speed.
* PostGIS KNN (``ORDER BY geom <-> point LIMIT k`` with a GiST index on a temporary table)
  over a local socket, on ``--postgis-queries`` queries, only when
  ``STATIONS_TEST_POSTGRES_URL`` is set.

Targets from the design: index median ≤ 20 µs, ≥ 300× faster than the scan, ≥ 4× BallTree,
≥ 20× PostGIS, and 100 % agreement with the brute-force geodesic ranking.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geodata.distance import WGS84_GEOD  # noqa: E402
from geodata.spatial_index import GeodesicIndex  # noqa: E402

BEIJING_BOX = (115.4, 39.4, 117.5, 41.1)  # lon_min, lat_min, lon_max, lat_max
EARTH_MEAN_RADIUS_M = 6_371_008.8
ALLOWED_SHARE = 0.7  # share of stations passing a typical filter (open now, has hot water)

Query = tuple[float, float]
QueryFn = Callable[[float, float], object]
Answer = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # ids, metres: plain, filtered


@dataclass
class Points:
    ids: np.ndarray
    lon: np.ndarray
    lat: np.ndarray


@dataclass
class Method:
    """One contender: a single-query function and how many of the queries it answers."""

    name: str
    query: QueryFn
    limit: int
    note: str = ""


@dataclass
class Row:
    name: str
    median_us: float
    queries: int
    note: str = ""


# -- data -------------------------------------------------------------------------------------


def build_points(n: int, seed: int) -> Points:
    """``n`` stations uniform over the Beijing box, with shuffled, gappy int64 ids."""
    rng = np.random.default_rng(seed)
    lon_min, lat_min, lon_max, lat_max = BEIJING_BOX
    ids = (rng.permutation(n) * 7 + 1000).astype(np.int64)
    return Points(ids, rng.uniform(lon_min, lon_max, n), rng.uniform(lat_min, lat_max, n))


def build_queries(count: int, seed: int) -> list[Query]:
    rng = np.random.default_rng(seed + 1)
    lon_min, lat_min, lon_max, lat_max = BEIJING_BOX
    lon = rng.uniform(lon_min, lon_max, count)
    lat = rng.uniform(lat_min, lat_max, count)
    return list(zip(lon.tolist(), lat.tolist(), strict=True))


def build_allowed(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed + 2).random(n) < ALLOWED_SHARE


# -- timing -----------------------------------------------------------------------------------


def time_round_robin(methods: list[Method], queries: list[Query]) -> list[Row]:
    """Per-query seconds of each method, the methods taking turns on every query."""
    for method in methods:  # warm-up: caches, prepared statements, lazy imports
        for lon, lat in queries[:50]:
            method.query(lon, lat)
    clock = time.perf_counter
    seconds: list[list[float]] = [[] for _ in methods]
    for i, (lon, lat) in enumerate(queries):
        for method, out in zip(methods, seconds, strict=True):
            if i < method.limit:
                start = clock()
                method.query(lon, lat)
                out.append(clock() - start)
    return [
        Row(m.name, statistics.median(s) * 1e6, len(s), m.note)
        for m, s in zip(methods, seconds, strict=True)
    ]


def bench_build(points: Points, repeat: int = 5) -> float:
    """Median seconds to build the index (the service rebuilds it after writes)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        GeodesicIndex(points.ids, points.lon, points.lat)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# -- contenders -------------------------------------------------------------------------------


def bench_index(index: GeodesicIndex, k: int, limit: int) -> Method:
    return Method(
        "GeodesicIndex.nearest",
        lambda lon, lat: index.nearest(lon, lat, k),
        limit,
        "exact geodesic",
    )


def bench_index_filtered(index: GeodesicIndex, allowed: np.ndarray, k: int, limit: int) -> Method:
    return Method(
        "GeodesicIndex.nearest (filtered)",
        lambda lon, lat: index.nearest(lon, lat, k, allowed=allowed),
        limit,
        f"exact, allowed mask passing {ALLOWED_SHARE:.0%}",
    )


def bench_balltree(points: Points, k: int, limit: int) -> Method:
    from sklearn.neighbors import BallTree

    tree = BallTree(np.radians(np.column_stack((points.lat, points.lon))), metric="haversine")

    def query(lon: float, lat: float) -> tuple[np.ndarray, np.ndarray]:
        dist, pos = tree.query(np.radians([[lat, lon]]), k=k)
        return points.ids[pos[0]], dist[0] * EARTH_MEAN_RADIUS_M

    return Method("sklearn BallTree (haversine)", query, limit, "spherical, one at a time")


def postgres_conninfo() -> str | None:
    """psycopg conninfo from STATIONS_TEST_POSTGRES_URL (SQLAlchemy form accepted)."""
    url = os.environ.get("STATIONS_TEST_POSTGRES_URL")
    if not url:
        return None
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@contextmanager
def bench_postgis(conninfo: str, points: Points, k: int, limit: int) -> Iterator[Method]:
    """A temporary GiST-indexed table of the points and a KNN query method over it."""
    import psycopg

    sql = "SELECT id FROM bench_stations ORDER BY geom <-> ST_SetSRID(ST_MakePoint(%s, %s), 4326) LIMIT %s"
    with psycopg.connect(conninfo) as conn:
        conn.execute(
            "CREATE TEMPORARY TABLE bench_stations (id bigint PRIMARY KEY, geom geometry(Point, 4326) NOT NULL)"
        )
        rows = zip(points.ids.tolist(), points.lon.tolist(), points.lat.tolist(), strict=True)
        with conn.cursor().copy("COPY bench_stations (id, geom) FROM STDIN") as copy:
            for sid, lon, lat in rows:
                copy.write_row((sid, f"SRID=4326;POINT({lon!r} {lat!r})"))
        conn.execute("CREATE INDEX ON bench_stations USING gist (geom)")
        conn.execute("ANALYZE bench_stations")
        cur = conn.cursor()

        def query(lon: float, lat: float) -> list[tuple[int]]:
            cur.execute(sql, (lon, lat, k), prepare=True)
            return cur.fetchall()

        yield Method("PostGIS KNN (<->, GiST)", query, limit, "planar degrees, local socket")


def scan_ranking(
    xs: np.ndarray, ys: np.ndarray, ids: np.ndarray, lon: float, lat: float
) -> tuple[np.ndarray, np.ndarray]:
    """Brute force: geodesic metres to every point, positions sorted by (distance, id)."""
    n = xs.size
    dist = WGS84_GEOD.inv(np.full(n, lon), np.full(n, lat), xs.copy(), ys.copy())[2]
    return np.lexsort((ids, dist)), dist


def bench_geopandas_scan(
    points: Points, allowed: np.ndarray, queries: list[Query], k: int
) -> tuple[Row, list[Answer]]:
    """Time the scan; keep its top k (plain and filtered) as the exactness reference."""
    import geopandas

    series = geopandas.GeoSeries(geopandas.points_from_xy(points.lon, points.lat), crs=4326)
    xs = series.x.to_numpy()
    ys = series.y.to_numpy()
    answers: list[Answer] = []
    times = []
    for lon, lat in queries:
        start = time.perf_counter()
        order, dist = scan_ranking(xs, ys, points.ids, lon, lat)
        times.append(time.perf_counter() - start)
        top = order[:k]
        top_f = order[allowed[order]][:k]
        answers.append((points.ids[top], dist[top], points.ids[top_f], dist[top_f]))
    row = Row(
        "geopandas geodesic scan",
        statistics.median(times) * 1e6,
        len(queries),
        "exact, brute force",
    )
    return row, answers


# -- checks and report ------------------------------------------------------------------------


def check_exactness(
    index: GeodesicIndex, allowed: np.ndarray, queries: list[Query], answers: list[Answer], k: int
) -> tuple[int, int]:
    """How many of the index's answers (plain and filtered) equal the brute-force ranking."""
    agree = 0
    for (lon, lat), (ids, dist, ids_f, dist_f) in zip(queries, answers, strict=True):
        got = index.nearest(lon, lat, k)
        got_f = index.nearest(lon, lat, k, allowed=allowed)
        agree += int(np.array_equal(got[0], ids) and np.array_equal(got[1], dist))
        agree += int(np.array_equal(got_f[0], ids_f) and np.array_equal(got_f[1], dist_f))
    return agree, 2 * len(queries)


def print_table(rows: list[Row], reference: Row) -> None:
    print(f"{'method':36} {'median µs':>11} {'× index':>9} {'queries':>8}  note")
    for row in rows:
        ratio = row.median_us / reference.median_us
        print(f"{row.name:36} {row.median_us:11.1f} {ratio:9.1f} {row.queries:8d}  {row.note}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="GeodesicIndex nearest-station benchmark")
    parser.add_argument("--n", type=int, default=100_000, help="number of stations")
    parser.add_argument("--queries", type=int, default=10_000, help="queries for the fast methods")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument(
        "--scan-queries",
        type=int,
        default=1_000,
        help="queries for the brute-force scan and the exactness check",
    )
    parser.add_argument("--postgis-queries", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument(
        "--http",
        action="store_true",
        help="also measure /api/v1/nearest over HTTP against a bare endpoint",
    )
    parser.add_argument("--http-seconds", type=int, default=6)
    parser.add_argument("--http-rounds", type=int, default=5)
    return parser.parse_args(argv)


def bench_http(points: Points, seconds: int, rounds: int, seed: int) -> None:
    """/api/v1/nearest vs /livez (constant small JSON) of the same app, same server, wrk.

    The endpoints take turns, ``rounds`` times, every other round in reverse order: this
    machine's speed drifts by ±10 % over a minute, and a ratio of two runs measured side by
    side moves much less than one of runs measured a minute apart. Each round's ratio is
    printed; the verdict is their median.
    """
    import statistics
    import tempfile

    from bench.loadgen import NO_RATE_LIMIT, LoadResult, Server, free_port, run_load
    from stations.model import StationData
    from stations.store.base import ImportPlanRow
    from stations.store.sql import SqlStationStore

    queries = build_queries(2000, seed + 1)
    # The filtered row asks for hot water, which the stations of the index rows' filter
    # (70 %) have: a filter that passes nothing would measure an empty answer instead.
    hot_water = build_allowed(len(points.ids), seed)
    nearest = [f"/api/v1/nearest?lat={la:.6f}&lon={lo:.6f}&k=5" for lo, la in queries]
    filtered = [q + "&amenity=hot_water&open_now=1" for q in nearest]
    # Riders' browsers ask for gzip; wrk, like the target's measure, does not. The last row
    # shows what compression adds to a real rider's request.
    gzip = {"Accept-Encoding": "gzip"}
    endpoints = (
        ("bare /livez (constant JSON)", ["/livez"], {}),
        ("/api/v1/nearest k=5", nearest, {}),
        ("/api/v1/nearest k=5 + filters", filtered, {}),
        ("/api/v1/nearest k=5, gzip", nearest, gzip),
    )
    with tempfile.TemporaryDirectory() as tmp:
        url = "sqlite:///" + str(Path(tmp) / "bench.db")
        store = SqlStationStore(url)
        store.apply_import(
            [
                ImportPlanRow(
                    StationData(
                        name=f"站{i}",
                        lon=float(x),
                        lat=float(y),
                        opening_hours="24/7",
                        amenities=("hot_water",) if hot else (),
                    )
                )
                for i, (x, y, hot) in enumerate(
                    zip(points.lon, points.lat, hot_water.tolist(), strict=True)
                )
            ],
            actor="bench",
        )
        store.close()
        with Server(url, 1, free_port(), Path(tmp) / "serve.log", NO_RATE_LIMIT) as server:
            server.wait_ready()
            # Steady state, as a long-running server is: each endpoint gets a warm-up run
            # first (for nearest, the stations' cached JSON fragments fill up).
            warm = {
                label: run_load(server.base, paths, 3, connections=32, headers=headers)
                for label, paths, headers in endpoints
            }
            runs: list[dict[str, LoadResult]] = []
            for i in range(rounds):  # every other round in reverse: drift favours no row
                order = endpoints if i % 2 == 0 else endpoints[::-1]
                done = {
                    label: run_load(server.base, paths, seconds, connections=32, headers=headers)
                    for label, paths, headers in order
                }
                runs.append({label: done[label] for label, _, _ in endpoints})
    print(
        f"\nHTTP, 1 uvicorn worker, 32 connections, {rounds} rounds of {seconds} s per "
        f"endpoint, taking turns; load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"{'round':6} {'endpoint':34} {'req/s':>9} {'× bare':>7} {'p50 ms':>8} "
        f"{'p99 ms':>8} {'errors':>7}"
    )
    label_bare, label_nearest = endpoints[0][0], endpoints[1][0]
    cold = warm[label_nearest]
    print(
        f"{'warm':6} {label_nearest + ' (cache filling)':34} {cold.rps:9.0f} "
        f"{cold.rps / warm[label_bare].rps:7.2f} {cold.p50_ms:8.2f} {cold.p99_ms:8.2f} "
        f"{cold.errors:7d}"
    )
    for i, run in enumerate(runs, 1):
        bare = run[label_bare]
        for label, r in run.items():
            print(
                f"{i:<6} {label:34} {r.rps:9.0f} {r.rps / bare.rps:7.2f} {r.p50_ms:8.2f} "
                f"{r.p99_ms:8.2f} {r.errors:7d}"
            )
    ratios = sorted(run[label_nearest].rps / run[label_bare].rps for run in runs)
    print(
        f"nearest throughput = {statistics.median(ratios):.0%} of the bare endpoint, median "
        f"of {rounds} rounds ({', '.join(f'{r:.0%}' for r in ratios)}; target ≥ 85 %)"
    )


def run_fast_methods(
    args: argparse.Namespace,
    points: Points,
    index: GeodesicIndex,
    allowed: np.ndarray,
    queries: list[Query],
) -> list[Row]:
    methods = [
        bench_index(index, args.k, len(queries)),
        bench_index_filtered(index, allowed, args.k, len(queries)),
        bench_balltree(points, args.k, len(queries)),
    ]
    conninfo = postgres_conninfo()
    if conninfo is None:
        print("PostGIS row skipped: STATIONS_TEST_POSTGRES_URL is not set")
        return time_round_robin(methods, queries)
    with bench_postgis(conninfo, points, args.k, args.postgis_queries) as postgis:
        return time_round_robin([*methods, postgis], queries)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    points = build_points(args.n, args.seed)
    queries = build_queries(args.queries, args.seed)
    allowed = build_allowed(args.n, args.seed)
    lon_min, lat_min, lon_max, lat_max = BEIJING_BOX
    print(
        f"{args.n:,} stations over lon {lon_min}–{lon_max}, lat {lat_min}–{lat_max}; k = {args.k}"
    )
    print(f"index build: {bench_build(points) * 1e3:.1f} ms (median of 5)")
    index = GeodesicIndex(points.ids, points.lon, points.lat)

    rows = run_fast_methods(args, points, index, allowed, queries)
    scan_row, answers = bench_geopandas_scan(points, allowed, queries[: args.scan_queries], args.k)
    rows.insert(2, scan_row)
    print_table(rows, rows[0])

    agree, total = check_exactness(index, allowed, queries[: args.scan_queries], answers, args.k)
    print(
        f"exactness vs brute-force geodesic ranking: {agree}/{total} ({agree / total:.2%}), plain and filtered"
    )
    if args.http:
        bench_http(points, args.http_seconds, args.http_rounds, args.seed)
    return 0 if agree == total else 1


if __name__ == "__main__":
    raise SystemExit(main())
