"""Does a heavy analysis stall the service? ``/livez`` latency while the largest plan an
anonymous caller may ask for runs, with the analysis in a worker process (the default) and,
in the same run, inside the service's threads (``STATIONS_ANALYSIS_IN_WORKER=0``, as before
issue 19). Run by hand:

    python bench/analysis_budget_bench.py [--seconds 20]

Each mode serves the demo data (``stations serve --demo``) on its own port. ``/livez`` is
asked over one kept-alive connection every 10 ms: first idle (the baseline), then while the
plan runs. Target: p99 under 50 ms during the run with the worker.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

#: The largest anonymous plan the default budget allows: ~3,600 km² at resolution 10
#: (≈ 240,000 cells, under 250,000) with 5,000 candidates.
WEST, SOUTH, SIZE = 116.2, 39.55, 0.6


def _body() -> bytes:
    ring = [[WEST, SOUTH], [WEST + SIZE, SOUTH], [WEST + SIZE, SOUTH + SIZE],
            [WEST, SOUTH + SIZE], [WEST, SOUTH]]  # fmt: skip
    candidates = [
        {"type": "Feature", "properties": {},
         "geometry": {"type": "Point", "coordinates": [WEST + SIZE * (i % 71) / 71,
                                                       SOUTH + SIZE * (i // 71) / 71]}}
        for i in range(5_000)
    ]  # fmt: skip
    return json.dumps(
        {
            "new_sites": 40,
            "resolution": 10,
            "area": {"type": "Polygon", "coordinates": [ring]},
            "candidates": {"type": "FeatureCollection", "features": candidates},
        }
    ).encode()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(port: int, in_worker: bool) -> subprocess.Popen[bytes]:
    env = {**os.environ, "STATIONS_ANALYSIS_IN_WORKER": "1" if in_worker else "0",
           "STATIONS_RATE_LIMIT_PER_MINUTE": "1000000"}  # fmt: skip
    exe = Path(sys.executable).parent / "stations"
    process = subprocess.Popen(
        [str(exe), "serve", "--demo", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit("the service did not start") from None
            time.sleep(0.2)


def _livez(port: int, seconds: float, stop: threading.Event | None = None) -> list[float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    out: list[float] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end and not (stop is not None and stop.is_set()):
        started = time.perf_counter()
        conn.request("GET", "/livez")
        conn.getresponse().read()
        out.append((time.perf_counter() - started) * 1000)
        time.sleep(0.01)
    conn.close()
    return out


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 2 else max(values)


def measure(in_worker: bool, seconds: float) -> dict[str, float]:
    port = _free_port()
    server = _serve(port, in_worker)
    try:
        idle = _livez(port, 5)
        done = threading.Event()
        result: dict[str, object] = {}

        def plan() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
            started = time.perf_counter()
            conn.request("POST", "/api/v1/plan", body=_body(),
                         headers={"Content-Type": "application/json"})  # fmt: skip
            response = conn.getresponse()
            response.read()
            result.update(status=response.status, seconds=time.perf_counter() - started)
            done.set()

        worker = threading.Thread(target=plan, daemon=True)
        worker.start()
        time.sleep(0.5)
        busy = _livez(port, seconds, done)
        worker.join(timeout=600)
        return {
            "idle_p50": statistics.median(idle),
            "idle_p99": _p(idle, 99),
            "busy_p50": statistics.median(busy),
            "busy_p99": _p(busy, 99),
            "busy_max": max(busy),
            "plan_status": float(result.get("status", 0)),  # type: ignore[arg-type]
            "plan_s": float(result.get("seconds", 0)),  # type: ignore[arg-type]
        }
    finally:
        server.terminate()
        server.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    rows = [("worker process", measure(True, args.seconds)),
            ("service threads (before)", measure(False, args.seconds))]  # fmt: skip
    print(f"{'analysis runs in':26} {'idle p50':>9} {'idle p99':>9} {'busy p50':>9} "
          f"{'busy p99':>9} {'busy max':>9} {'p99/idle':>9} {'plan':>12}")  # fmt: skip
    for name, r in rows:
        ratio = r["busy_p99"] / r["idle_p99"] if r["idle_p99"] else float("nan")
        plan = f"{int(r['plan_status'])} {r['plan_s']:.1f}s"
        print(f"{name:26} {r['idle_p50']:8.1f}ms {r['idle_p99']:8.1f}ms {r['busy_p50']:8.1f}ms "
              f"{r['busy_p99']:8.1f}ms {r['busy_max']:8.1f}ms {ratio:8.1f}x {plan:>12}")  # fmt: skip


if __name__ == "__main__":
    main()
