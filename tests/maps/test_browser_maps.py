"""The maps in a real browser (Debian's Chromium), with every other host blocked.

Shows: markers and clusters appear; a click opens the right popup (its details fetched once
from the API, or read from the offline file); the amenity filter reduces the markers; AMap
pages draw in GCJ-02 (markers and the browser's own position) and OSM pages do not, while
navigation links stay in each app's CRS; hostile station text stays text; the pages and the
offline file work with the outside world unreachable and ask it for nothing but tiles.
Screenshots of every page, desktop and 360×640, go to test-artifacts/.
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
from maps.basemaps import get_basemap
from maps.station_map import catalog_hits, station_map_html
from stations.navigation import navigation_links
from stations.search import StationCatalog
from tests.maps.conftest import LiveServer, PageKit, start_server
from tests.maps.map_builders import STATIONS, XSS, Stores, json_blocks, make_store

pytestmark = pytest.mark.browser

OpenPage = Callable[..., PageKit]
XSS_STATION = {**STATIONS[0], **XSS, "lon": 116.4990, "lat": 39.8020}


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Known stations (and one with hostile text) on a live server of our own.

    SQLite only: the tests on it draw pages and read nothing but what the store loaded, which
    ``tests/maps/test_maps_*.py`` check on both engines; a second Chromium pass would only
    repeat the drawing. (The one store-backed test here, a deletion, runs on both.)"""
    store = make_store(
        "sqlite:///" + str(tmp_path_factory.mktemp("browser") / "s.db"), [*STATIONS, XSS_STATION]
    )
    live, stop = start_server(create_app(Settings(), store=store))
    try:
        yield live
    finally:
        stop()
        store.close()


def _ready(kit: PageKit, selector: str = ".leaflet-marker-icon") -> None:
    kit.page.wait_for_selector(selector)


def _marker_latlngs(kit: PageKit) -> dict[str, list[float]]:
    return kit.page.evaluate("""() => Object.fromEntries(WarmMap.current.entries.map(
        e => [e.name, [e.marker.getLatLng().lng, e.marker.getLatLng().lat]]))""")


def _open_popup_of(kit: PageKit, name: str) -> Any:
    """Zoom to the station, click its marker like a user, return the filled popup."""
    return kit.click_marker(name, "ws-ready")


def _detail_requests(kit: PageKit) -> list[str]:
    """URLs of the station-detail requests the page sends from now on."""
    urls: list[str] = []
    kit.page.on("request", lambda r: urls.append(r.url) if "/api/v1/stations/" in r.url else None)
    return urls


def _assert_popup_shows(kit: PageKit, popup: Any, p: dict[str, Any]) -> None:
    """The popup shows the station's properties ``p`` (the API's / the offline file's)."""
    assert popup.get_attribute("data-station-id") == str(p["id"])
    assert popup.locator(".ws-title").text_content() == p["name"]
    badge = {True: "开放中", False: "休息中", None: "时间未知"}[p["open_now"]]
    assert popup.locator(".ws-badge").text_content() == badge
    assert popup.locator(".ws-address .ws-val").text_content() == p["address"]
    tags = popup.locator(".ws-tag").all_text_contents()
    labels = kit.page.evaluate("WarmMap.readJSON('ws-config').amenities")
    assert tags == [labels[c] for c in p["amenities"]]
    for app in ("amap", "baidu", "tencent"):
        assert popup.locator(f"a.ws-nav-{app}").get_attribute("href") == p["navigation"][app]
    if p["phone"]:
        assert popup.locator(".ws-phone a").get_attribute("href").startswith("tel:")


@pytest.mark.parametrize("path", ["/maps/stations", "/maps/coverage", "/maps/gaps"])
def test_pages_work_offline_ask_only_for_tiles_and_look_right(
    demo_server: LiveServer, open_page: OpenPage, path: str
) -> None:
    name = path.rsplit("/", 1)[1]
    for mobile in (False, True):
        kit = open_page(demo_server.url + path, mobile=mobile)
        _ready(kit, ".leaflet-marker-icon" if name == "stations" else ".leaflet-interactive")
        kit.settle()  # the chunked cluster layer has drawn
        kit.screenshot(f"maps-{name}-{'mobile' if mobile else 'desktop'}")
        assert kit.blocked.non_tile() == []
        assert kit.blocked.urls, "tiles were requested (and blocked)"
        assert kit.console_errors == []
        for control in (
            ".ws-legend",
            ".ws-locate a",
            ".ws-fullscreen a",
            ".leaflet-control-layers",
            ".ws-basemaps a",
        ):
            assert kit.page.locator(control).count() == 1, control
        assert kit.page.locator(".leaflet-control-attribution a").count() >= 1


