"""``/docs`` (Swagger UI) and ``/redoc`` in Debian's Chromium with every other host blocked.

FastAPI's default pages load their UI from jsDelivr and stay blank in mainland China; these
must render the API's operations from the service's own assets, ask no other host for
anything, and run under the page's strict CSP (a violation shows as a console error).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

import pytest

from tests.maps.conftest import LiveServer, PageKit

pytestmark = pytest.mark.browser

Open = Callable[..., PageKit]
NEAREST = "/api/v1/nearest"
REDOCLY_LOGO_HOST = "cdn.redoc.ly"


def _foreign_resources(kit: PageKit) -> list[str]:
    """Resources the page loaded from anywhere but the live server (should be none)."""
    urls = kit.page.evaluate(
        "performance.getEntriesByType('resource').map(function (e) { return e.name; })"
    )
    own = urlsplit(kit.page.url).netloc
    return [u for u in urls if urlsplit(u).netloc != own and not u.startswith(("data:", "blob:"))]


def test_swagger_ui_renders_offline(demo_server: LiveServer, open_page: Open) -> None:
    kit = open_page(demo_server.url + "/docs")
    summary = kit.page.wait_for_selector(f".opblock-summary-path[data-path='{NEAREST}']")
    assert summary is not None
    # The whole API is there, not just one operation.
    paths = kit.page.eval_on_selector_all(
        ".opblock-summary-path", "els => els.map(e => e.getAttribute('data-path'))"
    )
    assert {"/api/v1/stations", NEAREST, "/api/v1/coverage"} <= set(paths)
    assert "Warm Stations" in kit.page.inner_text(".info .title")

    # Try it out: the request goes to the service itself and its answer is shown.
    summary.click()
    block = kit.page.locator(f".opblock:has(.opblock-summary-path[data-path='{NEAREST}'])")
    block.locator("button.try-out__btn").click()
    block.locator("tr[data-param-name='lat'] input").fill("39.7954")
    block.locator("tr[data-param-name='lon'] input").fill("116.5068")
    block.locator("button.execute").click()
    status = block.locator(".live-responses-table .response .response-col_status").first
    status.wait_for()
    assert status.inner_text().strip().startswith("200")
    kit.screenshot("docs-swagger-ui")

    assert kit.blocked.urls == []  # nothing asked of another host, tiles included
    assert _foreign_resources(kit) == []
    assert kit.console_errors == []  # a CSP violation would be reported here


def test_redoc_renders_offline(demo_server: LiveServer, open_page: Open) -> None:
    kit = open_page(demo_server.url + "/redoc")
    kit.page.get_by_text(NEAREST, exact=True).first.wait_for(state="attached")
    assert kit.page.locator("[data-section-id^='operation/']").count() > 10
    kit.screenshot("docs-redoc")
    # ReDoc's one outside request is its Redocly logo (an <img> on cdn.redoc.ly): the page's
    # CSP refuses it and ReDoc hides the image. Nothing else may even be tried.
    tried = kit.blocked.urls + _foreign_resources(kit)
    assert [u for u in tried if urlsplit(u).hostname != REDOCLY_LOGO_HOST] == []
    assert [e for e in kit.console_errors if REDOCLY_LOGO_HOST not in e] == []
