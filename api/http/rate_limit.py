"""Rate limits: token buckets per client address, for the whole service and per route.

In-process by default, shared through Redis when ``STATIONS_REDIS_URL`` is set (several
replicas then count together). Behind a reverse proxy, run uvicorn with ``--proxy-headers
--forwarded-allow-ips`` so the client address is the rider's, not the proxy's; a
client-supplied X-Forwarded-For is never trusted here.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from starlette.exceptions import HTTPException
from starlette.types import Scope

from api.errors import problem

__all__ = [
    "UNLIMITED",
    "PublicLimit",
    "RateLimiter",
    "client_key",
    "rate_limited",
    "too_many",
]

log = logging.getLogger("stations.api")

#: Paths that are never rate limited: probes, metrics and content-addressed static assets.
UNLIMITED = ("/healthz", "/livez", "/readyz", "/metrics", "/assets/", "/favicon.ico")

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


def too_many(wait: float) -> Any:
    """The 429 for a client that may try again in ``wait`` seconds."""
    seconds = max(1, math.ceil(wait))
    return problem(
        429,
        "Too many requests",
        f"too many requests from this address; retry in {seconds} s",
        headers={"Retry-After": str(seconds)},
    )


class PublicLimit:
    """The public rate limit: ``per_minute`` requests per client, bursts up to a minute's
    (0 or less turns it off, e.g. behind a gateway that limits already). Applied by
    :mod:`api.http.edge`; preflights, probes, metrics and assets are not counted."""

    def __init__(self, per_minute: int) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(per_minute)

    def applies(self, method: str, path: str) -> bool:
        return self.rate > 0 and method != "OPTIONS" and not path.startswith(UNLIMITED)

    async def wait(self, scope: Scope) -> float:
        """Take a token for this client: 0 when the request may go ahead, else the seconds
        until it may."""
        limiter: RateLimiter = scope["app"].state.services.limiter
        return await limiter.take("public", client_key(scope), rate=self.rate, burst=self.burst)

    def wait_local(self, scope: Scope) -> float | None:
        """:meth:`wait` without a coroutine when the limiter counts in-process; None when
        it counts in Redis (then await :meth:`wait`)."""
        limiter: RateLimiter = scope["app"].state.services.limiter
        if limiter.redis_url is not None:
            return None
        return limiter.take_local("public", client_key(scope), self.rate, self.burst)


def rate_limited(
    bucket: str, *, per_hour: float, burst: int
) -> Callable[[Request], Awaitable[None]]:
    """A route dependency with its own, stricter bucket (rider reports, logins)."""
    rate = per_hour / 3600.0

    async def dependency(request: Request) -> None:
        limiter: RateLimiter = request.app.state.services.limiter
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
