"""Confirmations under load, and what rider evidence costs a nearest answer (run by hand).

    STATIONS_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \
        python -m bench.confirmations_bench   # 20,000 stations, 3 rounds, 3 sets of 6-s windows

Three measurements, each against a baseline taken in the same run:

1. **Write rate.** ``POST /api/v1/stations/{id}/confirmations`` on PostgreSQL, one worker,
   every request from a new device id at a random station near its rider (so each is a real
   write: the once-an-hour rule never short-cuts it), 2xx only counted — alone (flat out,
   ``--write-connections`` phones at once: each waits for its batch's commit, so a few
   connections would cap the rate at connections ÷ latency), then offered at
   ``--write-rate`` on a fixed schedule (:mod:`bench.open_loop`: a slow answer does not
   lower the offered rate, as wrk's pacing would) while wrk also asks ``/api/v1/nearest``
   at full speed. ``/livez`` flat out, in the same round, is the ceiling of the HTTP stack
   on this machine.
2. **Nearest under writes.** ``/api/v1/nearest`` throughput alone (the baseline) and while the
   writes above run (paced at ``--write-rate``; the ratio is the verdict: ≥ 0.8), in
   ``--pairs`` sets of ``--window``-second windows taken in turns, each set's order
   flipped (ABC, CBA): a virtual machine's speed drifts by tens of percent from one
   ten-second stretch to the next, and two long phases one after the other measured that
   drift as much as the writes. The ratio is all mixed windows' answers over all alone
   windows' (equal durations); the lowest and highest pair are printed beside it. The third
   window of each set (C) paces ``GET /livez`` at the same rate instead of writes: the
   floor, what any request at that rate takes from nearest on this machine, so a vote's
   own cost (beyond the HTTP stack's) can be read beside it. The baseline
   windows come after the round's write phase, so they answer with the rider evidence the
   mixed ones answer with (votes on most stations); nearest before any vote is measured
   once at the start and printed beside it, so what evidence costs an answer stays in view
   rather than inside the ratio. Beside each rate, the worker's CPU per answer (from
   ``/proc``) and how much of a core it had; the worker's CPU per paced write is what the
   mixed windows spent beyond their nearest answers (at the alone windows' CPU per
   answer), and ``1 - writes/s × CPU per write`` is the ratio a CPU-bound worker shows.
   Of a paced write's cost, the part its worker spent off the event loop (the group-commit
   writer thread) is read from the threads' own counters: the mixed windows' beyond the
   floor windows'.
3. **Fade and confidence per hit.** In process, nearest answers built from the cached
   fragments with a :class:`~stations.trust.board.TrustBoard` holding votes on
   ``--voted`` of the stations, against the same answers without one; and
   :func:`~stations.trust.rules.assess` alone on a station with ten votes (what a cache miss
   costs once per station and minute).

The worker gets a core of its own and the load generators and PostgreSQL the others
(:class:`Pinning`; ``--no-pin`` leaves them to the scheduler), so the ratio is the
worker's, not the machine's. Per-address limits are lifted for the run (one client sends
everything). Servers and wrk
are started and stopped here, by their own process ids.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from bench.loadgen import NO_RATE_LIMIT, LoadResult, Server, assert_local, free_port, run_load
from bench.national import national_stations, rider_queries, write_stations_csv

_POST_LUA = r"""
local n, pos, counter = 0, 0, 0
local ids, lons, lats = {}, {}, {}
local delay_ms = 0
local threads, next_id = {}, 1
function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end
function init(args)
  for line in io.lines(args[1]) do
    local id, lon, lat = line:match("([^,]+),([^,]+),([^,]+)")
    n = n + 1; ids[n] = id; lons[n] = lon; lats[n] = lat
  end
  delay_ms = tonumber(args[2] or "0")
  math.randomseed(4242 + (tid or 1))
  pos = math.random(n)
end
function request()
  pos = pos % n + 1
  counter = counter + 1
  local states = {"open", "closed", "open", "locked"}
  local body = string.format('{"state":"%s","lat":%s,"lon":%s}', states[counter % 4 + 1],
    lats[pos], lons[pos])
  return wrk.format("POST", "/api/v1/stations/" .. ids[pos] .. "/confirmations",
    {["Content-Type"] = "application/json",
     ["X-Device-Id"] = string.format("bench-%d-%d-%d", tid or 1, os.time(), counter)}, body)