def test_markers_cluster_and_a_click_opens_that_stations_popup(
    demo_server: LiveServer, open_page: OpenPage
) -> None:
    kit = open_page(demo_server.url + "/maps/stations")
    _ready(kit)
    assert kit.page.evaluate("WarmMap.current.entries.length") == 98
    assert kit.page.locator(".marker-cluster").count() > 0  # clustered at city zoom
    blocks = json_blocks(kit.page.content())
    config, row = blocks["ws-config"], blocks["ws-stations"][5]
    want = httpx.get(
        f"{demo_server.url}/api/v1/stations/{row[0]}", params={"at": config["details"]["at"]}
    ).json()["properties"]
    asked = _detail_requests(kit)
    popup = _open_popup_of(kit, row[5])
    kit.settle()  # Leaflet has faded the popup in
    kit.screenshot("maps-stations-popup-desktop")
    _assert_popup_shows(kit, popup, want)
    # The badge tells what the marker's colour tells.
    assert config["row_states"][row[3]] == kit.page.evaluate(
        "id => WarmMap.current.entries.find(e => e.id === id).state", row[0]
    )
    # Details are asked once, in the page's CRS and at the page's instant; reopening reuses them.
    kit.close_popup()
    _open_popup_of(kit, row[5])
    assert len(asked) == 1 and "crs=wgs84" in asked[0] and "at=" in asked[0]
    assert kit.console_errors == []


def test_a_popup_fits_a_360_px_phone_and_its_links_take_a_thumb(
    demo_server: LiveServer, open_page: OpenPage
) -> None:
    """Before, every popup ran to x = 387 on a 360 px phone: its close button was off the
    screen and its phone and navigation links were 17 px tall."""
    kit = open_page(demo_server.url + "/maps/stations", mobile=True)
    _ready(kit)
    row = next(r for r in json_blocks(kit.page.content())["ws-stations"] if r[0] == 64)
    popup = _open_popup_of(kit, row[5])
    kit.settle()
    for part in (".leaflet-popup-content-wrapper", ".leaflet-popup-close-button"):
        box = kit.page.locator(part).bounding_box()
        assert box is not None and 0 <= box["x"] and box["x"] + box["width"] <= 360, (part, box)
    # beside the zoom and locate buttons, not under them
    popup_box = kit.page.locator(".leaflet-popup-content-wrapper").bounding_box()
    zoom = kit.page.locator(".leaflet-control-zoom").bounding_box()
    assert popup_box is not None and zoom is not None
    assert popup_box["x"] >= zoom["x"] + zoom["width"], (popup_box, zoom)
    for link in popup.locator(".ws-nav a, .ws-phone a").all():
        box = link.bounding_box()
        assert box is not None and box["height"] >= 40, box
    kit.screenshot("maps-stations-popup-360x640")
    kit.page.click(".leaflet-popup-close-button")
    kit.page.wait_for_selector(".leaflet-popup", state="detached")
    assert kit.console_errors == []


def test_a_station_deleted_after_the_page_was_drawn_says_so(
    map_store: Stores, open_page: OpenPage
) -> None:
    store = map_store()
    live, stop = start_server(create_app(Settings(), store=store))
    try:
        kit = open_page(live.url + "/maps/stations")
        _ready(kit)
        catalog = live.app.state.services.catalog
        victim = next(s for s in catalog.all() if s.data.name == STATIONS[1]["name"])
        store.delete(victim.id, actor="test")
        catalog.refresh()
        error = kit.click_marker(victim.data.name, "ws-error")
        assert error.locator(".ws-title").text_content() == victim.data.name
        assert "已撤销" in error.locator(".ws-wait").text_content()
    finally:
        stop()
        store.close()


