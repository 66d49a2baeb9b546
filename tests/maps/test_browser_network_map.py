"""The network map in Debian's Chromium: stations drawn from vector tiles, nothing from
other hosts but basemap tiles, no console errors (the CSP allows no inline script)."""

from __future__ import annotations

from collections.abc import Callable

from tests.maps.conftest import LiveServer, PageKit


def test_markers_come_from_vector_tiles(
    demo_server: LiveServer, open_page: Callable[..., PageKit]
) -> None:
    for basemap in ("osm", "amap"):
        kit = open_page(f"{demo_server.url}/maps/network?basemap={basemap}")
        kit.page.wait_for_function("() => window.__warmTiles && window.__warmTiles.drawn > 0")
        drawn = kit.page.evaluate("() => window.__warmTiles.drawn")
        assert drawn > 0
        assert kit.blocked.non_tile() == []
        assert kit.console_errors == [], kit.console_errors
