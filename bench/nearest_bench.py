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

Over HTTP (``bench/nearest_http.py``; needs ``wrk`` and the ``bench`` extra)::

    python bench/nearest_bench.py --http-only [--compare OTHER_CHECKOUT]

serves the national data set and measures /api/v1/nearest against ``/livez`` and against a
minimal FastAPI + cKDTree + orjson endpoint that answers the same bytes, with fresh rider
points in every run; ``--compare`` serves a second checkout beside this one (before/after).
Target: ≥ 1.0× the minimal endpoint.
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
    parser.add_argument(
        "--http-stations", type=int, default=100_000, help="national stations served over HTTP"
    )
    parser.add_argument(
        "--http-only", action="store_true", help="skip the in-process methods, run --http only"
    )
    parser.add_argument(
        "--compare",
        type=Path,
        default=None,
        help="a second checkout (with its own .venv) served beside this one: before vs after",
    )
    parser.add_argument(
        "--body-checks",
        type=int,
        default=200,
        help="fresh points whose bodies must be byte-identical (service vs minimal endpoint)",
    )
    return parser.parse_args(argv)


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
    if args.http_only or args.compare:
        args.http = True
    if args.http_only:
        return _http(args)
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
    if args.http and _http(args):
        return 1
    return 0 if agree == total else 1


def _http(args: argparse.Namespace) -> int:
    from bench.nearest_http import bench_http

    return bench_http(
        args.http_stations,
        args.http_seconds,
        args.http_rounds,
        args.seed,
        args.compare,
        args.body_checks,
    )


if __name__ == "__main__":
    raise SystemExit(main())
