"""Memory per worker with the national catalog, and what each further worker adds; by hand.

    python -m bench.catalog_memory_bench [--n 200000] [--workers 1,3] [--mode NAME=ENV ...]

Serves ``--n`` national stations (:mod:`bench.national`: realistic names, addresses, phones,
imported by ``stations import`` into SQLite) with ``stations serve --workers N`` for every N
in ``--workers``, warms every worker up under load (nearest queries at fresh rider points,
so each worker's catalog, fragment cache and allocator reach their working size), then
reads each process's ``/proc/PID/smaps_rollup``:

* **PSS** (proportional set size): private pages plus a share of every page mapped by
  several processes (shared libraries, a memory-mapped file). The sum over a server's
  processes is what the host really spends on it.
* **USS** (private clean + private dirty): what killing that one process would free.

What the figures are held to (issue "Memory for many workers"): at 200,000 stations the
first worker ≤ 300 MiB after warm-up under load, and each further worker ≤ 60 MiB more,
i.e. ``(ΣPSS at N workers − ΣPSS at 1 worker) / (N − 1)`` — with nearest latency unchanged
(a short load run after the warm-up gives p50/p99 and 2xx/s). From one worker to several
that growth includes the supervising parent once (one worker runs without it); with two
counts above one (``--workers 1,3,5``) the growth between them is the workers' own.

``--mode NAME=ENV`` runs the same steps with extra environment settings, each in the same
run (e.g. ``--mode spawn=STATIONS_SERVE_PRELOAD=0`` for workers spawned as before forking,
``--mode mapped=STATIONS_CATALOG_SNAPSHOT=mapped`` for the shared, memory-mapped catalog),
so modes are compared on the same machine minutes apart; ``today`` (no extra setting)
always runs. ``--empty`` adds a server with no stations at
all: the floor a worker costs before any catalog. The machine is shared: ratios between
modes of one run are what count.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.loadgen import NO_RATE_LIMIT, LoadResult, Server, free_port, run_load  # noqa: E402
from bench.national import (  # noqa: E402
    import_with_cli,
    national_stations,
    rider_queries,
    write_stations_csv,
)

_CONNECTIONS = 16


@dataclass
class Memory:
    """One process's memory in MiB, from ``smaps_rollup``."""

    rss: float
    pss: float
    uss: float


@dataclass
class Measured:
    mode: str
    workers: int
    per_worker: list[Memory]
    parent: Memory | None
    load: LoadResult

    @property
    def total_pss(self) -> float:
        """Every process of the server: the workers and the supervising parent."""
        return sum(m.pss for m in self.per_worker) + (self.parent.pss if self.parent else 0.0)


def smaps_rollup(pid: int) -> Memory:
    """RSS, PSS and USS of ``pid`` in MiB (Linux's ``/proc/PID/smaps_rollup``)."""
    kb: dict[str, int] = {}
    with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) >= 3 and parts[-1] == "kB":
                kb[parts[0].rstrip(":")] = int(parts[1])
    uss = kb.get("Private_Clean", 0) + kb.get("Private_Dirty", 0)
    return Memory(kb["Rss"] / 1024, kb["Pss"] / 1024, uss / 1024)


def measure(
    mode: str,
    env: dict[str, str],
    url: str,
    workers: int,
    paths: tuple[list[str], list[str]],
    warm_s: int,
    load_s: int,
    log: Path,
) -> Measured:
    """Start the server, warm it up under load, read its memory, then time a load run."""
    server = Server(url, workers, free_port(), log, {**NO_RATE_LIMIT, **env})
    try:
        server.wait_ready()
        warm, timed = paths
        run_load(server.base, warm, warm_s, connections=_CONNECTIONS)
        per_worker = [smaps_rollup(pid) for pid in server.worker_pids]
        parent = None if workers == 1 else smaps_rollup(server.proc.pid)
        load = run_load(server.base, timed, load_s, connections=_CONNECTIONS)
        return Measured(mode, workers, per_worker, parent, load)
    finally:
        server.stop()


def nearest_paths(rows: list[dict[str, str]], count: int, seed: int) -> list[str]:
    points = rider_queries(rows, count, seed)
    return [f"/api/v1/nearest?lat={y:.6f}&lon={x:.6f}&k=5" for x, y in points.tolist()]