end
ok = 0
function response(status, headers, body)
  if status >= 200 and status < 300 then ok = ok + 1 end
end
__DELAY__
function done(summary, latency, requests)
  local ok_total = 0
  for _, thread in ipairs(threads) do ok_total = ok_total + (thread:get("ok") or 0) end
  io.write(string.format('WRK_JSON {"requests":%d,"ok":%d,"duration_us":%d,"p50_us":%d,' ..
    '"p99_us":%d}\n', summary.requests, ok_total, summary.duration, latency:percentile(50),
    latency:percentile(99)))
end
"""
_DELAY = r"""
function delay()
  local whole = math.floor(delay_ms)
  if math.random() < delay_ms - whole then whole = whole + 1 end
  return whole
end
"""


def post_load(
    base: str,
    targets: Path,
    seconds: int,
    connections: int,
    rate: float | None,
    latency_ms: float = 1.0,
) -> dict[str, float]:
    """wrk POSTing confirmations; ``rate`` paces it (writes/s offered), None: flat out.

    wrk paces a connection by a delay after each answer, so a connection sends once per
    ``latency + delay``: the delay is ``connections / rate`` less ``latency_ms`` (the median
    latency measured flat out), or the offered rate would fall with every millisecond the
    server takes to commit.
    """
    assert_local(base)
    delay_ms = 0.0
    if rate:
        delay_ms = max(0.0, connections / rate * 1000.0 - latency_ms)
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "post.lua"
        script.write_text(_POST_LUA.replace("__DELAY__", _DELAY if delay_ms else ""))
        done = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s"]
            + ["-s", str(script), base, "--", str(targets), f"{delay_ms:.4f}"],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=False,
        )
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("WRK_JSON ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed: {done.stderr or done.stdout}")
    raw = json.loads(line[len("WRK_JSON ") :])
    secs = raw["duration_us"] / 1e6
    return {
        "ok_per_s": raw["ok"] / secs,
        "requests": raw["requests"],
        "ok": raw["ok"],
        "p50_ms": raw["p50_us"] / 1e3,
        "non_2xx": raw["requests"] - raw["ok"],
        "p99_ms": raw["p99_us"] / 1e3,
    }


class OpenLoop:
    """Confirmations offered at ``rate`` a second whatever their latency
    (:mod:`bench.open_loop`, in its own process), from ``start_at`` (a ``time.time()``) for
    ``seconds``: wrk's pacing waits after each answer, so a busy server would be offered
    fewer writes than asked for. The process starts now and waits for ``start_at``, so its
    interpreter's start-up falls outside the window it loads.
    """

    def __init__(
        self,
        base: str,
        targets: Path,
        seconds: float,
        rate: float,
        start_at: float,
        path: str | None = None,
    ):
        """``path``: ``GET`` it instead of voting (see :mod:`bench.open_loop`)."""
        assert_local(base)
        self.seconds = seconds
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.open_loop", base, str(targets)]
            + ["--rate", str(rate), "--seconds", str(seconds), "--start-at", repr(start_at)]
            + (["--path", path] if path else []),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parents[1],
        )

    def result(self) -> dict[str, float]:
        """Wait for the run; its ``OPEN_LOOP`` line."""
        out, err = self.proc.communicate(timeout=self.seconds + 60)
        line = next((ln for ln in out.splitlines() if ln.startswith("OPEN_LOOP ")), None)
        if self.proc.returncode != 0 or line is None:
            raise RuntimeError(f"open-loop load failed: {err or out}")
        return json.loads(line[len("OPEN_LOOP ") :])


class Pinning:
    """The worker on a core of its own, everything else the bench starts (wrk, the open-loop
    writer) and PostgreSQL's processes on the other cores; restored afterwards.

    Why: the claim is about one worker's capacity. On a 2-core machine the load generators
    and PostgreSQL otherwise take turns on the worker's core, and the ratio measured is the
    machine's. Affinity is per thread: every thread of the worker is pinned, and threads it
    starts later inherit it; PostgreSQL's backends are forked from its postmaster, which is
    pinned too, so new connections land on the other cores as well.
    """

    def __init__(self, pg_url: str | None, enabled: bool) -> None:
        cpus = sorted(os.sched_getaffinity(0))
        self.enabled = enabled and len(cpus) >= 2
        self.all = set(cpus)
        self.worker_core = {cpus[0]}
        self.others = set(cpus[1:])
        self.pg_url = pg_url
        self.pg_pids: list[int] = []

    def __enter__(self) -> Pinning:
        if self.enabled:
            os.sched_setaffinity(0, self.others)  # the bench, and what it starts from now on
            self.pg_pids = self._postgres_pids()
            for pid in self.pg_pids:
                _set_affinity(pid, self.others)
        return self

    def worker(self, pid: int) -> None:
        """Pin every thread of the worker ``pid`` to its own core."""
        if self.enabled:
            for task in os.listdir(f"/proc/{pid}/task"):
                _set_affinity(int(task), self.worker_core)

    def __exit__(self, *_: object) -> None:
        if self.enabled:
            for pid in self.pg_pids + self._postgres_pids():
                _set_affinity(pid, self.all)
            os.sched_setaffinity(0, self.all)

    def describe(self) -> str:
        if not self.enabled:
            return "not pinned (one core, or --no-pin)"
        return (
            f"worker pinned to CPU {sorted(self.worker_core)}; load generators and "
            f"PostgreSQL to CPUs {sorted(self.others)}"
        )

    def _postgres_pids(self) -> list[int]:
        """The postmaster and its children (backends, writers), from its pid file."""
        if self.pg_url is None:
            return []
        import sqlalchemy as sa

        engine = sa.create_engine(self.pg_url)
        try:
            with engine.connect() as conn:
                data_dir = conn.execute(sa.text("SHOW data_directory")).scalar_one()
        finally:
            engine.dispose()
        try:
            master = int(Path(data_dir, "postmaster.pid").read_text().split()[0])
        except OSError:
            return []
        kids = Path(f"/proc/{master}/task/{master}/children")
        return [master, *(int(p) for p in kids.read_text().split())] if kids.exists() else [master]


def _set_affinity(pid: int, cpus: set[int]) -> None:
    try:
        os.sched_setaffinity(pid, cpus)
    except (ProcessLookupError, PermissionError):
        pass  # gone in between, or not ours to move


def _nearest_paths(points: np.ndarray) -> list[str]:
    return [f"/api/v1/nearest?lat={lat:.6f}&lon={lon:.6f}&k=5" for lon, lat in points]


class _Phase:
    """One measured phase: the worker's CPU seconds and the wall time around it."""

    def __init__(self, server: Server) -> None:
        self.server = server

    def __enter__(self) -> _Phase:
        self.loop0, self.cpu0 = self.server.loop_cpu_s(), self.server.cpu_s()
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *_: object) -> None:
        self.cpu = self.server.cpu_s() - self.cpu0
        #: of ``cpu``, what the worker's threads other than the event loop's used
        self.off_loop = self.cpu - (self.server.loop_cpu_s() - self.loop0)
        self.wall = time.perf_counter() - self.t0

    def per_request_us(self, ok: int) -> float:
        """Worker CPU per 2xx answer (what the phase's answers cost the one worker)."""
        return self.cpu / ok * 1e6 if ok else float("nan")

    @property
    def busy(self) -> float:
        """Share of one core the worker had (below ~0.95: the machine was short of CPU)."""
        return self.cpu / self.wall if self.wall else 0.0


