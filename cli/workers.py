"""``stations serve --workers N``: worker processes with a listening socket each.

Why not uvicorn's own ``--workers``: its workers share one listening socket, and each
worker's event loop accepts every pending connection when it wakes. A client that opens
many keep-alive connections at once — nginx's upstream pool, a load test — can then find
most of them held by one worker while another core idles (seen: 45 of 48 connections, and
soak segments at half speed). Here every worker binds its own socket to the same address
with ``SO_REUSEPORT``, and the kernel spreads new connections over the sockets by their
addresses, evenly on average.

Workers are forked from the parent after it imported the app (``preload``, the default on
Linux): the ~1,600 modules' code objects, functions and tables — ~115 MiB a worker when
each imported them itself — are then one set of pages shared copy-on-write by all workers,
instead of a private copy each. The parent freezes its objects out of the garbage collector
first (``gc.freeze``), so a worker's collections do not write to, and so copy, every shared
page. ``preload=False`` spawns fresh interpreters, as before.

The parent only supervises: it starts the workers, restarts one that dies after it had
started, and on SIGTERM or SIGINT asks them to finish (uvicorn drains open requests) and
waits. Linux only (``SO_REUSEPORT`` balancing); elsewhere ``stations serve`` falls back to
uvicorn's shared socket.
"""

from __future__ import annotations

import gc
import multiprocessing
import signal
import socket
import sys
import time
from types import FrameType
from typing import Any

__all__ = ["balanced_workers_supported", "run_workers"]

#: A worker that dies sooner than this after its start is broken (bad settings, port taken,
#: app failing to load): restarting it would fail the same way, so everything stops.
STARTUP_GRACE_S = 20.0
STOP_TIMEOUT_S = 30.0


def balanced_workers_supported() -> bool:
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def _bound_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def _serve_one(host: str, port: int, options: dict[str, Any]) -> None:
    """One worker (forked or in a fresh interpreter): its own socket, then uvicorn on it."""
    import uvicorn

    # A forked worker inherits the supervisor's handlers until uvicorn installs its own.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)

    sock = _bound_socket(host, port)
    config = uvicorn.Config("api.app:create_app", factory=True, host=host, port=port, **options)
    uvicorn.Server(config).run(sockets=[sock])


def run_workers(workers: int, host: str, port: int, *, preload: bool = True, **options: Any) -> int:
    """Run ``workers`` uvicorn workers on ``host:port`` until SIGTERM/SIGINT; the exit code.

    ``preload``: fork the workers from this process with the app imported (shared code
    pages); otherwise spawn fresh interpreters. ``options`` go to ``uvicorn.Config``
    (log_level, proxy_headers, ...).
    """
    # Fail here, with the reason, if the address cannot be bound (taken, bad host).
    _bound_socket(host, port).close()
    if preload:
        import api.app  # noqa: F401  - every module a worker imports, imported once here

        gc.collect()
        gc.freeze()
    context = (
        multiprocessing.get_context("fork") if preload else multiprocessing.get_context("spawn")
    )
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}

    def start() -> tuple[Any, float]:
        process = context.Process(
            target=_serve_one, args=(host, port, options), name="stations-worker"
        )
        process.start()
        return process, time.monotonic()

    running = [start() for _ in range(workers)]
    code = 0
    try:
        while not stopping:
            time.sleep(0.2)
            for i, (process, started) in enumerate(running):
                if process.is_alive() or stopping:
                    continue
                if time.monotonic() - started < STARTUP_GRACE_S:
                    print(
                        f"worker {process.pid} exited with code {process.exitcode} during "
                        "start-up; stopping",
                        file=sys.stderr,
                    )
                    code = 1
                    stopping = True
                    break
                print(
                    f"worker {process.pid} exited with code {process.exitcode}; starting another",
                    file=sys.stderr,
                )
                running[i] = start()
    finally:
        for process, _ in running:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes open requests, then exits
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for process, _ in running:
            process.join(max(0.1, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return code
