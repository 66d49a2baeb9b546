"""The station map and the embed page of a network too large to inline, in Debian's Chromium.

The servers here inline nothing (``map_inline_max=0``, ``embed_inline_max=0``), so the pages
must draw every station from the vector tiles: markers sit where the station is (GCJ-02 on
AMap, WGS-84 on OSM), clusters at low zooms count every station once, a click opens the same
popup (or card) as the inlined pages, the chips become the tiles' filter, and nothing but
map tiles is asked of other hosts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.settings import Settings
from geodata.crs import from_wgs84
from geodata.distance import geodesic_m
from stations.navigation import navigation_links
from tests.maps.conftest import LiveServer, PageKit, start_server
from tests.maps.map_builders import STATIONS, XSS, make_store

pytestmark = pytest.mark.browser

OpenPage = Callable[..., PageKit]
XSS_STATION = {**STATIONS[0], **XSS, "lon": 116.4990, "lat": 39.8020}
TILED = {"map_inline_max": 0, "embed_inline_max": 0}


def _serve(folder: Path, basemap: str) -> Iterator[LiveServer]:
    store = make_store("sqlite:///" + str(folder / "s.db"), [*STATIONS, XSS_STATION])
    live, stop = start_server(create_app(Settings(basemap=basemap, **TILED), store=store))
    try:
        yield live
    finally:
        stop()
        store.close()


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, LiveServer]]:
    """One tiled server configured for OSM, one for AMap (the embed page's basemap)."""
    osm = _serve(tmp_path_factory.mktemp("osm"), "osm")
    amap = _serve(tmp_path_factory.mktemp("amap"), "amap")
    try:
        yield {"osm": next(osm), "amap": next(amap)}
    finally:
        for gen in (osm, amap):
            next(gen, None)


def _idle(kit: PageKit) -> None:
    """Every tile of the view fetched and drawn."""
    kit.page.wait_for_function("() => window.__warmTiles && window.__warmTiles.idle")


def _tile_requests(kit: PageKit) -> list[str]:
    return kit.page.evaluate(
        "performance.getEntriesByType('resource').map(e => e.name)"
        ".filter(u => u.includes('/api/v1/tiles/stations/'))"
    )


def _page_position(basemap: str, s: dict[str, Any]) -> list[float]:
    if basemap == "amap":
        return [float(v) for v in from_wgs84(s["lon"], s["lat"], "gcj02")]
    return [s["lon"], s["lat"]]


def _map_marker(kit: PageKit, name: str) -> list[float] | None:
    """[lng, lat] of the station marker titled ``name`` on the station map."""
    return kit.page.evaluate(
        """name => { let out = null;
        WarmMap.map.eachLayer(l => { if (l.wsEntry && l.wsEntry.name === name) {
            const ll = l.getLatLng(); out = [ll.lng, ll.lat]; } });
        return out; }""",
        name,
    )


def _clean(kit: PageKit) -> None:
    assert kit.blocked.non_tile() == [], kit.blocked.non_tile()
    assert kit.console_errors == [], kit.console_errors


@pytest.mark.parametrize("basemap", ["osm", "amap"])
def test_station_map_draws_from_tiles_with_the_same_popups(
    servers: dict[str, LiveServer], open_page: OpenPage, basemap: str
) -> None:
    live = servers["osm"]
    html = httpx.get(live.url + f"/maps/stations?basemap={basemap}", timeout=120).text
    assert "ws-stations" not in html and STATIONS[1]["name"] not in html  # no station inlined
    kit = open_page(live.url + f"/maps/stations?basemap={basemap}")
    _idle(kit)
    kit.page.wait_for_selector(".leaflet-marker-icon")
    tiles = _tile_requests(kit)
    assert tiles and all(f"crs={'gcj02' if basemap == 'amap' else 'wgs84'}" in u for u in tiles)
    # Every station counted once in the view's clusters and markers.
    kit.page.evaluate("WarmMap.map.setView([39.79, 116.51], 6, {animate: false})")
    kit.page.wait_for_function("() => WarmMap.current.shown === 5")
    assert kit.page.locator(".marker-cluster").count() >= 1
    for s in STATIONS:
        want = _page_position(basemap, s)
        kit.page.evaluate("ll => WarmMap.map.setView([ll[1], ll[0]], 18, {animate: false})", want)
        kit.page.get_by_title(s["name"], exact=True).wait_for()
        got = _map_marker(kit, s["name"])
        assert got == pytest.approx(want, abs=1e-6)  # a tile unit is ~3e-7° at zoom 18
        moved = geodesic_m(s["lon"], s["lat"], *got)
        assert (100 < moved < 700) if basemap == "amap" else moved < 0.1
    # The popup: the same as the inlined page's (details from the API, at the page's instant).
    s = STATIONS[0]
    kit.page.evaluate(
        "ll => WarmMap.map.setView([ll[1], ll[0]], 18, {animate: false})",
        _page_position(basemap, s),
    )
    kit.page.get_by_title(s["name"], exact=True).click()
    popup = kit.page.locator(".leaflet-popup .ws-popup.ws-ready")
    popup.wait_for()
    sid = int(popup.get_attribute("data-station-id"))
    at = kit.page.evaluate("WarmMap.readJSON('ws-config').details.at")
    p = httpx.get(f"{live.url}/api/v1/stations/{sid}", params={"at": at}).json()["properties"]
    assert p["name"] == s["name"]
    assert popup.locator(".ws-title").text_content() == s["name"]
    assert popup.locator(".ws-badge").text_content() == "开放中"  # 24/7
    assert popup.locator(".ws-hours .ws-val").text_content() == "24小时开放"
    assert popup.locator(".ws-address .ws-val").text_content() == p["address"]
    want = navigation_links(s["lon"], s["lat"], s["name"], p["address"])
    for app in ("amap", "baidu", "tencent"):  # each app in its own CRS, whatever the page's
        assert popup.locator(f"a.ws-nav-{app}").get_attribute("href") == want[app]
    # A paused station is drawn as paused, from the tile's status.
    paused = kit.page.evaluate(
        """() => { let out = null; WarmMap.map.eachLayer(l => {
            if (l.wsEntry && l.wsEntry.name === '博兴路工会驿站') out = l.wsEntry.state; });
            return out; }"""
    )
    assert paused in (None, "paused")
    kit.screenshot(f"maps-stations-tiled-{basemap}")
    assert kit.page.evaluate("window.__xss") is None
    _clean(kit)


def test_station_map_chips_filter_the_tiles(
    servers: dict[str, LiveServer], open_page: OpenPage
) -> None:
    live = servers["osm"]
    kit = open_page(live.url + "/maps/stations")
    _idle(kit)
    kit.page.evaluate("WarmMap.map.setView([39.79, 116.51], 6, {animate: false})")
    kit.page.wait_for_function("() => WarmMap.current.shown === 5")
    kit.page.locator(".ws-chip", has_text="卫生间").click()
    # Only the two stations with a toilet (荣华中路 and the one with hostile text).
    kit.page.wait_for_function("() => WarmMap.current.shown === 2")
    assert any("amenity=toilet" in u for u in _tile_requests(kit))
    assert "amenity=toilet" in kit.page.url  # the link keeps the filter
    kit.page.locator(".ws-chip", has_text="开放中").click()
    kit.page.wait_for_function("() => WarmMap.current.shown === 2")  # both are 24/7
    kit.page.locator(".ws-chip", has_text="卫生间").click()
    kit.page.wait_for_function("() => WarmMap.current.shown === 3")  # not paused, not unknown
    _clean(kit)


@pytest.mark.parametrize("basemap", ["osm", "amap"])
def test_embed_draws_from_tiles_and_the_card_opens(
    servers: dict[str, LiveServer], open_page: OpenPage, basemap: str
) -> None:
    live = servers[basemap]
    kit = open_page(live.url + "/embed")
    kit.page.wait_for_selector("html[data-list='center']", state="attached")
    _idle(kit)
    assert _tile_requests(kit) and all("status=open" in u for u in _tile_requests(kit))
    s = STATIONS[1]
    station = httpx.get(live.url + "/api/v1/stations", params={"q": s["name"]}).json()
    sid = station["features"][0]["id"]
    want = _page_position(basemap, s)
    kit.page.evaluate("ll => WarmEmbed.map.setView([ll[1], ll[0]], 17, {animate: false})", want)
    kit.page.wait_for_selector(f"path.sid-{sid}")
    got = kit.page.evaluate(
        """id => { let out = null; WarmEmbed.map.eachLayer(l => {
            if (l.point && l.point[0] === id) { const ll = l.getLatLng(); out = [ll.lng, ll.lat]; }
        }); return out; }""",
        sid,
    )
    assert got == pytest.approx(want, abs=2e-6)
    kit.page.locator(f"path.sid-{sid}").click(force=True)
    kit.page.wait_for_function(
        """name => { const n = document.querySelector('#card .name');
        return n && n.textContent === name && document.querySelector('#card').textContent
            .includes('地址'); }""",
        arg=s["name"],
    )
    # The paused station is not in service: never drawn on the embed page.
    paused = httpx.get(live.url + "/api/v1/stations", params={"q": STATIONS[2]["name"]}).json()
    assert kit.page.locator(f"path.sid-{paused['features'][0]['id']}").count() == 0
    kit.screenshot(f"embed-tiled-{basemap}")
    _clean(kit)
