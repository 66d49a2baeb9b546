"""Hardening around every request, installed by one function.

One middleware, :class:`api.http.edge.EdgeMiddleware`, does it all in the order separate
middlewares had, outermost first: security headers (so even a 413, 429 or 500 carries them),
CORS (so a browser can read a 429), the rate limit, the body-size limit, then the JSON limits;
then search demand and request metrics, and an access line per request. Each concern's logic
lives in its own module of ``api.http``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI

from api.http.access_log import install_log_filter
from api.http.edge import EdgeMiddleware
from api.settings import Settings

__all__ = ["install_hardening"]


def install_hardening(app: FastAPI, settings: Settings, direct: Sequence[Any] = ()) -> None:
    """Add the edge middleware (outside every other) and the log filter. The rate limiter it
    counts with is the app's ``Services.limiter``, shared with route-level limits; ``direct``
    routes it answers past FastAPI's own layers (:mod:`api.http.direct`)."""
    app.add_middleware(EdgeMiddleware, settings=settings, direct=direct)
    install_log_filter()
