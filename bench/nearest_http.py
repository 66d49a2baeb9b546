"""``nearest_bench.py --http``: /api/v1/nearest over HTTP, against two baselines, honestly.

What makes it honest (each one a way an earlier version flattered the service):

* **National data**: ``bench.national`` stations (realistic Chinese names, addresses, host
  organisations, phones, hours), imported by each checkout's own ``stations import``, so
  every answer is as long as a real one.
* **Fresh points**: every load run sends rider points drawn for it alone (near stations, as
  riders ask), more of them than the run can send, so no path is asked twice and the
  feature cache sees what a national load shows it, not a replayed set that fits in it.
* **Only 2xx counts** as throughput (wrk counts every answer).
* **Two baselines in the same run**: ``/livez`` of the same server (the framework's floor)
  and a minimal endpoint (:mod:`bench.minimal_nearest`: FastAPI + cKDTree + pyproj +
  orjson) that answers the same bytes — checked on fresh points before the load starts.
* **Before and after in one run**: ``--compare DIR`` serves a second checkout (with its own
  ``.venv``) beside this one; their rows alternate in every round.
* **CPU per answer** beside throughput: the server's CPU seconds (from /proc) over its 2xx
  answers in each run. On a machine shared with other work, throughput moves with everyone
  else's load; the CPU a server spends per answer moves much less, so the before/after
  verdict is given on both.

Rounds: every endpoint runs once per round, every other round in reverse order, because
this machine's speed drifts and ratios of runs measured side by side move much less than
runs a minute apart. Medians and ranges over rounds are reported.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bench.loadgen import NO_RATE_LIMIT, LoadResult, Server, free_port, run_load
from bench.national import (
    import_with_cli,
    national_stations,
    rider_queries,
    write_stations_csv,
)

__all__ = ["Endpoint", "bench_http"]

_HERE = Path(__file__).resolve().parents[1]
_CONNECTIONS = 32
# A path file holds more points than a run sends at this rate, so nothing repeats in a run.
_MAX_RPS = 8_000


@dataclass
class Endpoint:
    """One row of the table: a path kind on one server."""

    label: str
    server: str  # "after", "before" or "minimal"
    kind: str  # "livez", "plain", "filtered" or "gzip"
    headers: dict[str, str] = field(default_factory=dict)


def _stations_cli(checkout: Path) -> list[str]:
    """The ``stations`` command of a checkout's own environment."""
    if checkout == _HERE:
        return [str(Path(sys.executable).parent / "stations")]
    exe = checkout / ".venv" / "bin" / "stations"
    if not exe.exists():
        raise SystemExit(f"{checkout}: no .venv/bin/stations (install that checkout first)")
    return [str(exe)]


def _path(kind: str, server: str, lon: float, lat: float) -> str:
    if kind == "livez":
        return "/livez"
    if server == "minimal":
        return f"/nearest?lat={lat:.6f}&lon={lon:.6f}&k=5"
    path = f"/api/v1/nearest?lat={lat:.6f}&lon={lon:.6f}&k=5"
    return path + "&amenity=hot_water&open_now=1" if kind == "filtered" else path


class _Points:
    """Fresh rider points per (round, kind); the same for every server in that round."""

    def __init__(self, rows: Sequence[dict[str, str]], per_run: int, seed: int) -> None:
        self.rows = rows
        self.per_run = per_run
        self.seed = seed
        self._made: dict[tuple[int, str], np.ndarray] = {}

    def get(self, round_no: int, kind: str) -> np.ndarray:
        if any(r != round_no for r, _ in self._made):
            self._made.clear()  # a new round: the last one's points are not asked again
        key = (round_no, kind)
        if key not in self._made:
            salt = ("plain", "filtered", "gzip").index(kind)
            self._made[key] = rider_queries(
                self.rows, self.per_run, self.seed + 97 * (round_no + 1) + salt
            )
        return self._made[key]


