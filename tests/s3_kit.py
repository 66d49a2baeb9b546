"""A real S3-compatible server for the photo store's tests: moto's server mode, over HTTP.

moto is a PyPI package (``moto[server]``, in the test extra and the lock), so the README's
test command installs it and CI needs no other service or binary. It runs here in a
subprocess of its own on 127.0.0.1, on a port the operating system picks (the child prints
it), so the app under test and the object store talk only over HTTP, as two hosts and a
bucket do in production. The child exits when its stdin closes, so a killed test run
leaves no server behind.

Without moto the S3 tests skip on a laptop and fail in CI (``STATIONS_REQUIRE_ALL=1``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

__all__ = ["S3Server", "s3_server"]

#: Run in the child: start moto on a free port, say which, serve until stdin closes.
_CHILD = """
import sys
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()
server.stop()
"""

#: moto accepts any credentials; real ones are never needed (nor read) by these tests.
ACCESS_KEY = "test-access-key"
SECRET_KEY = "test-secret-key"
REGION = "us-east-1"


@dataclass(frozen=True)
class S3Server:
    """Where the test object store listens, and a way to make a fresh bucket on it."""

    endpoint: str

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )

    def new_bucket(self) -> str:
        """A new, empty bucket (each test gets its own, so tests cannot see each other)."""
        name = "photos-" + uuid.uuid4().hex[:12]
        self.client().create_bucket(Bucket=name)
        return name

    def settings(self, bucket: str) -> dict[str, str]:
        """The app's photo settings for ``bucket`` on this server."""
        return {
            "photo_s3_bucket": bucket,
            "photo_s3_endpoint": self.endpoint,
            "photo_s3_region": REGION,
            "photo_s3_access_key": ACCESS_KEY,
            "photo_s3_secret_key": SECRET_KEY,
        }


def _moto_installed() -> bool:
    try:
        import boto3  # noqa: F401
        import moto.server  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """moto's S3 server in a subprocess on 127.0.0.1 and a random port, for the session."""
    from tests.conftest import require  # here: the conftest re-exports this fixture

    require(_moto_installed(), "moto[server] and boto3 (the S3-compatible test server)")
    log = tmp_path_factory.mktemp("s3") / "moto.log"  # its request log, for a failure
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with log.open("w") as err:
        child = subprocess.Popen(
            [sys.executable, "-c", _CHILD],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=env,
        )
    assert child.stdout is not None and child.stdin is not None
    port = child.stdout.readline().strip()  # blocks until the server listens (or exits)
    if not port.isdigit():
        child.kill()
        child.wait()
        pytest.fail(f"the S3 test server did not start: {log.read_text()[-2000:]}")
    try:
        yield S3Server(f"http://127.0.0.1:{port}")
    finally:
        child.stdin.close()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
