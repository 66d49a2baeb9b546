"""Load generation and process measurement for the scale benchmark (run by hand).

* :class:`Server` starts ``stations serve --workers N`` on 127.0.0.1 as a child process
  group, waits until every worker answers ``/readyz``, reads each worker's resident memory
  from ``/proc`` and stops the group it started (by its own process id, nothing else).
* :func:`run_load` drives HTTP load with ``wrk`` (Debian's package; a small Lua script varies
  the request paths and, for a paced run, delays each connection's next request) and falls
  back to an asyncio httpx loop when wrk is not installed. Every run is bounded by its
  duration; every URL is checked to be on 127.0.0.1 first.

Why wrk: on a 2-core machine the load generator competes with the server for CPU; wrk is C and
costs a fraction of what a Python client would, so the server's numbers are the server's.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

__all__ = [
    "LoadResult",
    "Server",
    "assert_local",
    "cpu_seconds",
    "rss_mb",
    "run_load",
    "wrk_available",
]

_WRK_MARK = "WRK_JSON "

# Paths are read from a file (one per line); each thread starts at its own offset so
# connections do not ask the same points in lockstep. ``response()`` counts the 2xx answers:
# wrk's own count includes every status, and only an answer the rider can use is throughput. ``delay()`` is defined only for paced
# runs: a fractional mean delay in ms, dithered to whole ms (wrk's timer resolution).
_LUA = r"""
local paths, n, pos = {}, 0, 0
local delay_ms = 0
local threads, next_id = {}, 1
function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end
function init(args)
  for line in io.lines(args[1]) do n = n + 1; paths[n] = line end
  delay_ms = tonumber(args[2] or "0")
  math.randomseed(1000 + (tid or 1))
  pos = math.random(n)
end
function request()
  pos = pos % n + 1
  return wrk.format("GET", paths[pos])
end
ok = 0
function response(status, headers, body)
  if status >= 200 and status < 300 then ok = ok + 1 end