def test_a_popup_whose_details_never_come_says_so_and_the_next_tap_asks_again(
    own_server: LiveServer, open_page: OpenPage
) -> None:
    """A details request that stalls (weak mobile signal) ends in 详情加载失败 after the
    page's wait, not 加载中… for ever; the next tap asks again and fills the popup."""
    kit = open_page(own_server.url + "/maps/stations")
    _ready(kit)
    held: list[Any] = []
    kit.page.route("**/api/v1/stations/**", lambda route: held.append(route))
    kit.page.clock.install()
    name = STATIONS[0]["name"]
    kit.click_marker(name, "ws-loading")
    for _ in range(600):  # the request has left the page and is held
        if held:
            break
        kit.page.wait_for_timeout(50)
    kit.page.clock.fast_forward(14_000)
    kit.settle()
    assert kit.page.locator(".leaflet-popup .ws-popup.ws-loading").count() == 1
    kit.page.clock.fast_forward(2_000)
    error = kit.page.locator(".leaflet-popup .ws-popup.ws-error")
    error.wait_for()
    assert "详情加载失败" in error.text_content()
    assert len(held) == 1
    kit.page.unroute("**/api/v1/stations/**")  # the held request goes on to the server
    kit.close_popup()
    popup = _open_popup_of(kit, name)
    assert popup.locator(".ws-title").text_content() == name


def test_amenity_chips_reduce_the_markers_and_the_url_presets_them(
    demo_server: LiveServer, open_page: OpenPage
) -> None:
    kit = open_page(demo_server.url + "/maps/stations")
    _ready(kit)
    blocks = json_blocks(kit.page.content())
    features = blocks["ws-stations"]
    bit = {c: 1 << i for i, c in enumerate(blocks["ws-config"]["amenity_bits"])}

    def expected(*codes: str) -> int:
        return sum(all(row[4] & bit[c] for c in codes) for row in features)

    def shown() -> int:
        return kit.page.evaluate("WarmMap.current.layer.getLayers().length")

    assert shown() == len(features)
    kit.page.locator(".ws-filter input[value=microwave]").check()
    assert shown() == expected("microwave") < len(features)
    kit.page.locator(".ws-filter input[value=wifi]").check()
    assert shown() == expected("microwave", "wifi") <= expected("microwave")
    assert "amenity=microwave" in kit.page.url and "amenity=wifi" in kit.page.url
    kit.page.locator(".ws-filter input[value=wifi]").uncheck()
    assert shown() == expected("microwave")
    # The link to the AMap page keeps the filter (and that page draws in GCJ-02).
    kit.page.locator(".ws-basemaps a", has_text="AMap").click()
    kit.page.wait_for_url("**basemap=amap**")
    _ready(kit)
    assert kit.page.evaluate("WarmMap.current.crs") == "gcj02"
    assert kit.page.locator(".ws-filter input[value=microwave]").is_checked()
    assert shown() == expected("microwave")
    kit.page.locator(".ws-filter input[value=microwave]").uncheck()
    assert shown() == len(features)
    preset = open_page(demo_server.url + "/maps/stations?amenity=microwave")
    _ready(preset)
    assert preset.page.evaluate("WarmMap.current.layer.getLayers().length") == expected("microwave")
    assert preset.page.locator(".ws-filter input[value=microwave]").is_checked()


def test_amap_page_draws_markers_in_gcj02_and_osm_page_in_wgs84(
    own_server: LiveServer, open_page: OpenPage
) -> None:
    osm = open_page(own_server.url + "/maps/stations?basemap=osm")
    amap = open_page(own_server.url + "/maps/stations?basemap=amap")
    _ready(osm)
    _ready(amap)
    on_osm, on_amap = _marker_latlngs(osm), _marker_latlngs(amap)
    # Each page's layer control offers only basemaps of its own CRS.
    base = ".leaflet-control-layers-base label"
    assert osm.page.locator(base).all_text_contents() == [" OpenStreetMap"]
    assert [t.strip() for t in amap.page.locator(base).all_text_contents()] == [
        "高德地图 AMap",
        "高德卫星 AMap satellite",
    ]
    assert "暖心驿站" in amap.page.locator(".leaflet-control-layers-overlays").text_content()
    for s in STATIONS:  # rows carry 6 decimals (~10 cm)
        assert on_osm[s["name"]] == pytest.approx([s["lon"], s["lat"]], abs=1e-6)
        assert on_amap[s["name"]] == pytest.approx(
            list(from_wgs84(s["lon"], s["lat"], "gcj02")), abs=1e-6
        )
        moved = geodesic_m(s["lon"], s["lat"], *on_amap[s["name"]])
        assert 100 < moved < 700
    # Navigation links stay in each app's own CRS whatever the page draws in.
    s = STATIONS[0]
    for kit in (osm, amap):
        popup = _open_popup_of(kit, s["name"])
        address = popup.locator(".ws-address .ws-val").text_content()
        want = navigation_links(s["lon"], s["lat"], s["name"], address)
        for app in ("amap", "baidu", "tencent"):
            assert popup.locator(f"a.ws-nav-{app}").get_attribute("href") == want[app]


