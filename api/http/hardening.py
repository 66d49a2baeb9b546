"""Hardening around every request, installed in the right order by one function.

Outermost first: security headers (so even a 413, 429 or 500 carries them), CORS (so a browser
can read a 429), the rate limit, the body-size limit, then the JSON limits. Each lives in its
own module of ``api.http``.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from api.http.access_log import install_log_filter
from api.http.body_limit import BodySizeLimitMiddleware
from api.http.json_limits import JsonLimitMiddleware
from api.http.rate_limit import RateLimitMiddleware
from api.http.security_headers import SecurityHeadersMiddleware
from api.settings import Settings

__all__ = ["install_hardening"]


def install_hardening(app: FastAPI, settings: Settings) -> None:
    """Add the middlewares (outermost last) and the log filter. The rate limiter they count
    with is the app's ``Services.limiter``, shared with route-level limits."""
    app.add_middleware(
        JsonLimitMiddleware, max_bytes=settings.max_json_bytes, max_depth=settings.max_json_depth
    )
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RateLimitMiddleware, per_minute=settings.rate_limit_per_minute)
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
    install_log_filter()
