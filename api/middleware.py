"""Hardening around every request: security headers, CORS, body-size and rate limits, and
access logs that do not keep riders' precise positions.

All middlewares here are plain ASGI (no ``BaseHTTPMiddleware``: no extra task per request, and
streaming bodies are counted as they arrive). ``install_hardening(app, settings)`` adds them in
the right order, outermost first: security headers (so even a 413, 429 or 500 carries them),
CORS (so a browser can read a 429), the rate limit, then the body-size limit.

Rate limits are token buckets per client address: in-process by default, shared through Redis
when ``STATIONS_REDIS_URL`` is set (several replicas then count together). Behind a reverse
proxy, run uvicorn with ``--proxy-headers --forwarded-allow-ips`` so the client address is the
rider's, not the proxy's; a client-supplied X-Forwarded-For is never trusted here.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from fastapi import FastAPI, Request
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import problem
from api.settings import Settings

__all__ = [
    "BodySizeLimitMiddleware",
    "RateLimitMiddleware",
    "RateLimiter",
    "RoundCoordinates",
    "SecurityHeadersMiddleware",
    "client_key",
    "content_security_policy",
    "docs_content_security_policy",
    "install_hardening",
    "rate_limited",
]

log = logging.getLogger("stations.api")

#: Map tile servers of the three basemaps (OpenStreetMap, AMap/Gaode, Tianditu).
TILE_HOSTS = (
    "https://tile.openstreetmap.org",
    "https://*.tile.openstreetmap.org",
    "https://*.autonavi.com",
    "https://*.tianditu.gov.cn",
)
#: Paths that are never rate limited: probes, metrics and content-addressed static assets.
UNLIMITED = ("/healthz", "/livez", "/readyz", "/metrics", "/assets/", "/favicon.ico")


def _is_embed(path: str) -> bool:
    return path == "/embed" or path.startswith("/embed/")


def docs_content_security_policy(script_hashes: Iterable[str] = ()) -> str:
    """The CSP of the API docs pages (``/docs``, ``/redoc``; ``api.routes.docs``).

    Swagger UI and ReDoc are served from ``/assets/`` like every other script, so nothing
    comes from another host. FastAPI's Swagger UI page starts with one inline script: the page
    names it by its SHA-256 in ``script_hashes`` (``'sha256-…'``) rather than allowing inline
    scripts. ReDoc runs its search in a ``blob:`` worker; its Redocly logo, an image on
    cdn.redoc.ly, is refused (ReDoc then hides it).
    """
    scripts = " ".join(["'self'", *script_hashes])
    return (
        f"default-src 'self'; script-src {scripts}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )


def content_security_policy(path: str, settings: Settings) -> str:
    """The CSP for a response to ``path`` (a response that sets its own keeps it).

    No inline scripts anywhere we render (``script-src 'self'``); inline *styles* stay allowed
    because Leaflet positions map panes and markers with style attributes. Only ``/embed`` may
    be framed, by ``settings.embed_frame_ancestors`` (WeChat and partner pages); everything
    else, the staff console first, by nobody. The API docs pages have their own policy
    (:func:`docs_content_security_policy`); ``/docs`` adds its inline script's hash to it.
    """
    if path.startswith(("/docs", "/redoc")):
        return docs_content_security_policy()
    embed = _is_embed(path)
    frame = (" ".join(settings.embed_frame_ancestors) if embed else "") or "'none'"
    # jweixin (WeChat's JS-SDK) is served by us too: no page loads a script from elsewhere.
    return (
        f"default-src 'self'; img-src 'self' data: {' '.join(TILE_HOSTS)}; "
        f"script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; "
        f"object-src 'none'; base-uri 'self'; form-action 'self'; "
        f"frame-ancestors {frame}"
    )


def _header_names(headers: list[tuple[bytes, bytes]]) -> set[bytes]:
    return {name.lower() for name, _ in headers}


class SecurityHeadersMiddleware:
    """Adds CSP, nosniff, Referrer-Policy (and X-Frame-Options off ``/embed``) to every
    response — including the 500 sent for an unhandled error, which it answers itself."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self._cache: dict[bool | str, list[tuple[bytes, bytes]]] = {}

    def _headers(self, path: str) -> list[tuple[bytes, bytes]]:
        key: bool | str = "docs" if path.startswith(("/docs", "/redoc")) else _is_embed(path)
        cached = self._cache.get(key)
        if cached is None:
            cached = [
                (
                    b"content-security-policy",
                    content_security_policy(path, self.settings).encode("latin-1"),
                ),
                (b"x-content-type-options", b"nosniff"),
                (b"referrer-policy", b"strict-origin-when-cross-origin"),
            ]
            if key is not True:  # X-Frame-Options cannot express an allow-list
                cached.append((b"x-frame-options", b"DENY"))
            self._cache[key] = cached
        return cached

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self._headers(scope.get("path", ""))
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                present = _header_names(headers)
                headers.extend(h for h in extra if h[0] not in present)
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            # Starlette's outermost error middleware would answer without our headers; answer
            # here (same bare problem as api.errors) and re-raise so it still logs the error.
            if not started:
                response = problem(
                    500, "Internal server error", "an unexpected error occurred; it was logged"
                )
                await response(scope, receive, send_with_headers)
            raise