def _round(
    base: str,
    server: Server,
    windows: Iterator[list[str]],
    targets: Path,
    args: Any,
    r: int,
) -> dict[str, float]:
    """One round: /livez and writes each alone, then nearest alone and nearest while writes
    run paced, and nearest while /livez runs paced alike, in ``args.pairs`` sets of windows
    (``windows`` gives each its fresh points)."""
    s = args.seconds
    with _Phase(server) as ph:
        health = run_load(base, ["/livez"], s, connections=16)
    out = {"livez_alone": health.rps, "livez_cpu_us": ph.per_request_us(health.ok)}
    with _Phase(server) as ph:
        writes = post_load(base, targets, s, args.write_connections, None)
    out |= {
        "writes_alone": writes["ok_per_s"],
        "write_cpu_us": ph.per_request_us(int(writes["ok"])),
        "writes_busy": ph.busy,
        "write_p50_ms": writes["p50_ms"],
        "write_p99_ms": writes["p99_ms"],
    }
    # Nearest alone (A), under paced writes (B) and under /livez paced alike (C), in short
    # windows taken in turns (ABC, then CBA: each kind's mean falls at the same point of the
    # round), all after the write phase, so the baseline sees the rider evidence the mixed
    # windows see (votes on most stations) and a drift of the machine's speed over the round
    # falls on every kind alike. C is the floor: what any request at that rate costs.
    alone: list[tuple[LoadResult, float, float]] = []  # (load, worker CPU s, wall s)
    mixed: list[tuple[LoadResult, float, float, dict[str, float]]] = []
    floor: list[tuple[LoadResult, float, float, dict[str, float]]] = []
    off_loop = {"B": 0.0, "C": 0.0}  # worker CPU off the event loop, in B and C windows
    w = args.window
    for k in range(args.pairs):
        for kind in "ABC" if (k + r) % 2 == 0 else "CBA":
            chunk = next(windows)
            if kind == "A":
                with _Phase(server) as ph:
                    got = run_load(base, chunk, w, connections=16)
                alone.append((got, ph.cpu, ph.wall))
                continue
            start_at = time.time() + 1.0  # the writer's interpreter starts meanwhile
            path = "/livez" if kind == "C" else None
            writer = OpenLoop(base, targets, w, args.write_rate, start_at, path)
            time.sleep(max(0.0, start_at - time.time()))
            with _Phase(server) as ph:
                got = run_load(base, chunk, w, connections=16)
            (mixed if kind == "B" else floor).append((got, ph.cpu, ph.wall, writer.result()))
            off_loop[kind] += ph.off_loop
    a_ok = sum(x[0].ok for x in alone)
    a_cpu = sum(x[1] for x in alone)
    m_ok = sum(x[0].ok for x in mixed)
    m_cpu = sum(x[1] for x in mixed)
    written = sum(x[3]["ok"] for x in mixed)
    near_cpu = a_cpu / a_ok if a_ok else float("nan")
    paced_cpu = _paced_cost(mixed, near_cpu)
    floor_cpu = _paced_cost(floor, near_cpu)
    f_ok = sum(x[0].ok for x in floor)
    rate = written / sum(x[3]["ok"] / x[3]["ok_per_s"] for x in mixed if x[3]["ok_per_s"])
    out |= {
        "nearest_alone": a_ok / sum(x[0].seconds for x in alone),
        "nearest_cpu_us": near_cpu * 1e6,
        "nearest_busy": a_cpu / sum(x[2] for x in alone),
        "writes_mixed": rate,
        "writes_late": sum(x[3]["late"] for x in mixed),
        "client_cpu_us": statistics.median(x[3]["client_cpu_us"] for x in mixed),
        "nearest_mixed": m_ok / sum(x[0].seconds for x in mixed),
        # equal windows of each kind: the answers in all mixed ones over those in all alone
        "ratio": m_ok / a_ok if a_ok else 0.0,
        "pair_ratio_low": min(m[0].ok / a[0].ok for a, m in zip(alone, mixed, strict=True)),
        "pair_ratio_high": max(m[0].ok / a[0].ok for a, m in zip(alone, mixed, strict=True)),
        "paced_write_cpu_us": paced_cpu * 1e6,
        "floor_ratio": f_ok / a_ok if a_ok else 0.0,
        "paced_livez_cpu_us": floor_cpu * 1e6,
        "write_beyond_livez_us": (paced_cpu - floor_cpu) * 1e6,
        # the same windows' CPU outside the event loop (the group-commit writer thread)
        "write_off_loop_us": (off_loop["B"] - off_loop["C"]) / written * 1e6
        if written
        else float("nan"),
        # If the worker is CPU-bound, paced writes take rate × CPU per write of its core
        # and nearest keeps the rest: the ratio a quiet machine should show.
        "ratio_from_cpu": 1.0 - rate * out["write_cpu_us"] / 1e6,
        "ratio_from_paced_cpu": 1.0 - rate * paced_cpu,
        "mixed_busy": m_cpu / sum(x[2] for x in mixed),
        "non_2xx": writes["non_2xx"]
        + sum(x[3]["non_2xx"] + x[3]["errors"] for x in mixed + floor)
        + sum(x[0].requests - x[0].ok for x in alone + mixed + floor),  # type: ignore[operator]
    }
    return out


