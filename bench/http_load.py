"""Shared HTTP load helpers for the benchmarks: start the service, drive it with wrk.

Requests go only to 127.0.0.1; every run is bounded by its duration and stops by itself.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]

# Random query points in a box; wrk's Lua is seeded per thread so threads differ.
_LUA = """
local west, south, east, north = {west}, {south}, {east}, {north}
math.randomseed(os.time() + tonumber(tostring({{}}):sub(8), 16))
request = function()
  local lon = west + math.random() * (east - west)
  local lat = south + math.random() * (north - south)
  return wrk.format("GET", string.format("{path}", lat, lon))
end
"""


@dataclass
class LoadResult:
    label: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(database_url: str, workers: int = 1) -> Iterator[str]:
    """``stations serve`` on a free port with ``database_url``; yields the base URL."""
    port = free_port()
    # A load test is one client hammering the service: lift the per-client rate limit.
    env = dict(os.environ, STATIONS_DATABASE_URL=database_url,
               STATIONS_RATE_LIMIT_PER_MINUTE="1000000000")
    cmd = [sys.executable, "-c", "from api.cli import main; main()", "serve", "--port",
           str(port), "--workers", str(workers)]
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("the service did not start")
            time.sleep(0.3)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]


def wrk(base: str, path_format: str, label: str, *, box: tuple[float, float, float, float],
        seconds: int = 10, threads: int = 2, connections: int = 32) -> LoadResult:
    """Run wrk for ``seconds``; ``path_format`` takes %f lat, %f lon (or none)."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (apt-get install wrk)")
    west, south, east, north = box
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(_LUA.format(west=west, south=south, east=east, north=north,
                             path=path_format.replace("%", "%%").replace("%%f", "%.6f")))
        script = fh.name
    try:
        out = subprocess.run(
            ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
             "--latency", "-s", script, base], capture_output=True, text=True,
            timeout=seconds + 60, check=True).stdout
    finally:
        os.unlink(script)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    lat = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", out, re.M))
    pct = {k: _ms(*re.match(r"([\d.]+)(\w+)", v).groups()) for k, v in lat.items()}  # type: ignore[union-attr]
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors += int(non2xx.group(1)) if non2xx else 0
    return LoadResult(label, rps, pct.get("50", float("nan")), pct.get("99", float("nan")),
                      errors)


def print_load(rows: list[LoadResult], reference: LoadResult) -> None:
    print(f"{'endpoint':40} {'req/s':>9} {'× bare':>7} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for r in rows:
        print(f"{r.label:40} {r.rps:9.0f} {r.rps / reference.rps:7.2f} {r.p50_ms:8.2f} "
              f"{r.p99_ms:8.2f} {r.errors:7d}")
