"""The edge: everything done around every request, in one plain ASGI middleware.

Before it, each concern was its own middleware and wrapped ``send`` (and often ``receive``)
again: with Starlette's own, a check-in's answer went through a dozen ``send`` functions, a
quarter of the event loop's time. Here one ``send`` wrapper adds the security headers and the
CORS headers, notes the status for the metrics and the access log; ``receive`` is wrapped
only when a body has to be counted or checked. Each concern's logic stays in its own module:

* security headers — :mod:`api.http.security_headers`
* CORS — Starlette's ``CORSMiddleware`` (its preflight answer and its header rules)
* the public rate limit — :mod:`api.http.rate_limit`
* the body-size limit — :mod:`api.http.body_limit`
* JSON size and depth limits — :mod:`api.http.json_limits`
* where riders search from — :mod:`api.http.search_demand`
* request metrics — :mod:`api.http.metrics`
* the access log — :mod:`api.http.access_log`

The order is the one the separate middlewares had (outermost first): security headers, so
even a 413, 429 or 500 carries them; CORS, so a browser can read a 429 (a preflight is
answered before the rate limit counts it); the rate limit; the body-size limit; the JSON
limits; then search demand and metrics, which see only requests that reached the routes.
The access log has a line for every answered request, refusals included.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import problem
from api.http.access_log import AccessLog
from api.http.body_limit import PayloadTooLarge, counted, declared_too_large, too_large
from api.http.direct import DirectRoutes
from api.http.json_limits import is_json, json_too_large, too_deep
from api.http.metrics import Metrics
from api.http.rate_limit import PublicLimit, too_many
from api.http.search_demand import PATH as SEARCH_PATH
from api.http.search_demand import SearchDemand
from api.http.security_headers import SecurityHeaders, with_security_headers
from api.settings import Settings

__all__ = ["EdgeMiddleware"]

#: Methods whose requests the JSON limits leave alone (no body expected).
_BODILESS = frozenset(("GET", "HEAD", "OPTIONS"))


def _cors(settings: Settings) -> CORSMiddleware | None:
    """Starlette's CORS rules for ``settings.cors_origins`` (None: same origin only). Only its
    methods are used; the edge calls them."""
    if not settings.cors_origins:
        return None
    return CORSMiddleware(
        None,  # type: ignore[arg-type]  # never called as a middleware
        allow_origins=settings.cors_origins,
        allow_credentials=False,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["Authorization", "Content-Type", "If-Match", "X-CSRF-Token"],
        expose_headers=["ETag", "Location", "Retry-After"],
        max_age=600,
    )


class EdgeMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings, direct: Sequence[Any] = ()) -> None:
        """``direct``: routes whose requests skip FastAPI's own layers (see
        :mod:`api.http.direct`); everything the edge does still applies to them."""
        self.app = app
        self.direct = DirectRoutes(direct, EdgeMiddleware) if direct else None
        self.security = SecurityHeaders(settings)
        self.cors = _cors(settings)
        self.limit = PublicLimit(settings.rate_limit_per_minute)
        self.max_body = settings.max_body_bytes
        self.max_json = settings.max_json_bytes
        self.max_depth = settings.max_json_depth
        self.demand = SearchDemand(tz=settings.timezone) if settings.search_demand else None
        self.access = AccessLog() if settings.access_log else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan" and self.demand is not None:
                receive = self.demand.on_lifespan(receive)
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        method: str = scope["method"]
        path: str = scope["path"]
        extra = self.security.for_path(path)
        cors = self.cors
        request_headers = Headers(scope=scope) if cors is not None else None
        status = 0  # of the answer sent, once it starts

        async def edge_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {
                    **message,
                    "headers": with_security_headers(message.get("headers", ()), extra),
                }
                if cors is not None:  # adds its headers, then sends
                    await cors.send(message, send, request_headers)  # type: ignore[arg-type]
                    return
            await send(message)

        try:
            answer: Any = None
            if (
                request_headers is not None  # CORS is on: a preflight is its to answer
                and method == "OPTIONS"
                and "origin" in request_headers
                and "access-control-request-method" in request_headers
            ):
                answer = cors.preflight_response(request_headers=request_headers)  # type: ignore[union-attr]
            elif self.limit.applies(method, path):
                wait = self.limit.wait_local(scope)
                if wait is None:  # counted in Redis
                    wait = await self.limit.wait(scope)
                if wait > 0:
                    answer = too_many(wait)
            if answer is not None:
                await answer(scope, receive, edge_send)
                return
            length: bytes | None = None
            content_type: bytes | None = None
            for name, value in scope["headers"]:
                if name == b"content-length":
                    length = value
                elif name == b"content-type" and content_type is None:
                    content_type = value
            if length is not None:
                answer = declared_too_large(length, self.max_body)
                if answer is not None:
                    await answer(scope, receive, edge_send)
                    return
            inner = receive
            if method not in _BODILESS and is_json(content_type):
                body = await self._json_body(scope, receive, edge_send)
                if body is None:  # refused, or the client left
                    return
                inner = _replay(body, receive)
            elif length is None and method not in _BODILESS:
                inner = counted(receive, self.max_body)  # a streamed body: count it
            if self.demand is not None and path == SEARCH_PATH:
                self.demand.count(scope)
            app = self.app
            if self.direct is not None:
                app = self.direct.match(scope) or app
            try:
                await app(scope, inner, edge_send)
            finally:
                metrics: Metrics = scope["app"].state.services.metrics
                metrics.observe(
                    method, scope.get("route"), status or 500, time.perf_counter() - started
                )
        except PayloadTooLarge:  # a streamed body read outside the routes (e.g. a form)
            if status:
                raise
            await too_large(self.max_body)(scope, receive, edge_send)
        except Exception:
            # Starlette's outermost error middleware would answer without our headers; answer
            # here (same bare problem as api.errors) and re-raise so it still logs the error.
            if not status:
                await problem(
                    500, "Internal server error", "an unexpected error occurred; it was logged"
                )(scope, receive, edge_send)
            raise
        finally:
            if status and self.access is not None:
                self.access.write(scope, status)

    async def _json_body(self, scope: Scope, receive: Receive, send: Send) -> bytes | None:
        """The whole JSON body, within the body-size and JSON limits; None when it was refused
        (the answer is sent) or the client left before sending it all."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body or size > self.max_json:
                answer = too_large(self.max_body) if size > self.max_body else None
                await (answer or json_too_large(self.max_json))(scope, receive, send)
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        answer = too_deep(body, self.max_depth)
        if answer is not None:
            await answer(scope, receive, send)
            return None
        return body


def _replay(body: bytes, receive: Receive) -> Receive:
    """``receive`` that hands the gathered ``body`` over in one message, then goes to the
    server again (a disconnect)."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