def _paced_cost(
    windows: list[tuple[LoadResult, float, float, dict[str, float]]], near_cpu: float
) -> float:
    """What the worker spent in ``windows`` beyond their nearest answers (at the alone
    windows' ``near_cpu`` per answer), per paced request answered 2xx: a paced request's
    cost beside a busy nearest."""
    sent = sum(x[3]["ok"] for x in windows)
    if not sent:
        return float("nan")
    return (sum(x[1] for x in windows) - sum(x[0].ok for x in windows) * near_cpu) / sent


#: What the summary prints, in order: (key, label, format).
_ROWS = (
    ("livez_alone", "/livez alone (ceiling), req/s", "{:10.0f}"),
    ("nearest_fresh", "nearest alone before any vote, req/s", "{:10.0f}"),
    ("nearest_alone", "nearest alone, votes on most stations, req/s", "{:10.0f}"),
    ("writes_alone", "writes alone, 2xx/s", "{:10.0f}"),
    ("nearest_mixed", "nearest under paced writes, req/s", "{:10.0f}"),
    ("writes_mixed", "paced writes achieved, 2xx/s", "{:10.0f}"),
    ("writes_late", "paced writes sent late (no free connection)", "{:10.0f}"),
    ("client_cpu_us", "open-loop client's CPU per write, µs", "{:10.0f}"),
    ("ratio", "ratio nearest mixed / alone (interleaved windows)", "{:10.3f}"),
    ("pair_ratio_low", "  lowest pair of windows", "{:10.3f}"),
    ("pair_ratio_high", "  highest pair of windows", "{:10.3f}"),
    ("floor_ratio", "ratio under /livez paced alike (the floor)", "{:10.3f}"),
    ("ratio_from_paced_cpu", "ratio expected from paced CPU (1 - rate x CPU)", "{:10.3f}"),
    ("ratio_from_cpu", "ratio expected from flat-out CPU (1 - rate x CPU)", "{:10.3f}"),
    ("livez_cpu_us", "worker CPU per /livez, µs", "{:10.0f}"),
    ("fresh_cpu_us", "worker CPU per nearest before any vote, µs", "{:10.0f}"),
    ("nearest_cpu_us", "worker CPU per nearest, µs", "{:10.0f}"),
    ("write_cpu_us", "worker CPU per write, flat out, µs", "{:10.0f}"),
    ("paced_write_cpu_us", "worker CPU per paced write beside nearest, µs", "{:10.0f}"),
    ("paced_livez_cpu_us", "worker CPU per paced /livez beside nearest, µs", "{:10.0f}"),
    ("write_beyond_livez_us", "  a paced write's own cost beyond a /livez, µs", "{:10.0f}"),
    ("write_off_loop_us", "    of it off the event loop (writer thread), µs", "{:10.0f}"),
    ("write_p50_ms", "write latency p50 alone, ms", "{:10.1f}"),
    ("write_p99_ms", "write latency p99 alone, ms", "{:10.1f}"),
    ("nearest_busy", "worker busy, nearest alone (cores)", "{:10.2f}"),
    ("writes_busy", "worker busy, writes alone (cores)", "{:10.2f}"),
    ("mixed_busy", "worker busy, mixed (cores)", "{:10.2f}"),
    ("non_2xx", "non-2xx answers (all phases)", "{:10.0f}"),
)