def report(results: list[Measured], n: int) -> None:
    print(
        f"\n{n:,} national stations; memory after warm-up under load, MiB "
        f"(load average {os.getloadavg()[0]:.1f}, 2 cores, shared machine)"
    )
    print(
        f"{'mode':10} {'workers':>7} {'worker PSS (each)':>26} {'worker USS (each)':>26} "
        f"{'parent PSS':>10} {'ΣPSS':>8} {'2xx/s':>7} {'p50 ms':>7} {'p99 ms':>7}"
    )
    for m in results:
        pss = ", ".join(f"{w.pss:.0f}" for w in m.per_worker)
        uss = ", ".join(f"{w.uss:.0f}" for w in m.per_worker)
        parent = f"{m.parent.pss:.0f}" if m.parent else "-"
        print(
            f"{m.mode:10} {m.workers:7d} {pss:>26} {uss:>26} {parent:>10} {m.total_pss:8.0f} "
            f"{m.load.rps:7.0f} {m.load.p50_ms:7.2f} {m.load.p99_ms:7.2f}"
        )
    print("first worker (PSS at 1 worker) and each further worker (ΣPSS growth per worker):")
    for mode in dict.fromkeys(m.mode for m in results):
        runs = sorted((m for m in results if m.mode == mode), key=lambda m: m.workers)
        one = next((m for m in runs if m.workers == 1), None)
        line = f"  {mode:10}"
        if one is not None:
            line += f" first {one.per_worker[0].pss:6.0f} (goal ≤ 300)"
        for more in (m for m in runs if m.workers > 1 and one is not None):
            extra = (more.total_pss - one.total_pss) / (more.workers - 1)
            line += f"; at {more.workers}: +{extra:.0f} per further worker (goal ≤ 60)"
            line += f", USS median {statistics.median(w.uss for w in more.per_worker):.0f}"
        # Between two counts above one, the supervising parent is in both sums: the growth
        # is the workers' own (from 1 worker it includes the parent's PSS once).
        many = [m for m in runs if m.workers > 1]
        for a, b in zip(many, many[1:], strict=False):
            slope = (b.total_pss - a.total_pss) / (b.workers - a.workers)
            line += f"; from {a.workers} to {b.workers}: +{slope:.0f} per worker"
        print(line)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--workers", default="1,3", help="comma list of worker counts")
    parser.add_argument(
        "--mode",
        action="append",
        default=[],
        metavar="NAME=ENV",
        help="another mode: NAME=VAR=VALUE[,VAR=VALUE] (e.g. shared=STATIONS_X=1)",
    )
    parser.add_argument("--empty", action="store_true", help="also measure 0 stations")
    parser.add_argument("--warm-s", type=int, default=20, help="warm-up load, seconds")
    parser.add_argument("--load-s", type=int, default=10, help="timed load, seconds")
    parser.add_argument("--seed", type=int, default=None, help="default: fresh each run")
    parser.add_argument(
        "--db", type=Path, default=None, help="reuse (or make) this SQLite file of the n stations"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(3), "little")
    counts = [int(x) for x in args.workers.split(",")]
    modes: dict[str, dict[str, str]] = {"today": {}}
    for spec in args.mode:
        name, _, assignments = spec.partition("=")
        modes[name] = dict(a.split("=", 1) for a in assignments.split(",") if a)
    rows = national_stations(args.n, 2024)
    per_run = 50_000
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        db = args.db or tmp / "national.db"
        if not db.exists():
            import_with_cli(
                [str(Path(sys.executable).parent / "stations")],
                write_stations_csv(tmp / "national.csv", rows),
                f"sqlite:///{db}",
                timeout_s=3600,
            )
        url = f"sqlite:///{db}"
        results: list[Measured] = []
        plan = [(mode, env, url) for mode, env in modes.items()]
        if args.empty:
            empty_db = tmp / "empty.db"
            shutil.copyfile(db, empty_db)  # same schema, then no stations
            import sqlite3

            with sqlite3.connect(empty_db) as conn:
                conn.execute("DELETE FROM stations")
            plan.insert(0, ("empty", {}, f"sqlite:///{empty_db}"))
        # Interleaved: every mode at one worker count, then every mode at the next.
        for run, workers in enumerate(counts):
            for i, (mode, env, mode_url) in enumerate(plan):
                salt = 1000 * run + 10 * i
                paths = (
                    nearest_paths(rows, per_run, seed + salt),
                    nearest_paths(rows, per_run, seed + salt + 1),
                )
                log = tmp / f"{mode}-{workers}.log"
                try:
                    results.append(
                        measure(mode, env, mode_url, workers, paths, args.warm_s, args.load_s, log)
                    )
                except RuntimeError:
                    print(log.read_text(encoding="utf-8", errors="replace")[-3000:])
                    raise
        report(results, args.n)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