# -- body size --------------------------------------------------------------------------


class PayloadTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


class BodySizeLimitMiddleware:
    """413 for bodies over ``max_bytes``: by Content-Length up front, and by counting the
    bytes of a streamed (chunked) body as they arrive — uploads included."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await problem(400, "Bad request", "Content-Length is not a number")(
                        scope, receive, send
                    )
                    return
                if declared > limit:
                    await problem(
                        413, "Payload too large", f"the request body is larger than {limit} bytes"
                    )(scope, receive, send)
                    return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # An HTTPException: the route's body parsing lets it through to the
                    # problem+json handler (FastAPI turns other errors into a 400).
                    raise PayloadTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, tracking_send)
        except PayloadTooLarge as exc:  # read outside the routes (e.g. by a middleware)
            if started:
                raise
            await problem(413, "Payload too large", str(exc.detail))(scope, receive, send)


# -- rate limits ------------------------------------------------------------------------

# One token bucket in Redis, atomically: refill by elapsed time (Redis' clock, shared by all
# replicas), take a token or say how long until one is there.
_BUCKET_LUA = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(b[1]) or burst
local ts = tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
return tostring(wait)
"""


class RateLimiter:
    """Token buckets keyed by ``(bucket, client)``; Redis-backed when ``redis_url`` is set.

    If Redis is unreachable the limiter falls back to in-process buckets (and says so in the
    log once a minute) rather than refusing every request or letting everything through.
    """

    def __init__(self, redis_url: str | None = None, *, prefix: str = "stations:rl:") -> None:
        self.redis_url = redis_url
        self.prefix = prefix
        # (bucket, client) → (tokens, last refill, rate, burst)
        self._local: dict[tuple[str, str], tuple[float, float, float, float]] = {}
        self._lock = threading.Lock()
        self._redis: Any = None
        self._script: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._warned_at = -math.inf

    def take_local(self, bucket: str, client: str, rate: float, burst: float) -> float:
        """Take a token from the in-process bucket: 0 if allowed, else seconds to wait."""
        now = time.monotonic()
        key = (bucket, client)
        with self._lock:
            tokens, last, _, _ = self._local.get(key, (burst, now, rate, burst))
            tokens = min(burst, tokens + (now - last) * rate)
            wait = 0.0
            if tokens >= 1:
                tokens -= 1
            else:
                wait = (1 - tokens) / rate
            self._local[key] = (tokens, now, rate, burst)
            if len(self._local) > 100_000:  # forget clients whose bucket has refilled
                self._local = {
                    k: v for k, v in self._local.items() if v[0] + (now - v[1]) * v[2] < v[3]
                }
        return wait

    def _client(self) -> Any:
        loop = asyncio.get_running_loop()
        if self._redis is None or self._loop is not loop:
            import redis.asyncio as aioredis

            assert self.redis_url is not None
            self._redis = aioredis.from_url(
                self.redis_url, socket_timeout=0.5, socket_connect_timeout=0.5
            )
            self._script = self._redis.register_script(_BUCKET_LUA)
            self._loop = loop
        return self._script

    async def take(self, bucket: str, client: str, *, rate: float, burst: float) -> float:
        """Take a token: 0 when the request may go ahead, else the seconds until it may.

        ``rate`` is tokens per second, ``burst`` the bucket size.
        """
        if self.redis_url is None:
            return self.take_local(bucket, client, rate, burst)
        try:
            script = self._client()
            wait = await script(keys=[f"{self.prefix}{bucket}:{client}"], args=[rate, burst])
            return float(wait)
        except Exception as exc:  # Redis down or misconfigured: degrade, do not fail
            now = time.monotonic()
            if now - self._warned_at > 60:
                self._warned_at = now
                log.warning(
                    "rate limiter: Redis unavailable (%s); counting in-process",
                    exc.__class__.__name__,
                )
            return self.take_local(bucket, client, rate, burst)

    async def aclose(self) -> None:
        if self._redis is not None:
            try:
                await self._redis.aclose()
            except Exception:  # closing on a finished loop: nothing left to release
                pass
            self._redis = None