def http_part(args: argparse.Namespace, pg_url: str) -> None:
    from tests.conftest import pg_schema  # fresh schema, dropped afterwards

    rows = national_stations(args.stations, seed=11)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp, pg_schema(pg_url) as url:
        csv = write_stations_csv(Path(tmp) / "stations.csv", rows)
        env = dict(os.environ, STATIONS_DATABASE_URL=url)
        subprocess.run(
            [sys.executable, "-c", "from cli import main; main()", "import", str(csv)],
            env=env,
            check=True,
            capture_output=True,
        )
        n_windows = 3 * args.pairs * args.rounds + 1
        points = rider_queries(rows, n=30_000 * (n_windows + 1), seed=3)
        targets = Path(tmp) / "targets.txt"
        # each write goes to a stored station from 30 m away (on-site)
        from stations.store.sql import SqlStationStore

        stored = SqlStationStore(url)
        with targets.open("w") as fh:
            for st in stored.all()[:20_000]:
                fh.write(f"{st.id},{st.data.lon:.6f},{st.data.lat + 0.0003:.6f}\n")
        stored.close()
        extra = {**NO_RATE_LIMIT, "STATIONS_CONFIRM_PER_HOUR": "0"}
        port = free_port()
        with (
            Pinning(pg_url, args.pin) as pinning,
            Server(url, 1, port, Path(tmp) / "server.log", extra) as server,
        ):
            server.wait_ready()
            for pid in server.worker_pids:
                pinning.worker(pid)
            base = server.base
            paths = _nearest_paths(points)
            # every window its own 30,000 points (none asked twice)
            windows = iter([paths[i * 30000 : (i + 1) * 30000] for i in range(1, n_windows)])
            run_load(base, paths[-2000:], 2, connections=8)  # warm the fragment cache a little
            with _Phase(server) as ph:  # what evidence costs: nearest before any vote
                fresh = run_load(base, paths[:30000], args.seconds, connections=16)
            before = {"nearest_fresh": fresh.rps, "fresh_cpu_us": ph.per_request_us(fresh.ok)}
            rounds: list[dict[str, float]] = []
            for r in range(args.rounds):
                rounds.append(before | _round(base, server, windows, targets, args, r))
                print(f"round {r + 1}: " + ", ".join(f"{k}={v:.3g}" for k, v in rounds[-1].items()))
    load_after = os.getloadavg()
    print()
    print(
        f"HTTP, PostgreSQL, 1 worker, {args.stations} stations, {args.rounds} round(s): "
        f"/livez and writes alone {args.seconds} s each, then {args.pairs} sets of "
        f"{args.window}-s windows of nearest alone / under writes / under /livez paced "
        f"alike, in turns (ABC, CBA); "
        f"2xx answers only; writes paced at {args.write_rate:.0f}/s "
        f"(open loop: due on a fixed schedule, whatever the answers' latency) while nearest "
        f"runs flat out; {pinning.describe()}"
    )
    print(
        f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after "
        f"({os.cpu_count()} cores; above ~1 the numbers are the machine's, not the service's)"
    )
    for key, label, fmt in _ROWS:
        values = [r[key] for r in rounds]
        med = statistics.median(values)
        spread = f"  ({fmt.format(min(values)).strip()}–{fmt.format(max(values)).strip()})"
        print(f"  {label:<48}{fmt.format(med)}{spread if len(values) > 1 else ''}")
    print(
        f"  targets: writes alone ≥ 1000/s; nearest under {args.write_rate:.0f} writes/s "
        f"≥ 0.8 of alone"
    )


