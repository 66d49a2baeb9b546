"""National-scale benchmark: 100,000 stations on SQLite and PostGIS, run by hand.

    python bench/scale_bench.py --quick          # smoke run, about 3 minutes
    python bench/scale_bench.py                  # the issue's full run (5-minute soak), ~12 min
    python bench/scale_bench.py --soak-seconds 60 --http-seconds 10

Everything is measured in the same run, so the ratios compare like with like on whatever else
the machine is doing (the load average is printed with each phase):

1. **Import** — ``stations import`` (the CLI, a subprocess) of the synthetic national CSV
   (``bench/national.py``) into a fresh SQLite file and into a fresh PostGIS schema. Baseline:
   reading the same CSV with ``csv.DictReader``. Target ≤ 10 s each.
2. **Nearest, in memory vs PostGIS** — ``StationCatalog.nearest`` (and the bare
   ``GeodesicIndex`` under it) against PostGIS KNN (``ORDER BY geom <-> point LIMIT k``,
   GiST index) over the same PostGIS store, k = 5, the same rider query points, taking turns
   in blocks of 50 queries. ``<->`` on ``geometry(Point, 4326)`` ranks by planar *degrees*, not metres,
   so its answers are compared as they are and also after PostGIS re-ranks its top 4k by
   ``ST_Distance(geography)`` (geodesic metres on the spheroid). Target: in memory ≥ 20×.
3. **HTTP** — ``/api/v1/nearest`` (varying rider points) and the constant ``/livez`` with
   1 and 2 workers (``stations serve --workers N``) on SQLite and on PostGIS: throughput,
   p50/p99 latency, and each worker's RSS afterwards (goal ≤ 300 MB at 100k stations).
4. **Soak** — 2 workers on PostGIS; a mix of nearest (some filtered) and list requests at
   80 % of the mix's measured maximum for ``--soak-seconds`` (default 300), with a write
   every second (PATCH through the API with an editor's bearer token, or through the store
   with ``--writes store``). Reports errors (must be 0), p99 latency per segment, and each
   worker's RSS growth (≤ 10 %).

The servers run with ``STATIONS_RATE_LIMIT_PER_MINUTE`` raised (the default 600 per client
address would throttle a load test that comes from one address). Requests go only to
127.0.0.1; every loop is bounded by a duration and stops by itself. The PostGIS schema is
dropped at the end.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from bench.loadgen import (  # noqa: E402
    NO_RATE_LIMIT,
    LoadResult,
    Server,
    assert_local,
    free_port,
    run_load,
)
from bench.national import national_stations, rider_queries, write_stations_csv  # noqa: E402

__all__ = ["main"]

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@dataclass
class Report:
    """Rows of the final table, collected phase by phase."""

    rows: list[tuple[str, str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, what: str, value: str, ratio: str = "") -> None:
        self.rows.append((what, value, ratio))
        print(f"  {what:<58} {value:>22}  {ratio}", flush=True)

    def section(self, title: str) -> None:
        load = os.getloadavg()
        line = f"== {title}  (load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f})"
        self.rows.append((line, "", ""))
        print(line, flush=True)

    def print(self) -> None:
        print("\n" + "=" * 100)
        print("Summary (all measured in this run)")
        print("=" * 100)
        for what, value, ratio in self.rows:
            if what.startswith("=="):
                print(what)
            else:
                print(f"  {what:<58} {value:>22}  {ratio}")
        for note in self.notes:
            print(f"note: {note}")


def _cli(args: Sequence[str], url: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, STATIONS_DATABASE_URL=url)
    return subprocess.run(
        [sys.executable, "-c", "from cli import main; main()", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


@contextmanager
def _pg_schema(base_url: str) -> Iterator[str]:
    """A fresh schema on ``base_url`` (search_path set in the URL), dropped afterwards."""
    from sqlalchemy import create_engine, text

    schema = "scale_" + uuid.uuid4().hex[:10]
    admin = create_engine(base_url)
    with admin.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in base_url else "?"
    try:
        yield f"{base_url}{sep}options=-csearch_path%3D{schema},public"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


# -- 1. import ------------------------------------------------------------------------------


def phase_import(report: Report, csv_path: Path, sqlite_url: str, pg_url: str | None) -> None:
    report.section("1. stations import of the national CSV (target ≤ 10 s)")
    t = time.perf_counter()
    with open(csv_path, encoding="utf-8", newline="") as fh:
        rows = sum(1 for _ in csv.DictReader(fh))
    read_s = time.perf_counter() - t
    report.add(f"baseline: csv.DictReader over {rows} rows", f"{read_s:.2f} s", "1.0×")
    timings = {}
    for label, url in (("SQLite", sqlite_url), ("PostGIS", pg_url)):
        if url is None:
            continue
        t = time.perf_counter()
        done = _cli(["import", str(csv_path)], url)
        took = time.perf_counter() - t
        if done.returncode != 0:
            raise RuntimeError(f"import into {label} failed:\n{done.stdout}\n{done.stderr}")
        added = next((ln for ln in done.stdout.splitlines() if "added" in ln), "?").strip()
        timings[label] = took
        verdict = "ok" if took <= 10 else "OVER TARGET"
        report.add(
            f"stations import → {label} ({added})",
            f"{took:.2f} s",
            f"{took / read_s:.0f}× read  [{verdict}]",
        )
    if len(timings) == 2:
        report.add(
            "PostGIS import / SQLite import", "", f"{timings['PostGIS'] / timings['SQLite']:.2f}×"
        )


# -- 2. in-memory nearest vs PostGIS KNN -----------------------------------------------------

_KNN = (
    "SELECT id FROM stations WHERE deleted_at IS NULL "
    "ORDER BY geom <-> ST_SetSRID(ST_MakePoint(%(x)s, %(y)s), 4326) LIMIT %(k)s"
)
_KNN_RERANKED = (
    "SELECT id FROM (SELECT id, geom FROM stations WHERE deleted_at IS NULL "
    "ORDER BY geom <-> ST_SetSRID(ST_MakePoint(%(x)s, %(y)s), 4326) LIMIT %(m)s) c "
    "ORDER BY ST_Distance(c.geom::geography, "
    "ST_SetSRID(ST_MakePoint(%(x)s, %(y)s), 4326)::geography), id LIMIT %(k)s"
)


def _libpq(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def phase_knn(report: Report, pg_url: str, points: np.ndarray, k: int = 5) -> None:
    import psycopg

    from stations.search import NearestQuery, StationCatalog
    from stations.store import SqlStationStore

    report.section(f"2. nearest k={k}: in-memory catalog vs PostGIS KNN, {len(points)} queries")
    store = SqlStationStore(pg_url)
    try:
        t = time.perf_counter()
        catalog = StationCatalog(store)
        catalog.nearest(NearestQuery(float(points[0, 0]), float(points[0, 1]), k))
        report.add(
            f"load catalog of {len(catalog)} stations + build index",
            f"{time.perf_counter() - t:.2f} s",
        )
        index = catalog._snap.index  # the bare index the catalog uses, for the breakdown
        conn = psycopg.connect(_libpq(pg_url), autocommit=True)
        cur = conn.cursor()
        # Fresh statistics, as autovacuum would have them soon after the import.
        cur.execute("ANALYZE stations")
        t_cat: list[float] = []
        t_idx: list[float] = []
        t_pg: list[float] = []
        t_pg2: list[float] = []
        pts = points.tolist()
        mine: list[Any] = []
        pg: list[list[int]] = []
        pg2: list[list[int]] = []

        # Taking turns in blocks of 50 queries, the method that goes first rotating from
        # block to block: a busy moment on the machine slows all four alike, each method
        # runs with its own code and data warm in the caches, and none always follows one
        # that has just warmed (or flushed) the caches for the same points.
        def run_catalog(x: float, y: float) -> list[Any]:
            return catalog.nearest(NearestQuery(x, y, k))

        def run_index(x: float, y: float) -> object:
            return index.nearest(x, y, k)

        def run_pg(x: float, y: float) -> list[int]:
            cur.execute(_KNN, {"x": x, "y": y, "k": k}, prepare=True)
            return [r[0] for r in cur.fetchall()]

        def run_pg2(x: float, y: float) -> list[int]:
            cur.execute(_KNN_RERANKED, {"x": x, "y": y, "k": k, "m": 4 * k}, prepare=True)
            return [r[0] for r in cur.fetchall()]

        methods = [
            (run_catalog, t_cat, mine),
            (run_index, t_idx, []),
            (run_pg, t_pg, pg),
            (run_pg2, t_pg2, pg2),
        ]
        for block, start in enumerate(range(0, len(pts), 50)):
            turn = block % len(methods)
            for run, times, answers in methods[turn:] + methods[:turn]:
                for x, y in pts[start : start + 50]:
                    t0 = time.perf_counter()
                    answer = run(x, y)
                    times.append(time.perf_counter() - t0)
                    answers.append(answer)
        mine = [[h.station.id for h in hits] for hits in mine]
        same = sum(a == b for a, b in zip(mine, pg, strict=True))
        same_set = sum(set(a) == set(b) for a, b in zip(mine, pg, strict=True))
        same_rr = sum(a == b for a, b in zip(mine, pg2, strict=True))
        conn.close()
    finally:
        store.close()
    n = len(points)
    med = {
        name: statistics.median(v) * 1e6
        for name, v in (("cat", t_cat), ("idx", t_idx), ("pg", t_pg), ("pg2", t_pg2))
    }
    report.add("in-memory StationCatalog.nearest, median", f"{med['cat']:.1f} µs", "1.0×")
    report.add(
        "  of which GeodesicIndex.nearest, median",
        f"{med['idx']:.1f} µs",
        f"{med['idx'] / med['cat']:.2f}×",
    )
    verdict = "ok" if med["pg"] / med["cat"] >= 20 else "UNDER TARGET 20×"
    report.add(
        "PostGIS KNN geometry <-> (TCP 127.0.0.1), median",
        f"{med['pg']:.1f} µs",
        f"{med['pg'] / med['cat']:.1f}× slower  [{verdict}]",
    )
    report.add(
        f"PostGIS KNN top {4 * k} re-ranked by ST_Distance(geography)",
        f"{med['pg2']:.1f} µs",
        f"{med['pg2'] / med['cat']:.1f}× slower",
    )
    report.add(
        "means: catalog / PostGIS KNN", f"{np.mean(t_cat) * 1e6:.1f} / {np.mean(t_pg) * 1e6:.1f} µs"
    )
    report.add("agreement with in-memory: KNN <-> same ids in order", f"{same / n:.1%}")
    report.add("agreement: KNN <-> same set of ids", f"{same_set / n:.1%}")
    report.add("agreement: KNN re-ranked geodesically, same order", f"{same_rr / n:.1%}")
    report.notes.append(
        "PostGIS `<->` on geometry(Point,4326) ranks by planar degrees (a degree of longitude "
        "is cos(lat) shorter than a degree of latitude), so its raw order differs from "
        "geodesic metres; re-ranked by ST_Distance(geography) it is the geodesic order."
    )


# -- 3. HTTP throughput ----------------------------------------------------------------------


def _nearest_paths(points: np.ndarray, k: int = 5) -> list[str]:
    return [
        f"/api/v1/nearest?{urlencode({'lat': f'{y:.6f}', 'lon': f'{x:.6f}', 'k': k})}"
        for x, y in points.tolist()
    ]


def _mix_paths(points: np.ndarray, seed: int = 11) -> list[str]:
    """The soak's traffic: 70 % nearest, 10 % nearest open-now with hot water, 20 % lists."""
    rng = random.Random(seed)
    out = []
    for x, y in points.tolist():
        roll = rng.random()
        if roll < 0.70:
            q = {"lat": f"{y:.6f}", "lon": f"{x:.6f}", "k": 5}
            out.append(f"/api/v1/nearest?{urlencode(q)}")
        elif roll < 0.80:
            q = {
                "lat": f"{y:.6f}",
                "lon": f"{x:.6f}",
                "k": 5,
                "amenity": "hot_water",
                "open_now": "true",
            }
            out.append(f"/api/v1/nearest?{urlencode(q)}")
        else:
            half = 0.01  # a ~2 km view around the rider, like a phone map
            bbox = f"{x - half:.5f},{y - half:.5f},{x + half:.5f},{y + half:.5f}"
            out.append(f"/api/v1/stations?{urlencode({'bbox': bbox, 'limit': 50})}")
    return out


