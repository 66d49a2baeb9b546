"""The WeChat JS-SDK signature and the token/ticket cache, against a local fake of WeChat.

The fake is a real HTTP server on 127.0.0.1 answering ``/cgi-bin/token`` and
``/cgi-bin/ticket/getticket`` the way WeChat does (JSON, ``errcode`` on failure), counting
calls; a fake clock moves time forward without waiting two hours.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.pages.wechat_client import WeChatClient, WeChatError, WeChatNotConfigured, jssdk_signature
from api.settings import Settings
from stations.errors import ValidationFailed
from stations.store.sql import SqlStationStore

APP_ID = "wx1234567890abcdef"
SECRET = "s3cr3t-do-not-log"


class FakeWeChat:
    """What the fake answers; tests change ``token_error``/``ticket_error``/``delay_s``."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {"token": 0, "ticket": 0}
        self.tokens_issued = 0
        self.tickets_issued = 0
        self.valid_tokens: set[str] = set()
        self.delay_s = 0.0
        self.expires_in = 7200
        self.token_error: dict[str, Any] | None = None
        self.ticket_error: dict[str, Any] | None = None
        self.lock = threading.Lock()
        self.last_ticket = ""

    def answer(self, path: str, query: dict[str, list[str]]) -> dict[str, Any]:
        time.sleep(self.delay_s)
        with self.lock:
            if path == "/cgi-bin/token":
                self.calls["token"] += 1
                if self.token_error:
                    return self.token_error
                if query.get("appid") != [APP_ID] or query.get("secret") != [SECRET]:
                    return {"errcode": 40013, "errmsg": "invalid appid"}
                self.tokens_issued += 1
                token = f"TOKEN-{self.tokens_issued}"
                self.valid_tokens.add(token)
                return {"access_token": token, "expires_in": self.expires_in}
            if path == "/cgi-bin/ticket/getticket":
                self.calls["ticket"] += 1
                if self.ticket_error:
                    return self.ticket_error
                if query.get("access_token", [""])[0] not in self.valid_tokens:
                    return {
                        "errcode": 40001,
                        "errmsg": "invalid credential, access_token is invalid or not latest",
                    }
                if query.get("type") != ["jsapi"]:
                    return {"errcode": 40097, "errmsg": "invalid args"}
                self.tickets_issued += 1
                self.last_ticket = f"TICKET-{self.tickets_issued}"
                return {
                    "errcode": 0,
                    "errmsg": "ok",
                    "ticket": self.last_ticket,
                    "expires_in": self.expires_in,
                }
        return {"errcode": -1, "errmsg": "system error"}


@pytest.fixture
def fake_wechat() -> Iterator[tuple[FakeWeChat, str]]:
    fake = FakeWeChat()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            parts = urlsplit(self.path)
            body = json.dumps(fake.answer(parts.path, parse_qs(parts.query))).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# -- the signature ---------------------------------------------------------------------
def test_signature_matches_the_official_example() -> None:
    # WeChat JS-SDK documentation, 附录1-JS-SDK使用权限签名算法.
    ticket = (
        "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg"
    )
    sig = jssdk_signature(
        ticket, "Wm3WZYTPz0wzccnW", 1414587457, "http://mp.weixin.qq.com?params=value"
    )
    assert sig == "0f9de62fce790f9a083d5c99e95740ceb90c27ed"


def test_signature_ignores_the_fragment_only() -> None:
    base = jssdk_signature("T", "n", 1, "https://a.example/embed?lat=39.79&lon=116.5")
    assert jssdk_signature("T", "n", 1, "https://a.example/embed?lat=39.79&lon=116.5#s=3") == base
    assert jssdk_signature("T", "n", 1, "https://a.example/embed?lat=39.79&lon=116.6") != base
    plain = "jsapi_ticket=T&noncestr=n&timestamp=1&url=https://a.example/embed?lat=39.79&lon=116.5"
    assert base == hashlib.sha1(plain.encode()).hexdigest()


# -- the token and ticket cache ----------------------------------------------------------
def test_token_and_ticket_fetched_once_then_refreshed_before_expiry(
    fake_wechat: tuple[FakeWeChat, str],
) -> None:
    fake, base = fake_wechat
    clock = FakeClock()
    client = WeChatClient(APP_ID, SECRET, base, clock=clock, refresh_margin_s=300)
    for _ in range(20):
        assert client.jsapi_ticket() == "TICKET-1"
    assert fake.calls == {"token": 1, "ticket": 1}

    clock.now += 7200 - 300 - 1  # one second before the refresh point: still cached
    assert client.jsapi_ticket() == "TICKET-1"
    assert fake.calls == {"token": 1, "ticket": 1}

    clock.now += 2  # inside the last five minutes: both refreshed before they expire
    assert client.jsapi_ticket() == "TICKET-2"
    assert client.access_token() == "TOKEN-2"
    assert fake.calls == {"token": 2, "ticket": 2}
    assert client.fetch_counts == {"access_token": 2, "jsapi_ticket": 2}


def test_concurrent_requests_share_one_fetch(fake_wechat: tuple[FakeWeChat, str]) -> None:
    fake, base = fake_wechat
    fake.delay_s = 0.2  # slow WeChat: every thread arrives while the first fetch is in flight
    client = WeChatClient(APP_ID, SECRET, base)
    results: list[str] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        results.append(client.jssdk_config("https://a.example/embed")["signature"])

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert len(results) == 8
    assert fake.calls == {"token": 1, "ticket": 1}


