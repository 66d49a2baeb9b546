"""``/docs`` (Swagger UI) and ``/redoc``: the API documentation, every script and style
served by the service itself.

FastAPI's own pages load Swagger UI and ReDoc from cdn.jsdelivr.net, which has been
unreachable from mainland China since 2022 (and is from any offline deployment): the pages
stay blank there. Here the bundles come from the ``fastapi-offline`` package (Swagger UI 5,
which reads FastAPI's OpenAPI 3.1; ReDoc 2) through ``maps.assets``: content-hashed
``/assets/`` URLs that browsers and nginx cache for a year and the rate limit leaves alone.

There is no ``/docs/oauth2-redirect``: the API authenticates with bearer tokens and a session
cookie, never an OAuth2 flow, so Swagger UI has no use for that page.
"""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse

from api.http.security_headers import docs_content_security_policy
from maps.assets import asset_url

__all__ = ["DOCS_URL", "REDOC_URL", "router"]

DOCS_URL = "/docs"
REDOC_URL = "/redoc"

router = APIRouter(tags=["docs"], include_in_schema=False)

# A <script> element without src: FastAPI's Swagger UI page has one, which starts the UI.
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def _script_hashes(page: str) -> list[str]:
    """CSP sources for the page's inline scripts, so no other inline script may run."""
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in _INLINE_SCRIPT.findall(page)
    ]


def _root(request: Request) -> str:
    # Behind a proxy that mounts the app under a path prefix, as FastAPI's own pages do.
    return str(request.scope.get("root_path", "")).rstrip("/")


@router.get(DOCS_URL)
def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI: try every endpoint from the browser (接口文档，可在线调试)."""
    root = _root(request)
    page = get_swagger_ui_html(
        openapi_url=root + request.app.openapi_url,
        title=f"{request.app.title} · 接口文档 API docs",
        swagger_js_url=root + asset_url("apidocs/swagger-ui-bundle.js"),
        swagger_css_url=root + asset_url("apidocs/swagger-ui.css"),
        swagger_favicon_url=root + asset_url("apidocs/favicon.png"),
        oauth2_redirect_url=None,
        swagger_ui_parameters=request.app.swagger_ui_parameters,
    )
    html = bytes(page.body).decode()
    page.headers["Content-Security-Policy"] = docs_content_security_policy(_script_hashes(html))
    return page


@router.get(REDOC_URL)
def redoc(request: Request) -> HTMLResponse:
    """ReDoc: the same API definition as one long, printable reference page (接口参考)."""
    root = _root(request)
    return get_redoc_html(
        openapi_url=root + request.app.openapi_url,
        title=f"{request.app.title} · 接口参考 API reference",
        redoc_js_url=root + asset_url("apidocs/redoc.standalone.js"),
        redoc_favicon_url=root + asset_url("apidocs/favicon.png"),
        with_google_fonts=False,  # fonts.googleapis.com is blocked in mainland China too
    )