def client_key(scope: Scope) -> str:
    """The client's address (what uvicorn's proxy-headers handling leaves in the scope)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def _too_many(wait: float) -> Any:
    seconds = max(1, math.ceil(wait))
    return problem(
        429,
        "Too many requests",
        f"too many requests from this address; retry in {seconds} s",
        headers={"Retry-After": str(seconds)},
    )


class RateLimitMiddleware:
    """The public rate limit: ``per_minute`` requests per client, bursts up to a minute's
    (0 or less turns it off, e.g. behind a gateway that limits already)."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter, per_minute: int) -> None:
        self.app = app
        self.limiter = limiter
        self.rate = per_minute / 60.0
        self.burst = float(per_minute)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or self.rate <= 0
            or scope.get("method") == "OPTIONS"
            or scope.get("path", "").startswith(UNLIMITED)
        ):
            await self.app(scope, receive, send)
            return
        if self.limiter.redis_url is None:  # counted here: no coroutine per request
            wait = self.limiter.take_local("public", client_key(scope), self.rate, self.burst)
        else:
            wait = await self.limiter.take(
                "public", client_key(scope), rate=self.rate, burst=self.burst
            )
        if wait > 0:
            await _too_many(wait)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def rate_limited(
    bucket: str, *, per_hour: float, burst: int
) -> Callable[[Request], Awaitable[None]]:
    """A route dependency with its own, stricter bucket (rider reports, logins)."""
    rate = per_hour / 3600.0

    async def dependency(request: Request) -> None:
        limiter: RateLimiter = request.app.state.limiter
        wait = await limiter.take(bucket, client_key(request.scope), rate=rate, burst=burst)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            raise HTTPException(
                429,
                f"too many {bucket} requests from this address; retry in {seconds} s",
                headers={"Retry-After": str(seconds)},
            )

    dependency.__name__ = f"rate_limit_{bucket}"
    return dependency


# -- logs -------------------------------------------------------------------------------

_COORD = re.compile(r"(?<=[?&;])(lat|lon|lng|latitude|longitude)=(-?\d+(?:\.\d+)?)", re.IGNORECASE)


def _round(match: re.Match[str]) -> str:
    return f"{match.group(1)}={float(match.group(2)):.3f}"


class RoundCoordinates(logging.Filter):
    """Rounds ``lat``/``lon`` query parameters in log lines to 3 decimals (about 100 m).

    Nearest queries carry where a rider is; access logs kept at full precision would be a
    track of each rider's day. Rounded, they still show which area asks for what.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _COORD.sub(_round, a) if isinstance(a, str) else a for a in record.args
            )
        if isinstance(record.msg, str) and "=" in record.msg:
            record.msg = _COORD.sub(_round, record.msg)
        return True


def _install_log_filter() -> None:
    for name in ("uvicorn.access", "stations.api"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RoundCoordinates) for f in logger.filters):
            logger.addFilter(RoundCoordinates())


def install_hardening(app: FastAPI, settings: Settings) -> RateLimiter:
    """Add the middlewares (outermost last) and the log filter; returns the rate limiter,
    also kept as ``app.state.limiter`` for route-level limits."""
    limiter = RateLimiter(settings.redis_url)
    app.state.limiter = limiter
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(
        RateLimitMiddleware, limiter=limiter, per_minute=settings.rate_limit_per_minute
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=False,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "If-Match", "X-CSRF-Token"],
            expose_headers=["ETag", "Location", "Retry-After"],
            max_age=600,
        )
    app.add_middleware(SecurityHeadersMiddleware, settings=settings)
    _install_log_filter()
    return limiter