def test_errcode_is_a_clear_error_and_the_secret_stays_out(
    fake_wechat: tuple[FakeWeChat, str],
) -> None:
    fake, base = fake_wechat
    fake.token_error = {"errcode": 40164, "errmsg": "invalid ip 1.2.3.4, not in whitelist"}
    client = WeChatClient(APP_ID, SECRET, base)
    with pytest.raises(WeChatError) as info:
        client.jsapi_ticket()
    assert "40164" in str(info.value) and "whitelist" in str(info.value)
    assert SECRET not in str(info.value)
    assert info.value.status == 502

    wrong = WeChatClient(APP_ID, "wrong-secret", base)
    fake.token_error = None
    with pytest.raises(WeChatError, match="40013"):
        wrong.access_token()


def test_unreachable_wechat_is_a_clear_error() -> None:
    client = WeChatClient(APP_ID, SECRET, "http://127.0.0.1:9")  # discard port: refused
    with pytest.raises(WeChatError, match="could not be reached") as info:
        client.access_token()
    assert SECRET not in str(info.value)


def test_stale_token_is_replaced_once(fake_wechat: tuple[FakeWeChat, str]) -> None:
    fake, base = fake_wechat
    clock = FakeClock()
    client = WeChatClient(APP_ID, SECRET, base, clock=clock)
    assert client.access_token() == "TOKEN-1"
    fake.valid_tokens.clear()  # another replica fetched a token: ours stopped working
    assert client.jsapi_ticket() == "TICKET-1"
    assert client.access_token() == "TOKEN-2"
    assert fake.calls == {"token": 2, "ticket": 2}


def test_failed_refresh_serves_the_old_ticket_until_it_expires(
    fake_wechat: tuple[FakeWeChat, str],
) -> None:
    fake, base = fake_wechat
    clock = FakeClock()
    client = WeChatClient(APP_ID, SECRET, base, clock=clock, refresh_margin_s=300)
    assert client.jsapi_ticket() == "TICKET-1"
    fake.ticket_error = {"errcode": 45009, "errmsg": "reach max api daily quota limit"}
    clock.now += 7200 - 100  # due for refresh, not yet expired
    assert client.jsapi_ticket() == "TICKET-1"
    clock.now += 200  # now really expired
    with pytest.raises(WeChatError, match="45009"):
        client.jsapi_ticket()


def test_config_rejects_a_url_that_is_not_a_page(fake_wechat: tuple[FakeWeChat, str]) -> None:
    _, base = fake_wechat
    client = WeChatClient(APP_ID, SECRET, base)
    for bad in ("/embed", "javascript:alert(1)", "ftp://a.example/x", "https://" + "a" * 3000):
        with pytest.raises(ValidationFailed, match="url"):
            client.jssdk_config(bad)


def test_client_needs_credentials() -> None:
    with pytest.raises(WeChatNotConfigured):
        WeChatClient("", SECRET)


# -- the HTTP endpoint -------------------------------------------------------------------
@pytest.fixture
def empty_store(store_url: str) -> Iterator[SqlStationStore]:
    store = SqlStationStore(store_url)
    try:
        yield store
    finally:
        store.close()


def test_endpoint_signs_the_page_url(
    fake_wechat: tuple[FakeWeChat, str], empty_store: SqlStationStore
) -> None:
    fake, base = fake_wechat
    settings = Settings(wechat_app_id=APP_ID, wechat_app_secret=SECRET, wechat_api_base=base)
    page = "https://stations.example/embed?lat=39.79&lon=116.5&amenity=hot_water"
    with TestClient(create_app(settings, store=empty_store)) as client:
        r = client.get("/api/v1/wechat/jssdk-config", params={"url": page + "#list"})
        r2 = client.get("/api/v1/wechat/jssdk-config", params={"url": page})
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    body = r.json()
    assert set(body) == {"appId", "timestamp", "nonceStr", "signature", "jsApiList"}
    assert body["appId"] == APP_ID and isinstance(body["timestamp"], int)
    assert abs(body["timestamp"] - time.time()) < 60
    assert body["jsApiList"] == ["getLocation", "openLocation"]
    assert body["signature"] == jssdk_signature(
        fake.last_ticket, body["nonceStr"], body["timestamp"], page
    )
    assert r2.json()["nonceStr"] != body["nonceStr"]
    assert fake.calls == {"token": 1, "ticket": 1}  # the app keeps one client


def test_endpoint_problems(
    fake_wechat: tuple[FakeWeChat, str], empty_store: SqlStationStore
) -> None:
    fake, base = fake_wechat
    with TestClient(create_app(Settings(), store=empty_store)) as client:
        r = client.get("/api/v1/wechat/jssdk-config", params={"url": "https://a.example/embed"})
    assert r.status_code == 503
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["title"] == "WeChat JS-SDK not configured"

    settings = Settings(wechat_app_id=APP_ID, wechat_app_secret=SECRET, wechat_api_base=base)
    fake.token_error = {"errcode": 40164, "errmsg": "invalid ip"}
    with TestClient(create_app(settings, store=empty_store)) as client:
        bad_url = client.get("/api/v1/wechat/jssdk-config", params={"url": "/embed"})
        upstream = client.get(
            "/api/v1/wechat/jssdk-config", params={"url": "https://a.example/embed"}
        )
    assert bad_url.status_code == 422 and bad_url.json()["errors"][0]["field"] == "url"
    assert upstream.status_code == 502
    assert upstream.json()["title"] == "WeChat API error"
    assert SECRET not in upstream.text
