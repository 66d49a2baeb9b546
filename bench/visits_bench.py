"""Visits at national scale on PostgreSQL (run by hand; never part of the test suite).

    python bench/visits_bench.py [--stations 100000] [--checkins 10000000] [--months 12]
                                 [--write-seconds 20] [--connections 32] [--skip-writes]

Needs ``STATIONS_TEST_POSTGRES_URL`` (or ``--pg``); works in its own schema
``visits_bench``, dropped first and (unless ``--keep``) afterwards.

What it measures, each against a baseline in the same run:

* **Monthly report** (the last whole month, 100k lines): ``VisitStats.monthly_lines``, the
  path the CLI and the console use (codes ensured, lines streamed from
  ``visit_station_month``), target ≤ 1 s; baselines: the plain path (``VisitStats.monthly``
  building a row object per station, then the codes) and the same table computed from the
  raw check-ins (the design without roll-ups). The XLSX file is timed too, both paths.
* **Dashboard queries** (each statement of ``VisitStats.dashboard``, timed one by one):
  target ≤ 200 ms each; ``--explain DIR`` writes each one's EXPLAIN (ANALYZE, BUFFERS).
* **Sustained writes**: ``POST /api/v1/checkins`` through ``stations serve --workers 1``
  driven by wrk (each request a new device, a random station) for ``--write-seconds``;
  2xx answers only, target ≥ 2,000/s. Baseline: ``GET /livez`` on the same server in the
  same run (what one worker does with no database work at all: the ceiling).
* **kill -9 during a burst**: acknowledged check-ins (201) counted by the client, the server
  killed mid-burst, then the rows in the database: none acknowledged may be missing
  (``tests/api/test_checkins_kill.py`` proves the same on a small table).

The data, generated in PostgreSQL (``generate_series``, no rows through Python):
``--stations`` stations and ``--checkins`` check-ins from local midnight of the first of
``--months`` months up to now, in time order (random station and worker type), written by
SQL into the partitioned raw table; then rolled up as the product rolls up: the day rows by
the write path's grouping (station, local day, hour, worker type), the area and last-day
roll-ups by migration 0012's own backfill statements and the per-station month rows by
0015's, so the reports read what the service would have written. Then ``VACUUM ANALYZE``
of those tables, as autovacuum would have done on a live database.

Quiet-machine run of everything at full size (about 10-20 minutes, most of it generating)::

    python bench/visits_bench.py --json visits-bench.json --explain visits-explain
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.loadgen import Server, free_port, run_load  # noqa: E402

SCHEMA = "visits_bench"
#: The stations' time zone (the service's default): generated days and hours are local.
_TZ = "Asia/Shanghai"


def _timed(fn, repeat: int = 5) -> tuple[float, object]:
    """Median wall time (ms) of ``repeat`` calls, after one warm-up call."""
    result = fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), result


def _schema_url(base: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{SCHEMA},public"


def _fresh_schema(base: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    admin.dispose()


def _drop_schema(base: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
    admin.dispose()


def generate(url: str, stations: int, checkins: int, months: int) -> tuple[date, date]:
    """Stations, raw check-ins and their roll-ups; returns the span of months (first, end)."""
    from sqlalchemy import text

    from stations.store.outage import StoreLimits
    from stations.store.sql import SqlStationStore
    from stations.store.visits import SqlVisitStore

    # Bulk generation runs statements far longer than a request's limit.
    store = SqlStationStore(url, limits=StoreLimits(statement_s=3600, lock_s=600))
    engine = store.engine
    today = date.today().replace(day=1)
    first = today
    for _ in range(months - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    end = (today + timedelta(days=32)).replace(day=1)
    visits = SqlVisitStore.beside(store)
    month_starts = []
    m = first
    while m < end:
        month_starts.append(m)
        m = (m + timedelta(days=32)).replace(day=1)
    visits.ensure_partitions(month_starts)
    t0 = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO stations (name, address, district, lon, lat, host_type, host_org,"
                " amenities, opening_hours, phone, status, notes, geocoded, version,"
                " created_at, updated_at)"
                " SELECT '驿站' || g, '', '区' || (g % 300), 73 + random() * 60,"
                " 20 + random() * 30, (ARRAY['bank','express_depot','union_office',"
                "'convenience_store'])[1 + g % 4], '', '[\"hot_water\"]'::json,"
                " '24/7', '', 'open', '', false, 1, now(), now()"
                " FROM generate_series(1, :n) g"
            ),
            {"n": stations},
        )
    print(f"  {stations:,} stations in {time.perf_counter() - t0:.1f} s", flush=True)
    # Check-ins from local midnight of the first month up to now (none in the future, as
    # the service never writes one), in time order: the n-th of them at n/total of the
    # span plus a random part of one step, so each statement appends to one or two
    # partitions and their `at` index instead of inserting all over them.
    now = datetime.now(UTC)
    first_at = datetime(first.year, first.month, first.day, tzinfo=ZoneInfo(_TZ))
    span_s = (now - first_at).total_seconds()
    t0 = time.perf_counter()
    chunk = 1_000_000
    for start in range(0, checkins, chunk):
        n = min(chunk, checkins - start)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO checkins (station_id, at, worker_type)"
                    " SELECT 1 + floor(random() * :stations)::int,"
                    " :first_at + ((g + random()) / :total) * make_interval(secs => :span),"
                    " (ARRAY['delivery','courier','sanitation','ride_hailing','other',"
                    "'unspecified'])[1 + floor(random() * 6)::int]"
                    " FROM generate_series(:start, :stop) g"
                ),
                {
                    "stations": stations,
                    "first_at": first_at,
                    "span": span_s,
                    "total": checkins,
                    "start": start,
                    "stop": start + n - 1,
                },
            )
        print(f"  {start + n:,} check-ins …", flush=True)
    print(f"  raw check-ins in {time.perf_counter() - t0:.1f} s", flush=True)
    t0 = time.perf_counter()
    with engine.begin() as conn:
        # Room for the aggregations over millions of rows (the default 4 MB spills to disk),
        # and the day rows written in key order, so the primary key is appended to.
        conn.execute(text("SET LOCAL work_mem = '1GB'"))
        conn.execute(text("SET LOCAL maintenance_work_mem = '1GB'"))
        conn.execute(
            text(
                "INSERT INTO visit_daily (station_id, day, hour, worker_type, count)"
                " SELECT station_id, (at AT TIME ZONE 'Asia/Shanghai')::date,"
                " extract(hour FROM at AT TIME ZONE 'Asia/Shanghai')::int, worker_type, count(*)"
                " FROM checkins GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
            )
        )
        # 0012's area and last-day roll-ups; its per-worker monthly rows now go straight
        # into 0015's wide table (one row per station and month).
        for statement in _migration("0012").backfill_statements(pg=True):
            if not statement.startswith("INSERT INTO visit_monthly "):
                conn.execute(text(statement))
        conn.execute(text(_migration("0015").fill_statement(_MONTHLY_SOURCE)))
        rollup = conn.execute(text("SELECT count(*) FROM visit_daily")).scalar_one()
        monthly = conn.execute(text("SELECT count(*) FROM visit_station_month")).scalar_one()
    # What autovacuum does to a live database: statistics, and visibility maps, so that the
    # roll-ups' index-only scans need not visit the heap.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(
            text(
                "VACUUM ANALYZE stations, station_codes, checkins, visit_daily,"
                " visit_station_month, visit_area_daily, visit_station_last"
            )
        )
    print(
        f"  roll-ups (day: {rollup:,} rows, month: {monthly:,}) in"
        f" {time.perf_counter() - t0:.1f} s",
        flush=True,
    )
    visits.codes()  # every station gets its public code, as posters would
    store.close()
    return first, end


#: Scans and tallies per station, month and worker type, as 0012 filled ``visit_monthly``.
_MONTHLY_SOURCE = (
    "(SELECT station_id, date_trunc('month', day)::date AS month, worker_type, count"
    " FROM visit_daily UNION ALL SELECT station_id, date_trunc('month', day)::date,"
    " 'hand_tally', count FROM visit_tallies) AS v"
)


def _migration(revision: str):
    """The migration module of ``revision`` (its roll-up SQL fills the generated data)."""
    import importlib.util

    folder = ROOT / "stations" / "migrations" / "versions"
    path = next(folder.glob(f"{revision}_*.py"))
    spec = importlib.util.spec_from_file_location(f"migration_{revision}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _raw_monthly(engine, start: date, end: date) -> list:
    """Baseline: the monthly table computed from the raw check-ins."""
    from sqlalchemy import text

    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT station_id, worker_type, count(*) FROM checkins"
                " WHERE (at AT TIME ZONE 'Asia/Shanghai')::date >= :s"
                " AND (at AT TIME ZONE 'Asia/Shanghai')::date < :e GROUP BY 1, 2"
            ),
            {"s": start, "e": end},
        ).all()


def _explain(engine, sent: dict, folder: Path) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of each dashboard statement as it was sent, one file each,
    and each plan's execution time printed (a plan says where the time went)."""
    folder.mkdir(parents=True, exist_ok=True)
    for n, (key, (statement, params)) in enumerate(sent.items()):
        if statement.lstrip().upper().startswith("SET"):
            continue
        with engine.connect() as conn:
            conn.exec_driver_sql("SET LOCAL work_mem = '64MB'")  # as the dashboard runs them
            plan = (
                conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
                .scalars()
                .all()
            )
        (folder / f"dashboard-{n:02d}.txt").write_text(key + "\n\n" + "\n".join(plan) + "\n")
        total = next((line for line in plan if line.startswith("Execution Time")), "")
        print(f"  EXPLAIN {n:02d} {total:>28}  {key}")