def phase_http(
    report: Report,
    stores: dict[str, str],
    points: np.ndarray,
    seconds: int,
    workdir: Path,
    force_httpx: bool,
) -> None:
    report.section(f"3. HTTP: /api/v1/nearest and /livez, {seconds} s each, wrk -c16")
    nearest_paths = _nearest_paths(points)
    # Baseline for memory: one worker with the same code and an empty store.
    empty_url = "sqlite:///" + str(workdir / "empty.db")
    with Server(empty_url, 1, free_port(), workdir / "serve-empty.log", NO_RATE_LIMIT) as srv:
        srv.wait_ready()
        run_load(srv.base, nearest_paths, 2, workdir=workdir, force_httpx=force_httpx)
        empty_rss = max(srv.rss().values())
    report.add("baseline: RSS of a worker with 0 stations", f"{empty_rss:.0f} MiB", "1.0×")
    results: dict[tuple[str, int], LoadResult] = {}
    for label, url in stores.items():
        for workers in (1, 2):
            port = free_port()
            log = workdir / f"serve-{label}-{workers}.log"
            with Server(url, workers, port, log, NO_RATE_LIMIT) as server:
                ready = server.wait_ready()
                run_load(
                    server.base, nearest_paths, 3, workdir=workdir, force_httpx=force_httpx
                )  # warm-up: masks, caches, JIT of nothing
                livez = run_load(
                    server.base, ["/livez"], seconds, workdir=workdir, force_httpx=force_httpx
                )
                near = run_load(
                    server.base, nearest_paths, seconds, workdir=workdir, force_httpx=force_httpx
                )
                rss = server.rss()
            results[(label, workers)] = near
            tag = f"{label}, {workers} worker{'s' if workers > 1 else ''}"
            report.add(f"{tag}: ready after", f"{ready:.1f} s")
            report.add(
                f"{tag}: /livez",
                f"{livez.rps:,.0f} req/s",
                f"p50 {livez.p50_ms:.1f} ms, p99 {livez.p99_ms:.1f} ms, err {livez.errors}",
            )
            report.add(
                f"{tag}: /api/v1/nearest",
                f"{near.rps:,.0f} req/s",
                f"{near.rps / livez.rps:.2f}× livez; p50 {near.p50_ms:.1f} ms, "
                f"p99 {near.p99_ms:.1f} ms, err {near.errors}",
            )
            for pid, mb in rss.items():
                verdict = "ok" if mb <= 300 else "OVER GOAL 300 MB"
                report.add(
                    f"{tag}: RSS of worker {pid}",
                    f"{mb:.0f} MiB",
                    f"{mb / empty_rss:.2f}× empty  [{verdict}]",
                )
    for label in stores:
        one, two = results.get((label, 1)), results.get((label, 2))
        if one and two:
            report.add(
                f"{label}: nearest req/s, 2 workers / 1 worker", "", f"{two.rps / one.rps:.2f}×"
            )
    if ("SQLite", 2) in results and ("PostGIS", 2) in results:
        report.add(
            "nearest req/s with 2 workers, PostGIS / SQLite",
            "",
            f"{results[('PostGIS', 2)].rps / results[('SQLite', 2)].rps:.2f}×",
        )
    report.notes.append(
        f"load generator: {results[next(iter(results))].tool} on the same 2-core machine "
        "as the server, so it takes part of the CPU the workers would otherwise have."
    )


