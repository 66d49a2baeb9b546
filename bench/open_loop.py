"""Open-loop POST load for the benchmarks (run by hand, never by the tests).

    python -m bench.open_loop BASE TARGETS --rate 1000 --seconds 6 [--connections 256]
        [--start-at EPOCH] [--path /livez]

Why not wrk's pacing: wrk waits a delay *after each answer*, so when the server slows down
the offered rate falls with it (a closed loop), and a benchmark that asks for 1,000 writes a
second while the worker is busy may offer far fewer. Here the i-th request is due at
``start + i / rate`` whatever the answers' latency: each goes out on an idle keep-alive
connection, a new one is opened when none is idle (up to ``--connections``), and a request
that finds every connection busy waits and is counted ``late`` — a server that cannot keep
up shows as late requests and a lower 2xx rate, not as a lower offered rate.

``TARGETS`` is a file of ``id,lon,lat`` lines (a station and a point near it); every request
is a new device (``X-Device-Id``) voting at the next target, states cycling as
``bench.confirmations_bench``'s wrk script does. Prints one JSON line: requests sent, 2xx,
non-2xx, late, 2xx per second over the run, and latency percentiles (from each request's
due time, so waiting for a connection counts). ``--start-at`` (a ``time.time()`` value) holds
the first request until then, so a caller can start another load at the same instant without
counting this interpreter's start-up as part of the run. ``--path`` sends ``GET PATH`` on the
same schedule instead of votes: what any request at that rate costs the worker (the HTTP
stack's floor, beside which a vote's own cost can be read).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from pathlib import Path
from urllib.parse import urlsplit

_STATES = ("open", "closed", "open", "locked")


def _requests(targets: Path, host: str, path: str | None = None) -> list[tuple[bytes, bytes]]:
    """(head without the device line, body) for each target, cycled by the sender; with
    ``path``, one bodiless ``GET path``."""
    if path is not None:
        return [(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n".encode(), b"")]
    out = []
    for line in targets.read_text().splitlines():
        sid, lon, lat = line.split(",")
        out.append((sid, lon, lat))
    built = []
    for i, (sid, lon, lat) in enumerate(out):
        body = f'{{"state":"{_STATES[i % 4]}","lat":{lat},"lon":{lon}}}'.encode()
        head = (
            f"POST /api/v1/stations/{sid}/confirmations HTTP/1.1\r\nHost: {host}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        ).encode()
        built.append((head, body))
    return built


async def _read_answer(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return status


async def run(
    base: str,
    targets: Path,
    rate: float,
    seconds: float,
    connections: int,
    start_at: float | None = None,
    path: str | None = None,
) -> dict:
    parts = urlsplit(base)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    requests = _requests(targets, f"{host}:{port}", path)
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    freed = asyncio.Event()
    opened = 0
    latencies: list[float] = []
    counts = {"sent": 0, "ok": 0, "non_2xx": 0, "late": 0, "errors": 0}
    tasks: set[asyncio.Task] = set()
    stamp = int(time.time())

    async def one(i: int, due: float, conn: tuple[asyncio.StreamReader, asyncio.StreamWriter]):
        reader, writer = conn
        head, body = requests[i % len(requests)]
        device = f"X-Device-Id: open-{stamp}-{i}\r\n\r\n".encode()
        try:
            writer.write(head + device + body)
            status = await _read_answer(reader)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            counts["errors"] += 1
            writer.close()
            nonlocal opened
            opened -= 1
            freed.set()
            return
        latencies.append(time.perf_counter() - due)
        counts["ok" if 200 <= status < 300 else "non_2xx"] += 1
        idle.append(conn)
        freed.set()

    if start_at is not None and start_at > time.time():
        await asyncio.sleep(start_at - time.time())
    start = time.perf_counter()
    end = start + seconds
    i = 0
    while True:
        due = start + i / rate
        if due >= end:
            break
        now = time.perf_counter()
        if due > now:
            await asyncio.sleep(due - now)
        while not idle and opened >= connections:
            counts["late"] += 1
            freed.clear()
            await freed.wait()
        if not idle:
            opened += 1
            idle.append(await asyncio.open_connection(host, port))
        task = asyncio.create_task(one(i, due, idle.pop()))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        counts["sent"] += 1
        i += 1
    sent_for = time.perf_counter() - start
    if tasks:
        await asyncio.wait(tasks, timeout=10)
    for _reader, writer in idle:
        writer.close()
    lat = sorted(latencies)
    return {
        **counts,
        "offered_per_s": counts["sent"] / sent_for,
        "ok_per_s": counts["ok"] / sent_for,
        "p50_ms": statistics.median(lat) * 1e3 if lat else float("nan"),
        "p99_ms": lat[int(len(lat) * 0.99)] * 1e3 if lat else float("nan"),
        "connections": opened,
        "client_cpu_us": time.process_time() / max(1, counts["sent"]) * 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("base")
    parser.add_argument("targets", type=Path)
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--connections", type=int, default=256)
    parser.add_argument("--start-at", type=float, default=None, help="time.time() to begin at")
    parser.add_argument("--path", default=None, help="GET this path instead of voting")
    args = parser.parse_args()
    if urlsplit(args.base).hostname not in ("127.0.0.1", "localhost"):
        raise SystemExit("open-loop load goes to this machine only")
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    result = asyncio.run(
        run(
            args.base,
            args.targets,
            args.rate,
            args.seconds,
            args.connections,
            args.start_at,
            args.path,
        )
    )
    print("OPEN_LOOP " + json.dumps(result))


if __name__ == "__main__":
    main()