def reports(url: str, first: date, end: date, out: dict, explain: Path | None = None) -> None:
    from sqlalchemy import event

    from stations.store.sql import SqlStationStore
    from stations.store.visit_stats import VisitStats
    from stations.store.visits import SqlVisitStore
    from stations.visits.monthly import write_monthly_lines, write_monthly_xlsx

    store = SqlStationStore(url)
    stats = VisitStats(store.engine)
    visits = SqlVisitStore.beside(store)
    month = (end - timedelta(days=1)).replace(day=1)
    month = (month - timedelta(days=1)).replace(day=1)  # the last whole month
    month_end = (month + timedelta(days=32)).replace(day=1)

    def lines_only() -> int:
        """The report's lines as the XLSX writer receives them (codes joined, nothing kept)."""
        visits.ensure_codes()
        return sum(1 for _line in stats.monthly_lines(month, month_end))

    def plain() -> list:
        """The plain path: a MonthlyRow per station, then the codes looked up."""
        rows = stats.monthly(month, month_end)
        visits.codes([r.station_id for r in rows])
        return rows

    ms, count = _timed(lines_only, 3)
    plain_ms, rows = _timed(plain, 3)
    codes = visits.codes([r.station_id for r in rows])
    with tempfile.TemporaryDirectory() as folder:
        xlsx_ms, (_n, totals) = _timed(
            lambda: write_monthly_lines(
                Path(folder) / "m.xlsx", month, stats.monthly_lines(month, month_end)
            ),
            1,
        )
        plain_xlsx_ms, _ = _timed(
            lambda: write_monthly_xlsx(Path(folder) / "p.xlsx", month, rows, codes), 1
        )
    raw_ms, _ = _timed(lambda: _raw_monthly(store.engine, month, month_end), 1)
    assert count == len(rows) and totals["服务人次合计"] == sum(r.total for r in rows)
    out["monthly_report_ms"] = round(ms)
    out["monthly_plain_rows_baseline_ms"] = round(plain_ms)
    out["monthly_xlsx_file_ms"] = round(xlsx_ms)
    out["monthly_xlsx_file_plain_baseline_ms"] = round(plain_xlsx_ms)
    out["monthly_from_raw_baseline_ms"] = round(raw_ms)
    out["monthly_stations"] = count
    out["monthly_total"] = totals["服务人次合计"]
    print(
        f"  monthly report lines {ms:.0f} ms for {count:,} stations (plain rows {plain_ms:.0f} ms;"
        f" from raw {raw_ms:.0f} ms); the XLSX file, query included, {xlsx_ms:.0f} ms"
        f" (plain path {plain_xlsx_ms:.0f} ms)"
    )

    # Each statement of the dashboard, timed where SQLAlchemy sends it.
    timings: dict[str, list[float]] = {}
    sent: dict[str, tuple[str, object]] = {}  # the statements as sent, for EXPLAIN ANALYZE

    @event.listens_for(store.engine, "before_cursor_execute")
    def _before(conn, cursor, statement, params, context, executemany):  # noqa: ANN001
        conn.info["t0"] = time.perf_counter()

    @event.listens_for(store.engine, "after_cursor_execute")
    def _after(conn, cursor, statement, params, context, executemany):  # noqa: ANN001
        key = " ".join(statement.split())[:150]
        timings.setdefault(key, []).append((time.perf_counter() - conn.info["t0"]) * 1000)
        sent.setdefault(key, (statement, params))

    today = datetime.now(ZoneInfo(_TZ)).date()  # the service's today: nothing after it
    for _ in range(4):
        stats.dashboard(today)
    out["dashboard_ms"] = {k: round(statistics.median(v[1:]), 1) for k, v in timings.items()}
    for k, v in out["dashboard_ms"].items():
        print(f"  dashboard {v:7.1f} ms  {k}")
    event.remove(store.engine, "before_cursor_execute", _before)
    event.remove(store.engine, "after_cursor_execute", _after)
    if explain is not None:
        _explain(store.engine, sent, explain)
    # The whole dashboard too: a streamed statement's rows arrive after its execute() returns.
    whole_ms, _ = _timed(lambda: stats.dashboard(today), 3)
    out["dashboard_whole_ms"] = round(whole_ms)
    print(f"  dashboard, all statements and their rows: {whole_ms:.0f} ms")
    try:
        year_ms, _ = _timed(lambda: stats.visits("district", "month", first, end), 3)
    except Exception as exc:  # the store's statement timeout, on a loaded machine
        out["stats_district_by_month_whole_span_ms"] = f"failed: {type(exc).__name__}"
        print(f"  stats group=district period=month over the whole span: {exc.__class__.__name__}")
    else:
        out["stats_district_by_month_whole_span_ms"] = round(year_ms)
        print(f"  stats group=district period=month over the whole span {year_ms:.0f} ms")
    store.close()