# -- 4. soak ---------------------------------------------------------------------------------


class _Writer(threading.Thread):
    """One write a second until ``stop`` is set: PATCH over HTTP, or through the store."""

    def __init__(self, base: str, ids: Sequence[int], token: str | None, pg_url: str) -> None:
        super().__init__(name="soak-writer", daemon=True)
        self.base = assert_local(base)
        self.ids = list(ids)
        self.token = token
        self.pg_url = pg_url
        self.stop = threading.Event()
        self.done = 0
        self.errors: list[str] = []
        self.latencies: list[float] = []

    def run(self) -> None:
        import httpx

        from stations.store import SqlStationStore

        rng = random.Random(5)
        store = None if self.token else SqlStationStore(self.pg_url)
        client = httpx.Client(
            base_url=self.base,
            timeout=10,
            headers={"Authorization": f"Bearer {self.token}"} if self.token else {},
        )
        try:
            tick = time.monotonic()
            while not self.stop.is_set():
                sid = rng.choice(self.ids)
                change = {"notes": f"soak write {self.done} {time.time():.0f}"}
                t = time.perf_counter()
                try:
                    if store is not None:
                        store.update(sid, change, actor="soak")
                    else:
                        r = client.patch(f"/api/v1/stations/{sid}", json=change)
                        if r.status_code != 200:
                            self.errors.append(f"PATCH {sid}: {r.status_code} {r.text[:200]}")
                except Exception as exc:  # counted and shown, the soak goes on
                    self.errors.append(f"write {sid}: {exc!r}")
                self.latencies.append(time.perf_counter() - t)
                self.done += 1
                tick += 1.0
                self.stop.wait(max(0.0, tick - time.monotonic()))
        finally:
            client.close()
            if store is not None:
                store.close()


