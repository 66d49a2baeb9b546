"""The WeChat Official Account client behind the embed page's JS-SDK configuration.

Inside WeChat the embed page locates the rider with ``wx.getLocation`` and opens the station
in WeChat's own map with ``wx.openLocation``. Both need ``wx.config`` with a signature made
from a *jsapi_ticket*, which needs an *access token*. Both are fetched here, server-side (the
app secret never reaches a browser), and cached: WeChat grants each a 7,200 s life and a small
daily quota (2,000 token calls), so fetching per page view would exhaust it within an hour of
traffic. Each is refreshed ``refresh_margin_s`` before it expires; concurrent requests
share one in-flight fetch (one lock per credential), and a failed refresh keeps serving the
old value while it is still valid.

Several replicas each hold their own token; a replica that fetches a new one makes the
others' old token expire within minutes, which the ticket fetch notices (errcode 40001/42001)
and answers by fetching a fresh token once.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from stations.errors import FieldError, StationsError, ValidationFailed

__all__ = [
    "JS_API_LIST",
    "WeChatClient",
    "WeChatError",
    "WeChatNotConfigured",
    "jssdk_signature",
    "signing_url",
]

log = logging.getLogger("stations.wechat")

#: The JS-SDK interfaces the embed page uses.
JS_API_LIST: tuple[str, ...] = ("getLocation", "openLocation")
#: errcodes meaning "this access token is no longer valid": fetch a new one and retry once.
_STALE_TOKEN = frozenset({40001, 40014, 42001})
_NONCE_ALPHABET = string.ascii_letters + string.digits
_MAX_URL = 2048


class WeChatNotConfigured(StationsError):
    """The service has no Official Account app id/secret: the page uses the browser instead."""

    status = 503
    title = "WeChat JS-SDK not configured"


class WeChatError(StationsError):
    """WeChat answered with an error (errcode != 0) or could not be reached."""

    status = 502
    title = "WeChat API error"


def signing_url(url: str) -> str:
    """The page URL as WeChat signs it: absolute http(s), without its ``#fragment``.

    Raises
    ------
    ValidationFailed
        On anything but an absolute http(s) URL of at most 2,048 characters.
    """
    bare = url.split("#", 1)[0]
    parts = urlsplit(bare)
    if len(bare) > _MAX_URL or parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValidationFailed(
            [
                FieldError.from_catalog(
                    "url",
                    "must be the page's absolute http(s) URL (at most 2048 characters), "
                    "e.g. https://example.org/embed?lat=39.79&lon=116.5",
                    url[:200],
                )
            ]
        )
    return bare


def jssdk_signature(ticket: str, noncestr: str, timestamp: int | str, url: str) -> str:
    """The ``wx.config`` signature by WeChat's algorithm (JS-SDK docs, appendix 1).

    sha1 of ``jsapi_ticket=…&noncestr=…&timestamp=…&url=…`` — the keys in ASCII order, the
    values raw (not URL-encoded) and the URL without its ``#fragment``, which WeChat never
    sees and a page's own hash routing would otherwise change.

    Parameters
    ----------
    ticket : str
        The jsapi_ticket.
    noncestr : str
        The random string the page passes to ``wx.config`` as ``nonceStr``.
    timestamp : int or str
        Seconds since the epoch, the same value passed to ``wx.config``.
    url : str
        The full URL of the page calling ``wx.config``.

    Returns
    -------
    str
        40 lowercase hex digits.
    """
    plain = (
        f"jsapi_ticket={ticket}&noncestr={noncestr}&timestamp={timestamp}"
        f"&url={url.split('#', 1)[0]}"
    )
    return hashlib.sha1(plain.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class _Credential:
    value: str
    expires_at: float  # on the client's clock
    refresh_at: float


class _Cached:
    """One cached credential with its own lock, so only one fetch of it is in flight."""

    def __init__(
        self,
        name: str,
        fetch: Callable[[], tuple[str, float]],
        clock: Callable[[], float],
        margin_s: float,
    ) -> None:
        self.name = name
        self._fetch = fetch
        self._clock = clock
        self._margin_s = margin_s
        self._lock = threading.Lock()
        self._current: _Credential | None = None
        self.fetches = 0

    def get(self) -> str:
        current = self._current
        if current is not None and self._clock() < current.refresh_at:
            return current.value
        with self._lock:
            # Another thread may have refreshed it while this one waited for the lock.
            current = self._current
            now = self._clock()
            if current is not None and now < current.refresh_at:
                return current.value
            try:
                value, lifetime = self._fetch()
            except WeChatError:
                if current is not None and now < current.expires_at:
                    log.warning(
                        "refreshing the WeChat %s failed; using the old one until it expires",
                        self.name,
                        exc_info=True,
                    )
                    return current.value
                raise
            self.fetches += 1
            fetched_at = self._clock()
            margin = min(self._margin_s, lifetime / 2)
            self._current = _Credential(
                value, fetched_at + lifetime, fetched_at + lifetime - margin
            )
            return value

    def invalidate(self, value: str) -> None:
        with self._lock:
            if self._current is not None and self._current.value == value:
                self._current = None


class WeChatClient:
    """Access token, jsapi_ticket and ``wx.config`` parameters for one Official Account.

    Parameters
    ----------
    app_id, app_secret : str
        The Official Account's AppID and AppSecret (公众号 开发 → 基本配置).
    api_base : str
        ``https://api.weixin.qq.com``; tests point it at a local fake.
    clock : callable
        Monotonic seconds for the cache (tests pass a fake clock).
    refresh_margin_s : float
        Refresh this long before WeChat's stated expiry (default 5 minutes).
    http : httpx.Client, optional
        Shared HTTP client; one with a 5 s timeout is made otherwise.
    """

    def __init__(
        self,
        app_id: str,
        app_secret: str,
        api_base: str = "https://api.weixin.qq.com",
        *,
        clock: Callable[[], float] = time.monotonic,
        refresh_margin_s: float = 300.0,
        http: httpx.Client | None = None,
    ) -> None:
        if not app_id or not app_secret:
            raise WeChatNotConfigured(
                "set STATIONS_WECHAT_APP_ID and STATIONS_WECHAT_APP_SECRET to use the WeChat JS-SDK"
            )
        self.app_id = app_id
        self._secret = app_secret
        self._base = api_base.rstrip("/")
        self._http = http or httpx.Client(timeout=5.0)
        self._token = _Cached("access token", self._fetch_token, clock, refresh_margin_s)
        self._ticket = _Cached("jsapi_ticket", self._fetch_ticket, clock, refresh_margin_s)

    # -- WeChat calls ------------------------------------------------------------------
    def _call(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        try:
            response = self._http.get(self._base + path, params=params)
            response.raise_for_status()
            body = response.json()
        except httpx.HTTPStatusError as exc:
            # Never log the URL: the token call carries the app secret in its query.
            raise WeChatError(f"WeChat {path} answered HTTP {exc.response.status_code}") from None
        except (httpx.HTTPError, ValueError) as exc:
            raise WeChatError(
                f"WeChat {path} could not be reached or sent no JSON ({type(exc).__name__})"
            ) from None
        if not isinstance(body, dict):
            raise WeChatError(f"WeChat {path} sent an unexpected answer")
        errcode = body.get("errcode", 0)
        if errcode:
            raise WeChatError(
                f"WeChat {path} refused: errcode {errcode} ({body.get('errmsg', 'no message')})",
                errcode=errcode,
            )
        return body

    @staticmethod
    def _lifetime(body: dict[str, Any], path: str) -> float:
        try:
            lifetime = float(body.get("expires_in", 7200))
        except (TypeError, ValueError):
            raise WeChatError(f"WeChat {path} sent a non-numeric expires_in") from None
        if lifetime <= 0:
            raise WeChatError(f"WeChat {path} sent expires_in={lifetime}")
        return lifetime

    def _fetch_token(self) -> tuple[str, float]:
        path = "/cgi-bin/token"
        body = self._call(
            path, {"grant_type": "client_credential", "appid": self.app_id, "secret": self._secret}
        )
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise WeChatError(f"WeChat {path} sent no access_token")
        return token, self._lifetime(body, path)

    def _fetch_ticket(self) -> tuple[str, float]:
        path = "/cgi-bin/ticket/getticket"
        token = self._token.get()
        try:
            body = self._call(path, {"access_token": token, "type": "jsapi"})
        except WeChatError as exc:
            if exc.extra.get("errcode") not in _STALE_TOKEN:
                raise
            log.info(
                "WeChat access token no longer valid (errcode %s); fetching a new one",
                exc.extra.get("errcode"),
            )
            self._token.invalidate(token)
            body = self._call(path, {"access_token": self._token.get(), "type": "jsapi"})
        ticket = body.get("ticket")
        if not isinstance(ticket, str) or not ticket:
            raise WeChatError(f"WeChat {path} sent no ticket")
        return ticket, self._lifetime(body, path)

    # -- public ------------------------------------------------------------------------
    def access_token(self) -> str:
        """The current access token, fetched only when missing or about to expire."""
        return self._token.get()

    def jsapi_ticket(self) -> str:
        """The current jsapi_ticket, fetched only when missing or about to expire."""
        return self._ticket.get()

    @property
    def fetch_counts(self) -> dict[str, int]:
        """How often each credential was fetched (for the log and the tests)."""
        return {"access_token": self._token.fetches, "jsapi_ticket": self._ticket.fetches}

    def jssdk_config(
        self, url: str, *, nonce: str | None = None, timestamp: int | None = None
    ) -> dict[str, Any]:
        """Everything ``wx.config`` needs for the page at ``url`` (fragment ignored).

        Returns
        -------
        dict
            ``appId``, ``timestamp`` (int, seconds), ``nonceStr``, ``signature`` and
            ``jsApiList``, named as ``wx.config`` takes them.
        """
        bare = signing_url(url)
        nonce = nonce or "".join(secrets.choice(_NONCE_ALPHABET) for _ in range(16))
        timestamp = int(time.time()) if timestamp is None else timestamp
        return {
            "appId": self.app_id,
            "timestamp": timestamp,
            "nonceStr": nonce,
            "signature": jssdk_signature(self.jsapi_ticket(), nonce, timestamp, bare),
            "jsApiList": list(JS_API_LIST),
        }

    def close(self) -> None:
        self._http.close()
