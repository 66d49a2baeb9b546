"""Security headers on every response: a Content-Security-Policy per kind of page, nosniff,
Referrer-Policy and (off ``/embed``) X-Frame-Options — the 500 of an unhandled error included
(:mod:`api.http.edge` sends them).
"""

from __future__ import annotations

from collections.abc import Iterable

from api.settings import Settings

__all__ = [
    "TILE_HOSTS",
    "SecurityHeaders",
    "content_security_policy",
    "docs_content_security_policy",
    "with_security_headers",
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


class SecurityHeaders:
    """The headers every response gets: CSP, nosniff, Referrer-Policy and (off ``/embed``)
    X-Frame-Options — built once per kind of page. :mod:`api.http.edge` adds those a response
    does not set itself, 413, 429 and 500 answers included."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._cache: dict[bool | str, list[tuple[bytes, bytes]]] = {}

    def for_path(self, path: str) -> list[tuple[bytes, bytes]]:
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


def with_security_headers(
    headers: Iterable[tuple[bytes, bytes]], extra: list[tuple[bytes, bytes]]
) -> list[tuple[bytes, bytes]]:
    """A copy of a response's ``headers`` plus those of ``extra`` it does not set itself."""
    out = list(headers)
    present = {name.lower() for name, _ in out}
    out.extend(h for h in extra if h[0] not in present)
    return out