def fade_part(args: argparse.Namespace) -> None:
    """Per-hit cost of the trust overlay, with and without a board, same catalog, same run."""
    from stations.model import validate_station
    from stations.nearest import feature_collection_json
    from stations.search import NearestQuery, StationCatalog
    from stations.store.base import ImportPlanRow
    from stations.store.sql import SqlStationStore
    from stations.trust.board import TrustBoard
    from stations.trust.rules import Vote, assess

    rows = national_stations(args.stations, seed=11)
    with tempfile.TemporaryDirectory() as tmp:
        store = SqlStationStore("sqlite:///" + str(Path(tmp) / "s.db"))
        data = []
        for r in rows:
            raw = {
                k: v for k, v in r.items() if k not in ("id", "version", "updated_at") and v != ""
            }
            data.append(validate_station(raw))
        store.apply_import([ImportPlanRow(d) for d in data], actor="bench")
        catalog = StationCatalog(store)
        rng = np.random.default_rng(5)
        now = time.time()
        board = TrustBoard()
        voted = rng.choice(len(catalog), int(len(catalog) * args.voted), replace=False)
        ids = [catalog.all()[i].id for i in voted.tolist()]
        votes = []
        cid = 0
        for sid in ids:
            for j in range(int(rng.integers(1, 6))):
                cid += 1
                state = ("open", "closed", "locked", "open")[j % 4]
                votes.append((cid, sid, Vote(now - 600 * j, state, f"d{cid}", True, True)))
        board.add(votes, now=now)
        points = rider_queries(rows, n=4000, seed=9)
        queries = [NearestQuery(float(x), float(y), 5) for x, y in points]
        hits = [catalog.nearest(q) for q in queries]
        for h in hits:  # fill the fragment cache, and the board's per-minute assessments
            feature_collection_json(h, trust=board)
        added, plain = _paired_cost(hits, board, args.rounds * 4)
        with_evidence = sum(1 for h in hits for x in h if board.votes(x.station.id))
        ten = [
            Vote(now - 900 * j, ("open", "closed")[j % 2], f"x{j}", True, True) for j in range(10)
        ]
        t0 = time.process_time()
        n = 20000
        for _ in range(n):
            assess(ten, True, now)
        miss = (time.process_time() - t0) / n
        store.close()
    p = statistics.median(plain)
    a = statistics.median(added)
    print(f"in process, {args.stations} stations, {args.voted:.0%} with votes, 5 hits per answer")
    print("(CPU time of this process, interleaved chunks; median and range of the rounds):")
    print(f"  per hit, no board      {p * 1e6:7.3f} µs   (baseline, same run)")
    print(
        f"  added per hit          {a * 1e6:7.3f} µs   "
        f"(range {min(added) * 1e6:.3f}–{max(added) * 1e6:.3f}; target ≤ 2 µs)"
    )
    print(f"  hits with evidence     {with_evidence / (len(hits) * 5):.1%}")
    print(f"  assess(), 10 votes     {miss * 1e6:7.3f} µs   (once per station and minute)")


