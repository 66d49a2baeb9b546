"""Browser fixtures: a live server on 127.0.0.1 and Debian's Chromium driven by Playwright.

Every request to a host other than the live server is blocked and recorded, so a test can
prove a page works with the outside world unreachable (as from mainland China without the
CDNs) and asks for nothing but map tiles.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import require

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("STATIONS_TEST_ARTIFACTS", "test-artifacts"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    app: Any
    server: Any


def start_server(app: Any) -> tuple[LiveServer, Callable[[], None]]:
    """Run ``app`` under uvicorn in a thread; returns the server and a stop function."""
    import uvicorn

    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("live server did not start")
        time.sleep(0.05)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)

    return LiveServer(f"http://127.0.0.1:{port}", app, server), stop


@contextmanager
def serving(app: Any, store: Any) -> Iterator[LiveServer]:
    """``app`` served for the block (a fixture's ``yield``); then the server stops and
    ``store`` is closed, whatever the test did."""
    live, stop = start_server(app)
    try:
        yield live
    finally:
        stop()
        store.close()


@pytest.fixture
def map_store(new_store_url: Callable[[], str]) -> Iterator[Callable[..., Any]]:
    """``map_store(specs=None)`` → a fresh store holding ``specs`` (default
    ``map_builders.STATIONS``) on this test's engine; closed after the test."""
    from tests.maps.map_builders import make_store

    stores: list[Any] = []

    def make(specs: list[dict[str, Any]] | None = None) -> Any:
        stores.append(make_store(new_store_url(), specs))
        return stores[-1]

    yield make
    for store in stores:
        store.close()


@pytest.fixture
def map_catalog(map_store: Callable[..., Any]) -> Callable[..., Any]:
    """``map_catalog(specs=None)`` → a ``StationCatalog`` over ``map_store(specs)``."""
    from stations.search import StationCatalog

    return lambda specs=None: StationCatalog(map_store(specs))


@pytest.fixture(scope="session")
def demo_server() -> Iterator[LiveServer]:
    """The app on the demo data set, shared by the browser tests of a session."""
    from api.app import create_app
    from api.settings import Settings

    live, stop = start_server(create_app(Settings(), demo=True))
    try:
        yield live
    finally:
        stop()


@dataclass
class BlockedRequests:
    """Requests the page tried to send to other hosts (all were aborted)."""

    urls: list[str] = field(default_factory=list)

    def non_tile(self) -> list[str]:
        return [u for u in self.urls if not _is_tile(u)]


def _is_tile(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return any(
        h in host
        for h in (
            "tile.openstreetmap.org",
            "autonavi.com",
            "tianditu.gov.cn",
            "is.autonavi.com",
            "webrd0",
            "wprd0",
        )
    )


def script_page(asset: str, name: str) -> Any:
    """A module fixture called ``name``: a blank page with nothing but the served script
    ``asset`` (``app/common/crs.js``…) in it, for checking a script's functions against
    their Python twins; no page error allowed."""

    @pytest.fixture(scope="module", name=name)
    def page_with_script(browser: Any) -> Iterator[Any]:
        from maps.assets import find_asset

        found = find_asset(asset)
        assert found is not None, asset
        context = browser.new_context()
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.set_content("<!doctype html><html><head></head><body></body></html>")
        page.add_script_tag(content=found.read_bytes().decode("utf-8"))
        try:
            yield page
        finally:
            context.close()
        assert errors == []

    return page_with_script


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    require(os.path.exists(CHROMIUM), "Debian chromium (/usr/bin/chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is a test dependency
        require(False, "playwright (pip install playwright)")
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            yield b
        finally:
            b.close()


PAGE_TIMEOUT_MS = 60_000


@dataclass
class PageKit:
    page: Any
    blocked: BlockedRequests
    console_errors: list[str]

    def settle(self) -> None:
        """Wait until the page has loaded and drawn two more animation frames. Used before
        asserting that something did NOT happen (a script that must not run, a marker that
        must not appear), where there is no element to wait for. Not "network idle": map
        pages keep asking for (blocked) tiles, so the network may never go quiet."""
        self.page.wait_for_function("() => document.readyState === 'complete'")
        self.page.evaluate(
            "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
        )

    def click_marker(self, name: str, state: str = "ws-ready") -> Any:
        """On the station map: zoom to the station named ``name``, click its marker like a
        user, and return its popup once that shows ``state`` (``ws-ready``, ``ws-error``…).

        At zoom 18 the station is out of its cluster, but the cluster layer animates the split
        (about 0.3 s, longer on a busy machine): the click waits until the layer is idle and
        the marker is drawn. A click the marker never received (the pointer landed while the
        map moved under it) is made again; a click it received that opens no popup fails at
        once. A popup still open is closed first, so the one returned is this station's."""
        self.close_popup()
        find = "WarmMap.current.entries.find(x => x.name === name)"
        self.page.evaluate(
            f"""name => {{
            const e = {find};
            e.clicks = e.clicks || 0;
            if (!e.counted) {{
                e.counted = true;
                e.marker.on('click', () => {{ e.clicks += 1; }});
            }}
            WarmMap.map.setView(e.marker.getLatLng(), 18, {{animate: false}});
        }}""",
            name,
        )
        idle = f"""name => {{
            const e = {find};
            return !WarmMap.current.layer._inZoomAnimation && !!e.marker._icon
                && document.contains(e.marker._icon);
        }}"""
        clicks = f"name => {find}.clicks"
        for _ in range(3):
            self.page.wait_for_function(idle, arg=name)
            before = self.page.evaluate(clicks, name)
            self.page.get_by_title(name, exact=True).click()
            self.settle()
            if self.page.evaluate(clicks, name) > before:
                break
        else:
            raise AssertionError(f"three clicks never reached the marker of {name}")
        assert self.page.locator(".leaflet-popup .ws-popup").count() == 1, (
            "the marker was clicked but no popup opened"
        )
        filled = self.page.locator(f".leaflet-popup .ws-popup.{state}")
        filled.wait_for()
        return filled

    def close_popup(self) -> None:
        """Close the map's popup and wait until Leaflet has taken it out of the page."""
        self.page.evaluate("WarmMap.map.closePopup()")
        self.page.locator(".leaflet-popup").wait_for(state="detached")

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=False)
        return path


@pytest.fixture
def open_page(browser: Any) -> Iterator[Callable[..., PageKit]]:
    """``open_page(url, mobile=False, geolocation=None)`` → a page with other hosts blocked."""
    contexts: list[Any] = []

    def _open(
        url: str,
        *,
        mobile: bool = False,
        geolocation: dict[str, float] | None = None,
        user_agent: str | None = None,
        wait: str = "load",
    ) -> PageKit:
        options: dict[str, Any] = {
            "viewport": {"width": 360, "height": 640} if mobile else {"width": 1280, "height": 800}
        }
        if mobile:
            options.update(is_mobile=True, has_touch=True, device_scale_factor=2)
        if geolocation is not None:
            options.update(geolocation=geolocation, permissions=["geolocation"])
        if user_agent:
            options["user_agent"] = user_agent
        context = browser.new_context(**options)
        contexts.append(context)
        own = urlsplit(url).netloc
        blocked = BlockedRequests()

        def route(r: Any) -> None:
            if urlsplit(r.request.url).netloc == own or r.request.url.startswith("data:"):
                r.continue_()
            else:
                blocked.urls.append(r.request.url)
                r.abort()

        context.route("**/*", route)
        page = context.new_page()
        # Every wait in these tests is on a condition and returns as soon as it holds; the
        # default bound is generous because a busy 2-core CI machine can be slow to draw.
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on(
            "console",
            lambda m: (
                errors.append(m.text)
                if m.type == "error" and "net::ERR_FAILED" not in m.text
                else None
            ),
        )
        page.goto(url, wait_until=wait)
        return PageKit(page, blocked, errors)

    yield _open
    for c in contexts:
        c.close()
