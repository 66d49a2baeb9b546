"""The real service in its own process, for tests that kill it (``kill -9``) mid-stream."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import httpx

__all__ = ["is_up", "serve", "wait_for"]


def serve(url: str, port: int, **env: str) -> subprocess.Popen[bytes]:
    """``stations serve`` on ``port`` over ``url``, in a new process group (for killpg)."""
    return subprocess.Popen(
        [sys.executable, "-c", "from cli import main; main()", "serve", "--port", str(port)],
        env=dict(os.environ, STATIONS_DATABASE_URL=url, **env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def wait_for(condition: Callable[[], bool], timeout_s: float = 90) -> None:
    """Poll ``condition`` until it holds; fail the test after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def is_up(base: str) -> bool:
    """Whether the service at ``base`` answers ``/livez``."""
    try:
        return httpx.get(base + "/livez", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def kill_mid_burst(
    proc: subprocess.Popen[bytes],
    base: str,
    fire: Callable[[int, threading.Event], None],
    until: Callable[[], bool],
    writers: int = 8,
) -> None:
    """Run ``fire(writer, stop)`` on ``writers`` threads once the service answers, kill -9 its
    process group as soon as ``until()`` holds (no shutdown, nothing flushed), then stop and
    join the writers."""
    stop = threading.Event()
    threads = [threading.Thread(target=fire, args=(w, stop)) for w in range(writers)]
    try:
        wait_for(lambda: is_up(base))
        for t in threads:
            t.start()
        wait_for(until)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        stop.set()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        for t in threads:
            t.join(10)