def _editor_token(pg_url: str) -> str:
    """A bearer token for a fresh editor account, made with the documented CLI commands."""
    name = "bench-" + uuid.uuid4().hex[:6]
    added = _cli(["users", "add", name, "--role", "editor"], pg_url)
    if added.returncode != 0:
        raise RuntimeError(f"stations users add failed: {added.stderr.strip()}")
    made = _cli(["token", "create", name, "--label", "scale bench"], pg_url)
    if made.returncode != 0 or not made.stdout.strip():
        raise RuntimeError(f"stations token create failed: {made.stderr.strip()}")
    return made.stdout.strip().splitlines()[-1]


def phase_soak(
    report: Report,
    pg_url: str,
    points: np.ndarray,
    seconds: int,
    workdir: Path,
    writes: str,
    force_httpx: bool,
) -> None:
    from stations.store import SqlStationStore

    report.section(
        f"4. soak: 2 workers on PostGIS, mixed traffic at 80 % of max for "
        f"{seconds} s, 1 write/s via {writes}"
    )
    paths = _mix_paths(points)
    store = SqlStationStore(pg_url)
    try:
        ids = [s.id for s in store.all()]
    finally:
        store.close()
    token = None
    if writes == "http":
        try:
            token = _editor_token(pg_url)
        except RuntimeError as exc:
            report.notes.append(f"HTTP writes unavailable ({exc}); writing through the store")
            writes = "store"
    # Many connections with a pause each: the offered rate then depends little on latency.
    connections = 48
    port = free_port()
    with Server(pg_url, 2, port, workdir / "serve-soak.log", NO_RATE_LIMIT) as server:
        server.wait_ready()
        run_load(
            server.base, paths, 5, connections=connections, workdir=workdir, force_httpx=force_httpx
        )
        peak = run_load(
            server.base,
            paths,
            10,
            connections=connections,
            workdir=workdir,
            force_httpx=force_httpx,
        )
        target = 0.8 * peak.rps
        report.add(
            "mix at full speed (10 s), no writes",
            f"{peak.rps:,.0f} req/s",
            f"p99 {peak.p99_ms:.1f} ms, err {peak.errors}",
        )
        report.add("soak target: 80 % of that", f"{target:,.0f} req/s")
        rss0 = server.rss()
        writer = _Writer(server.base, ids, token, pg_url)
        writer.start()
        segment = max(5, min(30, seconds // 10))
        # Each connection waits after a response so that connections / (latency + delay)
        # is the target rate; the delay is corrected after every segment.
        delay_ms = max(0.0, connections / target * 1000.0 - peak.mean_ms)
        segments: list[LoadResult] = []
        started = time.monotonic()
        try:
            while True:
                left = seconds - (time.monotonic() - started)
                if left < 1:
                    break
                seg = run_load(
                    server.base,
                    paths,
                    int(min(segment, max(1, left))),
                    connections=connections,
                    delay_ms=delay_ms,
                    workdir=workdir,
                    force_httpx=force_httpx,
                )
                segments.append(seg)
                achieved_interval = connections / max(seg.rps, 1e-9) * 1000.0
                delay_ms = max(0.0, delay_ms + connections / target * 1000.0 - achieved_interval)
                print(
                    f"    segment {len(segments)}: {seg.rps:,.0f} req/s, p50 "
                    f"{seg.p50_ms:.1f} ms, p99 {seg.p99_ms:.1f} ms, max {seg.max_ms:.0f} ms,"
                    f" err {seg.errors}, writes {writer.done} "
                    f"(err {len(writer.errors)}), next delay {delay_ms:.2f} ms",
                    flush=True,
                )
        finally:
            writer.stop.set()
            writer.join(timeout=30)
        rss1 = server.rss()
    total = sum(s.requests for s in segments)
    span = sum(s.seconds for s in segments)
    errors = sum(s.errors for s in segments)
    p99s = [s.p99_ms for s in segments]
    report.add(
        "soak: requests / seconds",
        f"{total:,} / {span:.0f} s",
        f"{total / span:,.0f} req/s = {total / span / peak.rps:.0%} of max",
    )
    report.add("soak: HTTP errors (must be 0)", f"{errors}", "[ok]" if errors == 0 else "[FAIL]")
    report.add(
        "soak: p50 latency, median of segments",
        f"{statistics.median(s.p50_ms for s in segments):.1f} ms",
    )
    report.add(
        "soak: p99 latency, worst / median segment",
        f"{max(p99s):.1f} / {statistics.median(p99s):.1f} ms",
        f"max {max(s.max_ms for s in segments):.0f} ms",
    )
    report.add(
        f"soak: writes via {writes} (errors must be 0)",
        f"{writer.done} ({len(writer.errors)} errors)",
        f"median {statistics.median(writer.latencies or [0]) * 1e3:.0f} ms, "
        f"max {max(writer.latencies or [0]) * 1e3:.0f} ms",
    )
    for err in writer.errors[:5]:
        report.notes.append(f"write error: {err}")
    for pid in rss0:
        before, after = rss0[pid], rss1.get(pid, float("nan"))
        growth = after / before - 1
        verdict = "ok" if growth <= 0.10 else "OVER 10 %"
        report.add(
            f"soak: RSS of worker {pid}, start → end",
            f"{before:.0f} → {after:.0f} MiB",
            f"{growth:+.1%}  [{verdict}]",
        )


# -- main ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run the phases and print the table; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="stations in the national set")
    parser.add_argument("--queries", type=int, default=2000, help="nearest queries compared")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 5 s HTTP runs and a 20 s soak"
    )
    parser.add_argument(
        "--http-seconds",
        type=int,
        default=None,
        help="length of each HTTP throughput run (default 15, quick 5)",
    )
    parser.add_argument(
        "--soak-seconds",
        type=int,
        default=None,
        help="soak length (default 300 as the issue asks, quick 20)",
    )
    parser.add_argument(
        "--writes",
        choices=("http", "store"),
        default="http",
        help="soak writes: PATCH with a bearer token, or the store directly",
    )
    parser.add_argument(
        "--postgres-url", default=os.environ.get("STATIONS_TEST_POSTGRES_URL", DEFAULT_PG)
    )
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=("import", "knn", "http", "soak", "postgis"),
        help="leave out a phase (repeatable); 'postgis' leaves out PostGIS",
    )
    parser.add_argument(
        "--httpx", action="store_true", help="use the httpx load loop even when wrk is installed"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the work folder (CSV, SQLite file, server logs)"
    )
    args = parser.parse_args(argv)
    http_s = args.http_seconds or (5 if args.quick else 15)
    soak_s = args.soak_seconds or (20 if args.quick else 300)
    report = Report()
    workdir = Path(tempfile.mkdtemp(prefix="scale-bench-"))
    print(f"work folder {workdir} (removed at the end unless --keep or a phase fails)")
    report.section(f"0. national set: {args.n} stations, seed {args.seed}")
    t = time.perf_counter()
    rows = national_stations(args.n, args.seed)
    csv_path = write_stations_csv(workdir / "national.csv", rows)
    points = rider_queries(rows, max(args.queries, 2000), args.seed + 1)
    report.add(
        "generate + write CSV",
        f"{time.perf_counter() - t:.2f} s",
        f"{csv_path.stat().st_size / 1e6:.1f} MB",
    )
    sqlite_url = "sqlite:///" + str(workdir / "stations.db")
    use_pg = "postgis" not in args.skip
    with _pg_schema(args.postgres_url) if use_pg else _nothing() as pg_url:
        if "import" not in args.skip:
            phase_import(report, csv_path, sqlite_url, pg_url)
        else:
            for url in (sqlite_url, pg_url):
                if url and _cli(["import", str(csv_path)], url).returncode != 0:
                    raise RuntimeError(f"import into {url} failed")
        if pg_url and "knn" not in args.skip:
            phase_knn(report, pg_url, points[: args.queries])
        if "http" not in args.skip:
            stores = {"SQLite": sqlite_url} | ({"PostGIS": pg_url} if pg_url else {})
            phase_http(report, stores, points, http_s, workdir, args.httpx)
        if pg_url and "soak" not in args.skip:
            phase_soak(report, pg_url, points, soak_s, workdir, args.writes, args.httpx)
    report.print()
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


@contextmanager
def _nothing() -> Iterator[None]:
    yield None


if __name__ == "__main__":
    sys.exit(main())