def check_bodies(after: str, minimal: str, points: np.ndarray) -> tuple[int, int, str]:
    """How many of the points get byte-identical bodies from the service and the minimal
    endpoint; the first difference, if any, as a short description."""
    import httpx

    same = 0
    first = ""
    with httpx.Client(timeout=30) as client:
        for lon, lat in points.tolist():
            ours = client.get(after + _path("plain", "after", lon, lat))
            theirs = client.get(minimal + _path("plain", "minimal", lon, lat))
            if ours.status_code == theirs.status_code == 200 and ours.content == theirs.content:
                same += 1
            elif not first:
                a, b = ours.content, theirs.content
                at = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), 0)
                first = (
                    f"({lon}, {lat}): {ours.status_code}/{theirs.status_code}, "
                    f"{len(a)}/{len(b)} bytes, first difference at byte {at}: "
                    f"{a[max(0, at - 40) : at + 40]!r} vs {b[max(0, at - 40) : at + 40]!r}"
                )
    return same, len(points), first


def _spread(values: Sequence[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"


def bench_http(
    n: int, seconds: int, rounds: int, seed: int, compare: Path | None, body_checks: int
) -> int:
    """Run the HTTP comparison and print its tables; 1 when the bodies differ, else 0."""
    rows = national_stations(n, seed)
    points = _Points(rows, max(20_000, _MAX_RPS * seconds), seed)
    checkouts = {"after": _HERE} | ({"before": compare.resolve()} if compare else {})
    endpoints = [Endpoint("livez", "after", "livez")]
    if compare:
        endpoints.append(Endpoint("livez", "before", "livez"))
    endpoints.append(Endpoint("minimal (cKDTree+orjson) k=5", "minimal", "plain"))
    for name in checkouts:
        endpoints.append(Endpoint("nearest k=5", name, "plain"))
    for name in checkouts:
        endpoints.append(Endpoint("nearest k=5 +hot_water,open_now", name, "filtered"))
    endpoints.append(Endpoint("nearest k=5, gzip", "after", "gzip", {"Accept-Encoding": "gzip"}))

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        csv_path = write_stations_csv(tmp / "national.csv", rows)
        urls = {}
        for name, checkout in checkouts.items():
            urls[name] = "sqlite:///" + str(tmp / f"{name}.db")
            import_with_cli(_stations_cli(checkout), csv_path, urls[name], cwd=checkout)
        servers: dict[str, Server] = {}
        try:
            for name, checkout in checkouts.items():
                servers[name] = Server(
                    urls[name],
                    1,
                    free_port(),
                    tmp / f"{name}.log",
                    NO_RATE_LIMIT,
                    command=_stations_cli(checkout),
                    cwd=checkout,
                )
            servers["minimal"] = Server(
                urls["after"],
                1,
                free_port(),
                tmp / "minimal.log",
                command=[sys.executable, "-m", "bench.minimal_nearest"],
                cwd=_HERE,
            )
            for name, server in servers.items():
                try:
                    server.wait_ready()
                except RuntimeError:
                    log = (tmp / f"{name}.log").read_text(encoding="utf-8", errors="replace")
                    print(
                        f"--- {name} server log (last lines):\n" + "\n".join(log.splitlines()[-40:])
                    )
                    raise
            same, total, first = check_bodies(
                servers["after"].base,
                servers["minimal"].base,
                rider_queries(rows, body_checks, seed - 1),
            )

            def load(ep: Endpoint, round_no: int) -> tuple[LoadResult, float]:
                """One run, and the server's CPU microseconds per 2xx answer in it."""
                server = servers[ep.server]
                cpu0 = server.cpu_s()
                result = run_one(ep, round_no)
                return result, (server.cpu_s() - cpu0) * 1e6 / max(1, result.ok)

            def run_one(ep: Endpoint, round_no: int) -> LoadResult:
                if ep.kind == "livez":
                    paths = ["/livez"]
                else:
                    paths = [
                        _path(ep.kind, ep.server, x, y)
                        for x, y in points.get(round_no, ep.kind).tolist()
                    ]
                base = servers[ep.server].base
                return run_load(base, paths, seconds, connections=_CONNECTIONS, headers=ep.headers)

            # Warm-up (round -1, its own points): imports, allocator, the first fragments.
            for ep in endpoints:
                load(ep, -1)
            runs: list[list[LoadResult]] = []
            cpu: list[list[float]] = []
            for r in range(rounds):
                order = list(range(len(endpoints)))
                if r % 2:
                    order.reverse()
                done = {i: load(endpoints[i], r) for i in order}
                runs.append([done[i][0] for i in range(len(endpoints))])
                cpu.append([done[i][1] for i in range(len(endpoints))])
        finally:
            for server in servers.values():
                server.stop()
    _report(endpoints, runs, cpu, seconds, n, same, total, first, compare)
    return 0 if same == total else 1


def _at(endpoints: Sequence[Endpoint], kind: str, server: str) -> int:
    """The index of ``server``'s ``kind`` endpoint (the column of its results in a round)."""
    return next(i for i, ep in enumerate(endpoints) if ep.kind == kind and ep.server == server)


def _report(
    endpoints: list[Endpoint],
    runs: list[list[LoadResult]],
    cpu: list[list[float]],
    seconds: int,
    n: int,
    same: int,
    total: int,
    first: str,
    compare: Path | None,
) -> None:
    print(
        f"\nHTTP: {n:,} national stations, 1 uvicorn worker per server, {_CONNECTIONS} "
        f"connections, {len(runs)} rounds of {seconds} s per row, fresh rider points per run; "
        f"load average {os.getloadavg()[0]:.1f} (2 cores, shared)"
    )
    print(f"bodies: {same}/{total} fresh points byte-identical, service vs minimal endpoint")
    if first:
        print(f"  first difference: {first}")
    livez = {ep.server: i for i, ep in enumerate(endpoints) if ep.kind == "livez"}
    minimal = next(i for i, ep in enumerate(endpoints) if ep.server == "minimal")
    print(
        f"{'server':8} {'endpoint':34} {'2xx/s median (range)':>24} {'× livez':>18} "
        f"{'× minimal':>18} {'p50 ms':>7} {'p99 ms':>7} {'non-2xx':>8} {'CPU µs/2xx':>11}"
    )
    for i, ep in enumerate(endpoints):
        rps = [run[i].rps for run in runs]
        base = livez.get(ep.server, livez["after"])
        x_livez = [run[i].rps / run[base].rps for run in runs]
        x_min = [run[i].rps / run[minimal].rps for run in runs]
        p50 = statistics.median(run[i].p50_ms for run in runs)
        p99 = statistics.median(run[i].p99_ms for run in runs)
        bad = sum(run[i].requests - run[i].ok for run in runs)
        show_min = ep.kind == "plain" and ep.server != "minimal"
        print(
            f"{ep.server:8} {ep.label:34} "
            f"{statistics.median(rps):9.0f} ({min(rps):.0f}–{max(rps):.0f}){'':>3} "
            f"{'' if ep.kind == 'livez' else _spread(x_livez):>18} "
            f"{_spread(x_min) if show_min else '':>18} {p50:7.2f} {p99:7.2f} {bad:8d} "
            f"{statistics.median(c[i] for c in cpu):11.0f}"
        )
    plain = [i for i, ep in enumerate(endpoints) if ep.kind == "plain"]
    print("CPU µs per 2xx ÷ the minimal endpoint's, per round (lower is cheaper):")
    for i in plain:
        if endpoints[i].server != "minimal":
            ratios = [c[i] / c[minimal] for c in cpu]
            print(f"  {endpoints[i].server:8} {_spread(ratios)}")
    if compare:
        print("after ÷ before, per round (same round, same points):")
        for kind in ("plain", "filtered", "livez"):
            a, b = _at(endpoints, kind, "after"), _at(endpoints, kind, "before")
            ratios = [run[a].rps / run[b].rps for run in runs]
            print(f"  {kind:9} {_spread(ratios)}  [{', '.join(f'{x:.2f}' for x in ratios)}]")
        print("after ÷ before, CPU µs per 2xx answer, per round (lower: after is cheaper):")
        for kind in ("plain", "filtered", "livez"):
            a, b = _at(endpoints, kind, "after"), _at(endpoints, kind, "before")
            ratios = [c[a] / c[b] for c in cpu]
            print(f"  {kind:9} {_spread(ratios)}  [{', '.join(f'{x:.2f}' for x in ratios)}]")
    print("per round, 2xx/s:")
    for r, run in enumerate(runs, 1):
        print(
            f"  {r}: "
            + ", ".join(
                f"{ep.server}/{ep.kind} {x.rps:.0f}" for ep, x in zip(endpoints, run, strict=True)
            )
        )
