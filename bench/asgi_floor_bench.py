"""What an empty request costs a busy Python worker on this machine, with no framework (run by hand).

    python -m bench.asgi_floor_bench            # 4 sets of 6-s windows, 1,000 empty requests/s

Why: ``bench.confirmations_bench`` asks that nearest keep ≥ 0.8 of its throughput while one
worker takes 1,000 votes a second, and prints the service's own floor beside the ratio (an
empty ``/livez`` paced alike). This bench answers the question that floor leaves open: how
much of it is the interpreter, uvicorn and the machine, and how much the service's layers
(FastAPI's middleware, the edge, the router)? It serves a bare ASGI app, in the same server
the service runs on (uvicorn with uvloop and httptools, no access log), with two paths:

* ``/work`` — plain Python work of about a nearest answer's weight (``--rows`` dicts built,
  sorted and encoded to JSON: allocation, hashing and string building, as a nearest answer
  does; a busy loop would leave the caches warm and flatter the floor);
* ``/livez`` — an empty answer.

``/work`` alone (A) and ``/work`` while ``/livez`` is offered at ``--rate`` on a fixed
schedule (C, :class:`bench.confirmations_bench.OpenLoop`), in ``--pairs`` sets of
``--window``-second windows taken in turns (AC, CA), the worker pinned to a core of its own
and the load generators to the others. The ratio is all C windows' 2xx ``/work`` answers over
all A windows'; the worker's CPU per paced empty request is what the C windows spent beyond
their ``/work`` answers (at the A windows' CPU per answer). Nothing is cached or replayed:
each ``/work`` answer is built anew from random numbers.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.confirmations_bench import OpenLoop, Pinning, _Phase
from bench.loadgen import cpu_seconds, free_port, run_load

_EMPTY = b'{"status":"ok"}'
#: ``/work`` builds this many rows per answer (``--rows`` sets it in the server's environment).
ROWS = 330


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The bare ASGI app the bench serves (``bench.asgi_floor_bench:app``)."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    if scope["path"] == "/work":
        rows = [
            {"id": f"s{i}", "name": "驿站" * (i % 7), "d": random.random() * 1000, "k": [i % 5]}
            for i in range(ROWS)
        ]
        rows.sort(key=lambda r: r["d"])
        body = json.dumps({"features": rows[:10]}, ensure_ascii=False).encode()
    else:
        body = _EMPTY
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class _BareServer:
    """uvicorn serving :func:`app`, one worker, as the service's worker is configured."""

    def __init__(self, port: int, rows: int, log: Path) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self._log = open(log, "wb")  # noqa: SIM115 - closed in __exit__
        code = (
            f"import bench.asgi_floor_bench as b, uvicorn; b.ROWS = {rows}; "
            f"uvicorn.run(b.app, host='127.0.0.1', port={port}, loop='uvloop', "
            "http='httptools', access_log=False, log_level='warning')"
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=Path(__file__).resolve().parents[1],
        )
        self.worker_pids = [self.proc.pid]

    def __enter__(self) -> _BareServer:
        import httpx

        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(self.base + "/livez", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"the bare server did not start; see {self._log.name}"
                    ) from None
                time.sleep(0.2)

    def __exit__(self, *_: object) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)
        self._log.close()

    def cpu_s(self) -> float:
        return cpu_seconds(self.proc.pid)

    def loop_cpu_s(self) -> float:
        return cpu_seconds(self.proc.pid, self.proc.pid)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rows", type=int, default=ROWS, help="rows per /work answer (its weight)")
    ap.add_argument("--rate", type=float, default=1000.0, help="empty requests a second in C")
    ap.add_argument("--pairs", type=int, default=4)
    ap.add_argument("--window", type=int, default=6, help="seconds per window")
    args = ap.parse_args(argv)
    alone: list[tuple[int, float]] = []  # (/work 2xx, worker CPU s)
    paced: list[tuple[int, float, int]] = []  # (/work 2xx, worker CPU s, /livez 2xx)
    with (
        tempfile.TemporaryDirectory() as tmp,
        Pinning(None, True) as pinning,
        _BareServer(free_port(), args.rows, Path(tmp) / "server.log") as server,
    ):
        pinning.worker(server.proc.pid)
        run_load(server.base, ["/work"], 2, connections=16)  # warm up
        for k in range(args.pairs):
            for kind in "AC" if k % 2 == 0 else "CA":
                if kind == "A":
                    with _Phase(server) as ph:  # type: ignore[arg-type]
                        got = run_load(server.base, ["/work"], args.window, connections=16)
                    alone.append((got.ok, ph.cpu))
                    continue
                start_at = time.time() + 1.0
                empty = OpenLoop(
                    server.base, Path("/dev/null"), args.window, args.rate, start_at, "/livez"
                )
                time.sleep(max(0.0, start_at - time.time()))
                with _Phase(server) as ph:  # type: ignore[arg-type]
                    got = run_load(server.base, ["/work"], args.window, connections=16)
                paced.append((got.ok, ph.cpu, int(empty.result()["ok"])))
        describe = (
            f"worker pinned to CPU {sorted(pinning.worker_core)}, load generators to CPUs "
            f"{sorted(pinning.others)}"
            if pinning.enabled
            else "not pinned (one core)"
        )
    a_ok, a_cpu = sum(x[0] for x in alone), sum(x[1] for x in alone)
    c_ok, c_cpu, sent = (sum(x[i] for x in paced) for i in range(3))
    work_cpu = a_cpu / a_ok
    empty_cpu = (c_cpu - c_ok * work_cpu) / sent if sent else float("nan")
    pairs = [c[0] / a[0] for a, c in zip(alone, paced, strict=True)]
    seconds = args.window * args.pairs
    print(
        f"bare ASGI app, uvicorn (uvloop, httptools, no access log), 1 worker; {args.pairs} "
        f"sets of {args.window}-s windows, /work alone and under /livez paced at "
        f"{args.rate:.0f}/s (open loop), in turns; 2xx only; {describe}"
    )
    rows = (
        ("/work alone, req/s", f"{a_ok / seconds:10.0f}"),
        ("/work under paced empty requests, req/s", f"{c_ok / seconds:10.0f}"),
        ("paced empty requests answered 2xx, /s", f"{sent / seconds:10.0f}"),
        ("ratio /work paced / alone", f"{c_ok / a_ok:10.3f}"),
        ("  lowest and highest pair", f"{min(pairs):.3f}–{max(pairs):.3f}".rjust(10)),
        ("worker CPU per /work answer, µs", f"{work_cpu * 1e6:10.0f}"),
        ("worker CPU per paced empty request, µs", f"{empty_cpu * 1e6:10.0f}"),
    )
    for label, value in rows:
        print(f"  {label:<44}{value}")
    print(
        "  compare: confirmations_bench's 'ratio under /livez paced alike (the floor)' and "
        "'worker CPU per paced /livez' are the service's own"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