def _paired_cost(
    hits: list[Any], board: Any, rounds: int, chunk: int = 100
) -> tuple[list[float], list[float]]:
    """Per round, the CPU seconds per hit added by ``board`` and those without it.

    The machine is shared: wall time swings several-fold with other processes, and blocks
    of one kind then the other pick up different noise. So each round alternates the two in
    chunks of ``chunk`` answers (the order flipping from chunk to chunk), and counts this
    process's CPU time only (``time.process_time``), which waiting for a core does not add.
    """
    from stations.nearest import feature_collection_json

    added, plain = [], []
    n = len(hits) * 5
    for r in range(rounds):
        spent = {False: 0.0, True: 0.0}
        for k, start in enumerate(range(0, len(hits), chunk)):
            part = hits[start : start + chunk]
            for with_board in (False, True) if (r + k) % 2 == 0 else (True, False):
                trust = board if with_board else None
                t0 = time.process_time()
                for h in part:
                    feature_collection_json(h, trust=trust)
                spent[with_board] += time.process_time() - t0
        added.append((spent[True] - spent[False]) / n)
        plain.append(spent[False] / n)
    return added, plain


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--stations", type=int, default=20_000)
    ap.add_argument("--seconds", type=int, default=6)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument(
        "--pairs",
        type=int,
        default=3,
        help="sets of windows per round (alone, under writes, under /livez)",
    )
    ap.add_argument("--window", type=int, default=6, help="seconds per alone or mixed window")
    ap.add_argument("--write-rate", type=float, default=1000.0)
    ap.add_argument(
        "--write-connections",
        type=int,
        default=64,
        help="riders' phones posting at once (each waits for its commit)",
    )
    ap.add_argument("--voted", type=float, default=0.05, help="share of stations with votes")
    ap.add_argument(
        "--no-pin",
        dest="pin",
        action="store_false",
        help="leave the worker, wrk and PostgreSQL where the scheduler puts them",
    )
    ap.add_argument("--skip-http", action="store_true")
    ap.add_argument("--skip-fade", action="store_true", help="only the HTTP part")
    args = ap.parse_args(argv)
    if not args.skip_fade:
        fade_part(args)
    pg = os.environ.get("STATIONS_TEST_POSTGRES_URL")
    if args.skip_http:
        return 0
    if not pg:
        print("STATIONS_TEST_POSTGRES_URL is not set: the HTTP part needs PostgreSQL")
        return 1
    http_part(args, pg)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
