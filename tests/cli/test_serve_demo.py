"""A real ``stations serve --demo``: the home page answers, and the one-time sign-in it prints
opens the demo's console (a newcomer can try the staff side, not only the riders')."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_demo_prints_a_sign_in_that_opens_its_console(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "STATIONS_DATABASE_URL": f"sqlite:///{tmp_path / 'unused.db'}"}
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "stations"), "serve", "--demo", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        printed = ""
        deadline = time.monotonic() + 120
        while "password:" not in printed and time.monotonic() < deadline:
            printed += process.stdout.readline()
        found = re.search(r"账号 user: (\S+)\s+本次密码 password: (\S+)", printed)
        assert found, printed
        user, password = found.groups()
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=10) as client:
            while True:  # until the server listens
                try:
                    home = client.get("/")
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, "the demo server did not start"
                    time.sleep(0.3)
            assert home.status_code == 200 and "暖心驿站地图" in home.text
            form = client.get("/admin/login").text
            token = re.search(r'name="login_token" value="([^"]+)"', form)
            assert token
            signed_in = client.post(
                "/admin/login",
                data={"name": user, "password": password, "login_token": token.group(1)},
                follow_redirects=True,
            )
            assert signed_in.status_code == 200 and str(signed_in.url) == base + "/admin"
            assert "开发区总工会职工服务中心暖心驿站" in signed_in.text  # the demo's stations
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()