_POST_LUA = r"""
local codes, n = {}, 0
local counter = 0
local next_id = 1
function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
end
function init(args)
  for line in io.lines(args[1]) do n = n + 1; codes[n] = line end
  math.randomseed(os.time() * 100 + (tid or 0))
  prefix = string.format("bench-%d-%d", os.time(), tid or 0)
end
function request()
  counter = counter + 1
  local code = codes[math.random(n)]
  return wrk.format("POST", "/api/v1/checkins",
    {["Content-Type"] = "application/json", ["X-Device-Id"] = prefix .. "-" .. counter},
    '{"code":"' .. code .. '","worker_type":"delivery"}')
end
ok = 0
function response(status, headers, body)
  if status == 201 or status == 200 then ok = ok + 1 end
end
function done(summary, latency, requests)
  io.write(string.format("WRK_POST %d %d %d %.1f %.1f\n", summary.requests, summary.errors.status,
    summary.duration, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""


def _wrk_post(base: str, codes_file: Path, seconds: int, connections: int, folder: Path) -> dict:
    script = folder / "post.lua"
    script.write_text(_POST_LUA)
    proc = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            base,
            "--",
            str(codes_file),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(x for x in proc.stdout.splitlines() if x.startswith("WRK_POST"))
    requests, bad, duration_us, p50, p99 = line.split()[1:]
    ok = int(requests) - int(bad)
    return {
        "requests": int(requests),
        "non_2xx": int(bad),
        "per_s": round(ok / (int(duration_us) / 1e6)),
        "p50_ms": float(p50),
        "p99_ms": float(p99),
    }


def writes(url: str, seconds: int, connections: int, out: dict) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        codes = conn.execute(text("SELECT code FROM station_codes")).scalars().all()
        before = conn.execute(text("SELECT count(*) FROM checkins")).scalar_one()
    folder = Path(tempfile.mkdtemp(prefix="visits-bench-"))
    codes_file = folder / "codes.txt"
    codes_file.write_text("\n".join(codes))
    port = free_port()
    env = {"STATIONS_CHECKIN_RATE_PER_HOUR": "0", "STATIONS_RATE_LIMIT_PER_MINUTE": "100000000"}
    with Server(url, 1, port, folder / "server.log", env) as server:
        server.wait_ready()
        base = server.base
        # Steady state: the first check-in loads every station's code into the worker
        # (once, ~0.3 s at 100k stations), so one goes in before the clock starts.
        import httpx

        httpx.post(
            base + "/api/v1/checkins",
            json={"code": codes[0]},
            headers={"X-Device-Id": f"warm-up-{time.time_ns()}"},
            timeout=60,
        ).raise_for_status()
        ceiling = run_load(base, ["/livez"], seconds, connections=connections)
        result = _wrk_post(base, codes_file, seconds, connections, folder)
    with engine.connect() as conn:
        after = conn.execute(text("SELECT count(*) FROM checkins")).scalar_one()
    result["rows_written"] = after - before
    out["writes"] = result
    out["livez_ceiling_per_s"] = round(ceiling.rps)
    print(
        f"  check-ins {result['per_s']}/s (p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms;"
        f" {result['non_2xx']} non-2xx); GET /livez ceiling {ceiling.rps:.0f}/s"
    )
    engine.dispose()


def kill_during_burst(url: str, out: dict) -> None:
    """Acknowledged check-ins survive ``kill -9`` of the server mid-burst."""
    import httpx
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        codes = conn.execute(text("SELECT code FROM station_codes LIMIT 1000")).scalars().all()
        before = conn.execute(text("SELECT count(*) FROM checkins")).scalar_one()
    folder = Path(tempfile.mkdtemp(prefix="visits-kill-"))
    port = free_port()
    env = {"STATIONS_CHECKIN_RATE_PER_HOUR": "0"}
    acked = 0
    sent = 0
    lock = threading.Lock()
    stop = threading.Event()
    server = Server(url, 1, port, folder / "server.log", env)
    server.wait_ready()

    def fire(worker: int) -> None:
        nonlocal acked, sent
        with httpx.Client(base_url=server.base, timeout=5) as client:
            n = 0
            while not stop.is_set():
                n += 1
                try:
                    with lock:
                        sent += 1
                    r = client.post(
                        "/api/v1/checkins",
                        json={"code": codes[n % len(codes)]},
                        headers={"X-Device-Id": f"kill-{worker}-{n}-{time.time_ns()}"},
                    )
                    if r.status_code == 201:
                        with lock:
                            acked += 1
                except httpx.HTTPError:
                    if stop.is_set():
                        return

    threads = [threading.Thread(target=fire, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    time.sleep(3)
    os.killpg(server.proc.pid, signal.SIGKILL)
    server.proc.wait(timeout=10)
    stop.set()
    for t in threads:
        t.join(timeout=10)
    server.stop()
    with engine.connect() as conn:
        after = conn.execute(text("SELECT count(*) FROM checkins")).scalar_one()
    stored = after - before
    out["kill9"] = {
        "sent": sent,
        "acknowledged": acked,
        "stored": stored,
        "lost": max(0, acked - stored),
    }
    print(
        f"  kill -9 mid-burst: {acked} acknowledged, {stored} stored, lost {max(0, acked - stored)}"
    )
    engine.dispose()


def main() -> None:
    global SCHEMA
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", default=os.environ.get("STATIONS_TEST_POSTGRES_URL"))
    parser.add_argument("--stations", type=int, default=100_000)
    parser.add_argument("--checkins", type=int, default=10_000_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--write-seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--skip-writes", action="store_true")
    parser.add_argument("--skip-reports", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the schema afterwards")
    parser.add_argument("--reuse", action="store_true", help="reuse a kept schema")
    parser.add_argument("--json", type=Path, help="write the results here too")
    parser.add_argument(
        "--explain", type=Path, help="write EXPLAIN ANALYZE of each dashboard query here"
    )
    parser.add_argument("--schema", default="visits_bench", help="the schema to work in")
    args = parser.parse_args()
    SCHEMA = args.schema
    if not args.pg:
        sys.exit("set STATIONS_TEST_POSTGRES_URL or pass --pg")
    url = _schema_url(args.pg)
    out: dict = {"stations": args.stations, "checkins": args.checkins, "months": args.months}
    try:
        if args.reuse:
            end = (date.today().replace(day=1) + timedelta(days=32)).replace(day=1)
            first = end
            for _ in range(args.months):
                first = (first - timedelta(days=1)).replace(day=1)
        else:
            _fresh_schema(args.pg)
            print("generating …", flush=True)
            first, end = generate(url, args.stations, args.checkins, args.months)
        if not args.skip_reports:
            print("reports …", flush=True)
            reports(url, first, end, out, args.explain)
        if not args.skip_writes:
            print("writes …", flush=True)
            writes(url, args.write_seconds, args.connections, out)
            print("kill -9 …", flush=True)
            kill_during_burst(url, out)
    finally:
        if not args.keep:
            _drop_schema(args.pg)
    print(json.dumps(out, ensure_ascii=False, indent=1))
    if args.json:
        args.json.write_text(json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
