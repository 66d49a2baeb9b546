"""The real service in its own process, for tests that kill it (``kill -9``) mid-stream."""

from __future__ import annotations

import os
import subprocess
import sys
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
