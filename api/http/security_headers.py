"""Security headers on every response: a Content-Security-Policy per kind of page, nosniff,
Referrer-Policy and (off ``/embed``) X-Frame-Options — the 500 of an unhandled error included.

Plain ASGI (no ``BaseHTTPMiddleware``: no extra task per request).
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import problem
from api.settings import Settings

__all__ = [
    "TILE_HOSTS",
    "SecurityHeadersMiddleware",
    "content_security_policy",
    "docs_content_security_policy",
]

#: Map tile servers of the three basemaps (OpenStreetMap, AMap/Gaode, Tianditu).
TILE_HOSTS = (
    "https://tile.openstreetmap.org",
    "https://*.tile.openstreetmap.org",
    "https://*.autonavi.com",
    "https://*.tianditu.gov.cn",
)


def _is_embed(path: str) -> bool:
    return path == "/embed" or path.startswith("/embed/")


def docs_content_security_policy(script_hashes: Iterable[str] = ()) -> str:
    """The CSP of the API docs pages (``/docs``, ``/redoc``; ``api.pages.docs``).

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
