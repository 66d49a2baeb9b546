"""A few hot routes answered from the edge, past FastAPI's own layers.

A rider's confirmation (a thousand a second at peak, each a few hundred microseconds of the
one worker's CPU) went through Starlette's exception middleware, FastAPI's exit-stack
middleware, the router (trying every included router in turn) and the route's own wrapper
before reaching an endpoint that needs none of them: a
:class:`~api.http.params.RequestRoute` endpoint takes the request and returns the response.
Together they cost about as much as the endpoint. The edge (:mod:`api.http.edge`) hands a
request that is exactly such a route's — its method, its path, no root path — to
:class:`DirectRoute` instead, after all of its own work (headers, limits, metrics and the
access log still apply).

What the skipped layers would have done is done here from public parts:

* the middlewares added inside the edge (the app's ``user_middleware`` after it, in the same
  order and with the same arguments) wrap the endpoint, as Starlette builds them;
* the scope gets what the router sets and the edge reads: ``endpoint``, ``path_params``
  (converted by the route's own convertors) and ``route``;
* an exception the endpoint raises is answered by the handler the app registered for it,
  looked up as Starlette's exception middleware does (an HTTP exception's status first,
  then the exception's classes in order; ``Exception`` is not among them, it is the
  outermost error middleware's); one without a handler goes up to the edge as before.

Anything else — another method, a path the route's pattern does not take, a root path —
goes the usual way. ``tests/api/http/test_direct.py`` sends the same requests both ways and
requires the same status, headers and body.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["DirectRoute", "DirectRoutes"]


class DirectRoute:
    """One route's requests, dispatched without the router (see the module docstring)."""

    def __init__(self, route: Route, inner: Sequence[Middleware], handlers: dict[Any, Any]):
        (self.method,) = route.methods or {"GET"}
        self.route = route
        self.endpoint: Callable[[Request], Any] = route.endpoint
        self._regex = route.path_regex
        self._convertors = route.param_convertors
        # As Starlette's exception middleware holds them: by status, and by class.
        self._by_status = {k: v for k, v in handlers.items() if isinstance(k, int) and k != 500}
        self._by_class = {
            k: v for k, v in handlers.items() if isinstance(k, type) and k is not Exception
        }
        app: ASGIApp = self._answer
        for m in reversed(inner):
            app = m.cls(app, *m.args, **m.kwargs)
        self.app = app

    def path_params(self, path: str) -> dict[str, Any] | None:
        """The path's parameters if the route takes ``path``, else None."""
        match = self._regex.match(path)
        if match is None:
            return None
        return {k: self._convertors[k].convert(v) for k, v in match.groupdict().items()}

    async def _answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, send)
        try:
            response = await self.endpoint(request)
        except Exception as exc:
            handler = self._handler(exc)
            if handler is None:
                raise
            if _is_async(handler):
                response = await handler(request, exc)
            else:
                response = await run_in_threadpool(handler, request, exc)
            if response is None:
                return
        await response(scope, receive, send)

    def _handler(self, exc: Exception) -> Any:
        if isinstance(exc, HTTPException):
            handler = self._by_status.get(exc.status_code)
            if handler is not None:
                return handler
        for cls in type(exc).__mro__:
            if cls in self._by_class:
                return self._by_class[cls]
        return None


def _is_async(fn: Any) -> bool:
    """As Starlette tells a coroutine handler from a plain one (run in a thread)."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    return inspect.iscoroutinefunction(fn) or (
        callable(fn) and inspect.iscoroutinefunction(fn.__call__)
    )


class DirectRoutes:
    """The edge's table of direct routes, built from the app on its first request (the
    routes, middlewares and handlers are all in place by then)."""

    def __init__(self, routes: Sequence[Any], edge: type) -> None:
        self._routes = [r for r in routes if isinstance(r, Route)]
        self._edge = edge
        self._table: dict[str, list[DirectRoute]] | None = None

    def _build(self, app: Any) -> dict[str, list[DirectRoute]]:
        middleware = list(app.user_middleware)
        at = next((i for i, m in enumerate(middleware) if m.cls is self._edge), None)
        if at is None:  # an edge not added as the app's middleware: no inner layers to rebuild
            return {}
        inner = middleware[at + 1 :]
        table: dict[str, list[DirectRoute]] = {}
        for route in self._routes:
            direct = DirectRoute(route, inner, dict(app.exception_handlers))
            table.setdefault(direct.method, []).append(direct)
        return table

    def match(self, scope: Scope) -> ASGIApp | None:
        """The direct app for this request (its scope completed as the router would), or
        None: the usual way."""
        table = self._table
        if table is None:
            table = self._table = self._build(scope["app"])
        candidates = table.get(scope["method"])
        if not candidates or scope.get("root_path"):
            return None
        path: str = scope["path"]
        for direct in candidates:
            params = direct.path_params(path)
            if params is not None:
                scope["endpoint"] = direct.endpoint
                scope["path_params"] = params
                scope["route"] = direct.route
                return direct.app
        return None