end
__DELAY__
function done(summary, latency, requests)
  local e = summary.errors
  local ok_total = 0
  for _, thread in ipairs(threads) do ok_total = ok_total + (thread:get("ok") or 0) end
  io.write(string.format(
    'WRK_JSON {"requests":%d,"ok":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"mean_us":%.1f}\n',
    summary.requests, ok_total, summary.duration, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
"""
_LUA_DELAY = r"""
function delay()
  local whole = math.floor(delay_ms)
  if math.random() < delay_ms - whole then whole = whole + 1 end
  return whole
end
"""


def assert_local(url: str) -> str:
    """Refuse any URL that is not on 127.0.0.1: the benchmark loads only this machine."""
    host = urlsplit(url).hostname
    if host != "127.0.0.1":
        raise ValueError(f"benchmark requests go to 127.0.0.1 only, not {host!r} ({url})")
    return url


#: A load test is one client hammering the service: lift the per-client rate limit.
NO_RATE_LIMIT = {"STATIONS_RATE_LIMIT_PER_MINUTE": str(10**9)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


@dataclass
class LoadResult:
    """What one load run measured. Latencies in milliseconds.

    ``requests`` counts every answer, ``ok`` the 2xx ones; :attr:`rps` is of ``ok`` only.
    """

    requests: int
    ok: int
    seconds: float
    errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    tool: str
    detail: dict[str, int] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        """Successful (2xx) answers per second."""
        return self.ok / self.seconds if self.seconds > 0 else 0.0


def rss_mb(pid: int) -> float:
    """Resident set size of a process in MiB, from /proc (psutil is not a dependency)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int, tid: int | None = None) -> float:
    """CPU seconds (user + system) a process (or its thread ``tid``) has used so far, from
    /proc.

    Why: on a machine shared with other work, a server's throughput moves with everyone
    else's load, while the CPU it spends per answer moves much less; benches report both.
    """
    path = f"/proc/{pid}/stat" if tid is None else f"/proc/{pid}/task/{tid}/stat"
    with open(path, encoding="ascii", errors="replace") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    # After the command: state is field 3 of stat(5), utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                stat = fh.read()
        except OSError:
            continue
        # The command may hold spaces or parentheses: parse after the last ")".
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            out.append(int(entry))
    return sorted(out)


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


class Server:
    """``stations serve --workers N`` on 127.0.0.1:``port``, in its own process group."""

    def __init__(
        self,
        database_url: str,
        workers: int,
        port: int,
        log_path: Path,
        extra_env: Mapping[str, str] | None = None,
        *,
        command: Sequence[str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        """``command`` runs the CLI (default: this interpreter's); ``cwd`` is where it runs,
        so a second checkout with its own environment can be served side by side."""
        self.workers = workers
        self.port = port
        self.base = assert_local(f"http://127.0.0.1:{port}")
        env = dict(os.environ, STATIONS_DATABASE_URL=database_url, **(extra_env or {}))
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [
                *(command or (sys.executable, "-c", "from cli import main; main()")),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=cwd,
        )
        self.worker_pids: list[int] = []

    def wait_ready(self, timeout_s: float = 240.0) -> float:
        """Block until every worker answered ``/readyz``; returns the seconds it took."""
        import httpx

        started = time.monotonic()
        seen: set[int] = set()
        while len(seen) < self.workers:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"server exited with {self.proc.returncode}; see {self._log.name}"
                )
            if time.monotonic() - started > timeout_s:
                raise RuntimeError(
                    f"only {len(seen)} of {self.workers} workers ready after "
                    f"{timeout_s:.0f} s; see {self._log.name}"
                )
            try:
                # A fresh connection each time, so the kernel hands it to any worker.
                with httpx.Client(timeout=5) as client:
                    r = client.get(self.base + "/readyz")
                if r.status_code == 200:
                    seen.add(int(r.json()["pid"]))
                    continue
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.worker_pids = self._find_workers(seen)
        return time.monotonic() - started

    def _find_workers(self, answered: set[int]) -> list[int]:
        if self.workers == 1:
            return [self.proc.pid]
        kids = [p for p in _children(self.proc.pid) if "resource_tracker" not in _cmdline(p)]
        missing = answered - set(kids)
        if missing:
            raise RuntimeError(f"workers {sorted(missing)} are not children of {self.proc.pid}")
        return sorted(answered)

    def cpu_s(self) -> float:
        """CPU seconds the workers have used so far (:func:`cpu_seconds`)."""
        return sum(cpu_seconds(pid) for pid in self.worker_pids)

    def loop_cpu_s(self) -> float:
        """CPU seconds the workers' main threads (their event loops) have used so far; the
        rest of :meth:`cpu_s` is their other threads' (database writers, refreshers)."""
        return sum(cpu_seconds(pid, pid) for pid in self.worker_pids)

    def rss(self) -> dict[int, float]:
        """Each worker's RSS in MiB (the process that holds an index and answers)."""
        return {pid: rss_mb(pid) for pid in self.worker_pids}

    def stop(self) -> None:
        """SIGTERM the group this object started, SIGKILL after 20 s."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self._log.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def run_load(
    base: str,
    paths: Sequence[str],
    seconds: int,
    *,
    connections: int = 16,
    delay_ms: float = 0.0,
    workdir: Path | None = None,
    force_httpx: bool = False,
    headers: Mapping[str, str] | None = None,
) -> LoadResult:
    """Send GET requests for ``paths`` (cycled) to ``base`` for ``seconds`` seconds.

    ``delay_ms`` > 0 paces each connection: it waits that long (on average) after each
    response before its next request, so the offered rate is about
    ``connections / (latency + delay)``. Non-2xx/3xx answers, timeouts (5 s) and socket
    errors all count as errors. ``headers`` go with every request; without them no
    ``Accept-Encoding`` is sent (as wrk sends none), so answers come uncompressed.
    """
    assert_local(base)
    if seconds < 1:
        raise ValueError("a load run lasts at least 1 s")
    headers = dict(headers or {})
    if wrk_available() and not force_httpx:
        return _run_wrk(base, paths, seconds, connections, delay_ms, workdir, headers)
    return asyncio.run(_run_httpx(base, paths, seconds, connections, delay_ms, headers))


def _run_wrk(
    base: str,
    paths: Sequence[str],
    seconds: int,
    connections: int,
    delay_ms: float,
    workdir: Path | None,
    headers: dict[str, str],
) -> LoadResult:
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        path_file = Path(tmp) / "paths.txt"
        path_file.write_text("\n".join(paths) + "\n", encoding="utf-8")
        script = Path(tmp) / "load.lua"
        script.write_text(
            _LUA.replace("__DELAY__", _LUA_DELAY if delay_ms > 0 else ""), encoding="utf-8"
        )
        cmd = [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "5s",
            *(f for name, value in headers.items() for f in ("-H", f"{name}: {value}")),
            "-s",
            str(script),
            base,
            "--",
            str(path_file),
            f"{delay_ms:.4f}",
        ]
        done = subprocess.run(
            cmd, capture_output=True, text=True, timeout=seconds + 60, check=False
        )
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith(_WRK_MARK)), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    raw = json.loads(line[len(_WRK_MARK) :])
    errors = sum(raw[k] for k in ("connect", "read", "write", "status", "timeout"))
    return LoadResult(
        requests=raw["requests"],
        ok=raw["ok"],
        seconds=raw["duration_us"] / 1e6,
        errors=errors,
        p50_ms=raw["p50_us"] / 1e3,
        p90_ms=raw["p90_us"] / 1e3,
        p99_ms=raw["p99_us"] / 1e3,
        max_ms=raw["max_us"] / 1e3,
        mean_ms=raw["mean_us"] / 1e3,
        tool="wrk",
        detail={k: raw[k] for k in ("connect", "read", "write", "status", "timeout")},
    )


async def _run_httpx(
    base: str,
    paths: Sequence[str],
    seconds: int,
    connections: int,
    delay_ms: float,
    headers: dict[str, str],
) -> LoadResult:
    """The fallback: ``connections`` asyncio workers on one httpx client (slower than wrk)."""
    import httpx
    import numpy as np

    latencies: list[float] = []
    errors = 0
    ok = 0
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)

    async def worker(client: httpx.AsyncClient, offset: int) -> None:
        nonlocal errors, ok
        i = offset
        while time.monotonic() < deadline:
            path = paths[i % len(paths)]
            i += 1
            t = time.perf_counter()
            try:
                r = await client.get(path)
                if r.status_code >= 400:
                    errors += 1
                ok += 200 <= r.status_code < 300
            except httpx.HTTPError:
                errors += 1
            latencies.append(time.perf_counter() - t)
            if delay_ms > 0:
                await asyncio.sleep(delay_ms / 1000.0)

    started = time.monotonic()
    async with httpx.AsyncClient(
        base_url=base, timeout=5, limits=limits, headers={"Accept-Encoding": "identity", **headers}
    ) as client:
        await asyncio.gather(*(worker(client, k * 997) for k in range(connections)))
    elapsed = time.monotonic() - started
    ms = np.asarray(latencies or [0.0]) * 1e3
    return LoadResult(
        requests=len(latencies),
        ok=ok,
        seconds=elapsed,
        errors=errors,
        p50_ms=float(np.percentile(ms, 50)),
        p90_ms=float(np.percentile(ms, 90)),
        p99_ms=float(np.percentile(ms, 99)),
        max_ms=float(ms.max()),
        mean_ms=float(ms.mean()),
        tool="httpx",
    )