@pytest.mark.parametrize("basemap", ["osm", "amap"])
def test_locate_me_shows_the_browser_position_in_the_page_crs(
    own_server: LiveServer, open_page: OpenPage, basemap: str
) -> None:
    lon, lat = 116.5031, 39.7912
    kit = open_page(
        own_server.url + f"/maps/stations?basemap={basemap}",
        geolocation={"latitude": lat, "longitude": lon},
    )
    _ready(kit)
    kit.page.locator(".ws-locate a").click()
    kit.page.wait_for_function("() => WarmMap.myPosition !== undefined")
    shown = kit.page.evaluate("[WarmMap.myPosition.lng, WarmMap.myPosition.lat]")
    want = from_wgs84(lon, lat, "gcj02") if basemap == "amap" else (lon, lat)
    assert shown == pytest.approx(list(want), abs=1e-9)  # JS GCJ-02 == geodata.crs


def test_hostile_station_text_stays_text(own_server: LiveServer, open_page: OpenPage) -> None:
    kit = open_page(own_server.url + "/maps/stations")
    _ready(kit)
    popup = _open_popup_of(kit, XSS["name"])
    assert popup.locator(".ws-title").text_content() == XSS["name"]
    assert popup.locator(".ws-address .ws-val").text_content() == XSS["address"]
    assert popup.locator(".ws-notes .ws-val").text_content() == XSS["notes"]
    assert XSS["host_org"] in popup.locator(".ws-host .ws-val").text_content()
    assert popup.locator(".ws-phone a").text_content() == XSS["phone"]
    # the number's own characters only (as the riders' pages dial it)
    assert popup.locator(".ws-phone a").get_attribute("href") == "tel:010-12345"
    assert popup.locator("img, svg, script, b").count() == 0
    popup.locator(".ws-host").hover()
    cover = open_page(own_server.url + "/maps/coverage")
    _ready(cover, ".leaflet-interactive")
    tooltip = cover.page.evaluate(
        """name => {
        let text = null;
        WarmMap.analysisLayers.stations.eachLayer(l => {
            if (l.feature.properties.name === name) {
                l.openTooltip(); text = l.getTooltip().getElement().textContent; }
        });
        return text;
    }""",
        XSS["name"],
    )
    assert tooltip == XSS["name"]
    for page in (kit.page, cover.page):
        assert page.evaluate("window.__xss") is None
    assert kit.console_errors == [] and cover.console_errors == []


def test_the_offline_file_opens_with_every_host_blocked(
    tmp_path: Path, open_page: OpenPage
) -> None:
    # SQLite only: a file drawn from a catalog, no server and no store behind the page.
    catalog = StationCatalog(make_store("sqlite:///" + str(tmp_path / "s.db")))
    path = tmp_path / "stations.html"
    path.write_text(
        station_map_html(catalog_hits(catalog), get_basemap("amap"), inline=True), encoding="utf-8"
    )
    kit = open_page(path.as_uri())
    _ready(kit)
    assert kit.page.evaluate("WarmMap.current.entries.length") == len(STATIONS)
    # Popups come from the file itself: no server to ask.
    asked = _detail_requests(kit)
    s = STATIONS[0]
    popup = _open_popup_of(kit, s["name"])
    details = json_blocks(kit.page.content())["ws-details"]
    p = next(d for d in details.values() if d["name"] == s["name"])
    _assert_popup_shows(kit, popup, p)
    assert p["navigation"] == navigation_links(s["lon"], s["lat"], s["name"], p["address"])
    assert asked == []
    assert kit.blocked.non_tile() == [] and kit.console_errors == []
    # Leaflet's own images (layer control icon) came inline as data: URIs.
    icon = kit.page.evaluate("""getComputedStyle(
        document.querySelector('.leaflet-control-layers-toggle')).backgroundImage""")
    assert icon.startswith('url("data:image/png;base64,')
