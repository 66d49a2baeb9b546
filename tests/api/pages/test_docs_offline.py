"""``/docs`` and ``/redoc`` work offline: every script and style they load is the service's own.

FastAPI's default pages pull Swagger UI and ReDoc from jsDelivr, unreachable from mainland
China; here they come from ``/assets/`` (``api.pages.docs``). The browser check, that
Swagger UI really renders with other hosts blocked, is ``tests/maps/test_browser_docs.py``.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from stations.store.sql import SqlStationStore
from tests.api.staff_kit import test_settings

PAGES = ("/docs", "/redoc")


class _Links(HTMLParser):
    """The ``<script src>`` and ``<link href>`` of a page, and its inline scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str]] = []  # (tag, url)
        self.inline: list[str] = []
        self._in_inline = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script":
            if found.get("src"):
                self.urls.append((tag, str(found["src"])))
            else:
                self._in_inline = True
                self.inline.append("")
        elif tag == "link" and found.get("href"):
            self.urls.append((tag, str(found["href"])))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_inline = False

    def handle_data(self, data: str) -> None:
        if self._in_inline:
            self.inline[-1] += data


def _parse(html: str) -> _Links:
    parser = _Links()
    parser.feed(html)
    return parser


def _directive(csp: str, name: str) -> list[str]:
    for part in csp.split(";"):
        words = part.split()
        if words and words[0] == name:
            return words[1:]
    raise AssertionError(f"no {name} in {csp}")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    path = tmp_path_factory.mktemp("docs") / "stations.db"
    store = SqlStationStore(f"sqlite:///{path}")
    try:
        with TestClient(create_app(test_settings(), store=store)) as c:
            yield c
    finally:
        store.close()


@pytest.mark.parametrize("page", PAGES)
def test_docs_page_loads_only_same_origin_assets(client: TestClient, page: str) -> None:
    r = client.get(page)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "cdn.jsdelivr.net" not in r.text and "fonts.googleapis.com" not in r.text
    links = _parse(r.text)
    scripts = [url for tag, url in links.urls if tag == "script"]
    styles = [url for tag, url in links.urls if tag == "link"]
    assert scripts, "the page should load its UI bundle"
    if page == "/docs":
        assert any(url.endswith(".css") for url in styles), "Swagger UI's stylesheet"
    for tag, url in links.urls:
        # A same-origin path: no scheme, no host, no protocol-relative //host.
        assert url.startswith("/") and not url.startswith("//"), url
        assert url.startswith("/assets/"), url  # content-hashed, cached for a year
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert "immutable" in asset.headers["cache-control"], url
        kind = asset.headers["content-type"]
        if tag == "script":
            assert kind.startswith("text/javascript"), (url, kind)
        elif url.endswith(".css"):
            assert kind.startswith("text/css"), (url, kind)
        else:  # the favicon
            assert kind.startswith("image/"), (url, kind)
    # The API definition the page reads is ours too.
    assert "/openapi.json" in r.text
    assert client.get("/openapi.json").status_code == 200


def test_docs_csp_allows_only_its_own_inline_script(client: TestClient) -> None:
    """No 'unsafe-inline' for scripts: ``/docs`` names its one bootstrap script by hash."""
    r = client.get("/docs")
    csp = r.headers["content-security-policy"]
    scripts = _directive(csp, "script-src")
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts
    inline = _parse(r.text).inline
    assert len(inline) == 1 and "SwaggerUIBundle(" in inline[0]
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()
    assert scripts == ["'self'", f"'sha256-{digest}'"]
    for page in PAGES:
        csp = client.get(page).headers["content-security-policy"]
        assert not re.search(r"https?://", csp), csp  # nothing from another host
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert _directive(client.get("/redoc").headers["content-security-policy"], "script-src") == [
        "'self'"
    ]


def test_docs_are_still_linked_and_nothing_else_is_served(client: TestClient) -> None:
    # Bearer tokens and a session cookie, no OAuth2 flow: no redirect page is needed.
    assert client.get("/docs/oauth2-redirect").status_code == 404
    links = client.get("/ogc").json()["links"]
    assert [lk["href"] for lk in links if lk["rel"] == "service-doc"] == ["http://testserver/docs"]
