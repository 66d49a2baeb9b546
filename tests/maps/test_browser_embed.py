"""``/embed`` in Debian's Chromium: markers, the nearest list, chips, escaping, WeChat, CRS.

Every request to another host is aborted and recorded (``tests/maps/conftest.py``): the page
must work with all of them blocked and may only have tried map tiles.
"""

from __future__ import annotations

import gzip
import itertools
import json
import random
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from api.app import create_app
from api.pages.wechat_client import jssdk_signature
from api.settings import Settings
from geodata.crs import from_wgs84
from stations.store.base import ImportPlanRow
from stations.store.reports import REPORT_TEXT_LIMIT, SqlReportStore
from stations.store.sql import SqlStationStore
from tests.conftest import make_station
from tests.maps.conftest import LiveServer, PageKit, start_server

pytestmark = pytest.mark.browser

HERE = {"longitude": 116.5068, "latitude": 39.7954}  # 荣华中路, in E-Town (WGS-84)
WECHAT_UA = (
    "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/116.0.0.0 Mobile Safari/537.36 MicroMessenger/8.0.47.2560(0x28002F51) "
    "WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64"
)
XSS = "<img src=x onerror=alert(1)>"
Open = Callable[..., PageKit]
Serve = Callable[..., LiveServer]  # the server_for fixtures: (stations, demo=, **settings)


def _attr(kit: PageKit, name: str) -> str | None:
    return kit.page.evaluate(f"document.documentElement.getAttribute('data-{name}')")


def _wait_attr(kit: PageKit, name: str, value: str) -> None:
    kit.page.wait_for_selector(f"html[data-{name}='{value}']", state="attached")


def _loaded_paths(kit: PageKit) -> list[str]:
    """Every URL this page loaded (document, scripts, styles, fetches), as own-host paths."""
    urls = kit.page.evaluate(
        "[location.href].concat(performance.getEntriesByType('resource')"
        ".map(function (e) { return e.name; }))"
    )
    own = urlsplit(kit.page.url).netloc
    out = []
    for u in urls:
        parts = urlsplit(u)
        if parts.netloc == own:
            out.append(parts.path + ("?" + parts.query if parts.query else ""))
    return out


def _list_ids(kit: PageKit) -> list[int]:
    return [
        int(i)
        for i in kit.page.eval_on_selector_all(
            "#list li[data-id]", "els => els.map(e => e.getAttribute('data-id'))"
        )
    ]


def _marker_lonlat(kit: PageKit, station_id: int) -> list[float] | None:
    return kit.page.evaluate(
        """(id) => { let out = null;
        WarmEmbed.map.eachLayer(l => { if (l.point && l.point[0] === id) {
            const ll = l.getLatLng(); out = [ll.lng, ll.lat]; } });
        return out; }""",
        station_id,
    )


def _shot(kit: PageKit, name: str) -> None:
    """A screenshot once the map has stopped animating (fitBounds after a fix zooms)."""
    kit.page.wait_for_function("""() => new Promise(done => setTimeout(() => {
        const m = WarmEmbed.map;
        if (!m._animatingZoom) { done(true); return; }
        m.once('zoomend', () => setTimeout(() => done(true), 300)); }, 400))""")
    kit.screenshot(name)


def _clean(kit: PageKit) -> None:
    assert kit.blocked.non_tile() == [], kit.blocked.non_tile()
    assert kit.console_errors == [], kit.console_errors


# -- the demo ----------------------------------------------------------------------------
def test_markers_appear_with_everything_else_blocked(
    demo_server: LiveServer, open_page: Open
) -> None:
    kit = open_page(demo_server.url + "/embed", mobile=True)
    _wait_attr(kit, "list", "center")
    in_service = httpx.get(
        demo_server.url + "/api/v1/stations", params={"status": "open", "limit": 1}
    ).json()["numberMatched"]
    assert kit.page.locator("path.st").count() == in_service == int(_attr(kit, "markers") or 0)
    assert kit.page.locator("#list li.item").count() == 10
    assert any("tile.openstreetmap.org" in u for u in kit.blocked.urls)  # tiles were tried
    assert not any("jweixin" in p for p in _loaded_paths(kit))  # the JS-SDK stays out
    assert _attr(kit, "env") == "browser" and _attr(kit, "wx") == "off"
    _shot(kit, "embed-mobile-360x640")
    _clean(kit)


def test_first_load_weighs_at_most_80_kb_gzip(demo_server: LiveServer, open_page: Open) -> None:
    kit = open_page(demo_server.url + "/embed", mobile=True, geolocation=HERE)
    _wait_attr(kit, "list", "located")
    paths = _loaded_paths(kit)
    assert len(paths) >= 6  # page, 2 CSS, 2 JS, the nearest list
    total = sum(len(gzip.compress(httpx.get(demo_server.url + p).content)) for p in paths)
    assert total <= 80 * 1024, f"{total / 1024:.1f} KB gzip over {paths}"
    _clean(kit)


def test_located_rider_sees_the_nearest_in_order(demo_server: LiveServer, open_page: Open) -> None:
    kit = open_page(demo_server.url + "/embed", mobile=True, geolocation=HERE)
    _wait_attr(kit, "list", "located")
    expected = httpx.get(
        demo_server.url + "/api/v1/nearest",
        params={"lat": HERE["latitude"], "lon": HERE["longitude"], "k": 10, "status": "open"},
    ).json()
    assert _list_ids(kit) == [f["id"] for f in expected["features"]]
    first = kit.page.locator("#list li.item").first
    assert first.locator(".name").inner_text() == expected["features"][0]["properties"]["name"]
    assert "米" in first.locator(".dist").inner_text()
    href = first.locator("a.go").get_attribute("href")
    assert href == expected["features"][0]["properties"]["navigation"]["amap"]
    assert kit.page.locator("path.me").count() == 1  # the rider's own dot
    _shot(kit, "embed-located-mobile-360x640")
    _clean(kit)


def test_chips_filter_markers_and_list(demo_server: LiveServer, open_page: Open) -> None:
    kit = open_page(demo_server.url + "/embed", geolocation=HERE)
    _wait_attr(kit, "list", "located")
    before = int(_attr(kit, "markers") or 0)
    toilet = httpx.get(
        demo_server.url + "/api/v1/stations",
        params={"status": "open", "amenity": "toilet", "limit": 1000},
    ).json()
    toilet_ids = {f["id"] for f in toilet["features"]}
    kit.page.click(".chip[data-code=toilet]")
    kit.page.wait_for_function(
        "n => document.documentElement.dataset.markers === n", arg=str(len(toilet_ids))
    )
    assert len(toilet_ids) < before
    kit.page.wait_for_function("() => document.querySelectorAll('#list li.item').length > 0")
    kit.settle()
    assert set(_list_ids(kit)) <= toilet_ids
    assert kit.page.get_attribute(".chip[data-code=toilet]", "aria-pressed") == "true"
    kit.page.click(".chip[data-code=toilet]")  # off again: everything back
    kit.page.wait_for_function(
        "n => document.documentElement.dataset.markers === n", arg=str(before)
    )
    _clean(kit)


def test_the_no_smartphone_chip_keeps_the_stations_recorded_so(
    server_for: Callable[..., LiveServer], open_page: Open
) -> None:
    """不用手机能进: the inline markers and the list keep only the stations recorded as usable
    without a smartphone (not those recorded otherwise, nor those not recorded); a link that
    starts with it pressed shows it, though it is the row's last chip; and a list left empty
    names every filter that is on."""
    live = server_for(
        [
            make_station(external_id="Y", name="有人值守驿站", no_smartphone_ok=True),
            make_station(external_id="N", name="扫码进门驿站", lon=116.508, no_smartphone_ok=False),
            make_station(external_id="U", name="未登记驿站", lon=116.509),
        ]
    )
    kit = open_page(live.url + "/embed", mobile=True, geolocation=HERE)
    _wait_attr(kit, "list", "located")
    assert _attr(kit, "markers") == "3"
    kit.page.click(".chip[data-code=no_smartphone_ok]")
    kit.page.wait_for_function("() => document.documentElement.dataset.markers === '1'")
    kit.page.wait_for_function("() => document.querySelectorAll('#list li.item').length === 1")
    kit.settle()
    names = kit.page.eval_on_selector_all("#list .name", "els => els.map(e => e.textContent)")
    assert names == ["有人值守驿站"]
    assert kit.page.get_attribute(".chip[data-code=no_smartphone_ok]", "aria-pressed") == "true"
    assert kit.page.inner_text(".chip[data-code=no_smartphone_ok]") == "不用手机能进"
    _shot(kit, "embed-no-smartphone-chip-360x640")
    kit.page.click(".chip[data-code=fridge]")  # none of the three has one
    kit.page.wait_for_selector("#list li.empty")
    empty = kit.page.inner_text("#list li.empty")
    assert "冰箱" in empty and "不用手机能进" in empty, empty
    _clean(kit)

    linked = open_page(live.url + "/embed?no_smartphone_ok=true", mobile=True)
    _wait_attr(linked, "list", "center")
    assert _attr(linked, "markers") == "1"
    chip = linked.page.locator(".chip[data-code=no_smartphone_ok]").bounding_box()
    assert chip is not None and 0 <= chip["x"] and chip["x"] + chip["width"] <= 360, chip
    _clean(linked)


def test_clicking_a_marker_opens_that_station(demo_server: LiveServer, open_page: Open) -> None:
    kit = open_page(demo_server.url + "/embed")
    _wait_attr(kit, "list", "center")
    station = httpx.get(
        demo_server.url + "/api/v1/stations", params={"status": "open", "limit": 1, "offset": 40}
    ).json()["features"][0]
    kit.page.locator(f"path.sid-{station['id']}").click(force=True)
    kit.page.wait_for_function(
        """name => {
        const n = document.querySelector('#card .name');
        return n && n.textContent === name && document.querySelector('#card').textContent
            .includes('地址'); }""",
        arg=station["properties"]["name"],
    )
    assert kit.page.is_hidden("#list")
    _shot(kit, "embed-card-desktop")
    kit.page.click("#card .back")
    assert kit.page.is_visible("#list") and kit.page.is_hidden("#card")
    _clean(kit)


def test_editor_presets_centre_zoom_chip_and_station(
    demo_server: LiveServer, open_page: Open
) -> None:
    station = httpx.get(
        demo_server.url + "/api/v1/stations",
        params={"status": "open", "amenity": "hot_water", "limit": 1},
    ).json()["features"][0]
    kit = open_page(
        demo_server.url + f"/embed?station={station['id']}&zoom=15&amenity=热水", mobile=True
    )
    _wait_attr(kit, "list", "center")
    assert kit.page.inner_text("#card .name") == station["properties"]["name"]
    assert kit.page.evaluate("WarmEmbed.map.getZoom()") == 15
    centre = kit.page.evaluate("[WarmEmbed.map.getCenter().lng, WarmEmbed.map.getCenter().lat]")
    # Leaflet snaps the view to whole pixels: at zoom 15 one pixel is ~4e-5° of longitude.
    assert centre == pytest.approx(station["geometry"]["coordinates"], abs=1e-4)
    assert kit.page.get_attribute(".chip[data-code=hot_water]", "aria-pressed") == "true"
    assert kit.page.locator(f"path.sid-{station['id']}").get_attribute("stroke-width") == "4"
    _shot(kit, "embed-station-mobile-360x640")
    _clean(kit)


def test_osm_markers_are_wgs84(demo_server: LiveServer, open_page: Open) -> None:
    """The conversion itself (common/crs.js) is checked against geodata.crs in test_js_crs.py."""
    kit = open_page(demo_server.url + "/embed")
    _wait_attr(kit, "list", "center")
    station = httpx.get(
        demo_server.url + "/api/v1/stations", params={"status": "open", "limit": 1}
    ).json()["features"][0]
    assert _marker_lonlat(kit, station["id"]) == pytest.approx(
        station["geometry"]["coordinates"], abs=1e-6
    )
    _clean(kit)


# -- own servers ---------------------------------------------------------------------------
@contextmanager
def _servers(new_url: Callable[[], str]) -> Iterator[Serve]:
    stops: list[Callable[[], None]] = []
    stores: list[SqlStationStore] = []

    def start(stations: list[Any] | None = None, demo: bool = False, **settings: Any) -> LiveServer:
        store = None
        if not demo:
            store = SqlStationStore(new_url())
            store.apply_import([ImportPlanRow(s) for s in stations or []], actor="test")
            stores.append(store)
        live, stop = start_server(create_app(Settings(**settings), store=store, demo=demo))
        stops.append(stop)
        return live

    try:
        yield start
    finally:
        for stop in stops:
            stop()
        for s in stores:
            s.close()


@pytest.fixture
def server_for(tmp_path: Any) -> Iterator[Serve]:
    """Start a live server on a store of the given stations (and settings).

    SQLite only: the tests using it check what the page draws from the server's in-memory
    catalog (escaping, CRS, clusters, WeChat); store writes are in the report tests below,
    which use ``engine_server_for`` and run on both engines."""
    numbers = itertools.count()
    with _servers(lambda: "sqlite:///" + str(tmp_path / f"s{next(numbers)}.db")) as start:
        yield start


@pytest.fixture
def engine_server_for(new_store_url: Callable[[], str]) -> Iterator[Serve]:
    """``server_for`` on this test's engine (SQLite, then PostgreSQL + PostGIS)."""
    with _servers(new_store_url) as start:
        yield start


def test_xss_name_stays_text(server_for: Callable[..., LiveServer], open_page: Open) -> None:
    live = server_for(
        [
            make_station(
                external_id="X", name=XSS, address="<b>bold</b>", notes="<script>alert(3)</script>"
            ),
            make_station(external_id="Y", name="普通驿站", lon=116.51, lat=39.80),
        ]
    )
    sid = httpx.get(live.url + "/api/v1/stations", params={"q": "img"}).json()["features"][0]["id"]
    kit = open_page(live.url + f"/embed?station={sid}", mobile=True, geolocation=HERE)
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    kit.page.on("dialog", on_dialog)
    kit.page.reload()
    _wait_attr(kit, "list", "center")
    kit.settle()
    assert kit.page.inner_text("#card .name") == XSS
    assert "<b>bold</b>" in kit.page.inner_text("#card")
    assert "<script>alert(3)</script>" in kit.page.inner_text("#card")
    kit.page.click("#card .back")
    names = kit.page.eval_on_selector_all("#list .name", "els => els.map(e => e.textContent)")
    assert XSS in names
    assert kit.page.locator("img[src=x], #card b, #list b").count() == 0
    assert dialogs == []
    _shot(kit, "embed-xss-mobile-360x640")
    _clean(kit)


def test_gcj02_basemap_shifts_markers(
    server_for: Callable[..., LiveServer], open_page: Open
) -> None:
    live = server_for(demo=True, basemap="amap")
    kit = open_page(live.url + "/embed")
    _wait_attr(kit, "list", "center")
    station = httpx.get(
        live.url + "/api/v1/stations", params={"status": "open", "limit": 1}
    ).json()["features"][0]
    lon, lat = station["geometry"]["coordinates"]
    got = _marker_lonlat(kit, station["id"])
    assert got == pytest.approx(list(from_wgs84(lon, lat, "gcj02")), abs=1e-6)
    assert got != pytest.approx([lon, lat], abs=1e-4)  # hundreds of metres off WGS-84
    assert any("autonavi.com" in u for u in kit.blocked.urls)
    _shot(kit, "embed-amap-desktop")
    _clean(kit)


class _FakeWeChat:
    """WeChat's token and ticket endpoints, just enough for the page's jssdk-config call."""

    def __init__(self) -> None:
        outer = self
        self.calls = 0

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                outer.calls += 1
                path = urlsplit(self.path).path
                body = (
                    {"access_token": "T", "expires_in": 7200}
                    if path == "/cgi-bin/token"
                    else {"errcode": 0, "errmsg": "ok", "ticket": "K", "expires_in": 7200}
                )
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_inside_wechat_the_sdk_comes_from_us_and_the_page_falls_back(
    server_for: Callable[..., LiveServer], open_page: Open
) -> None:
    fake = _FakeWeChat()
    try:
        live = server_for(
            demo=True,
            wechat_app_id="wx0123456789abcdef",
            wechat_app_secret="secret",
            wechat_api_base=fake.url,
        )
        kit = open_page(live.url + "/embed", mobile=True, geolocation=HERE, user_agent=WECHAT_UA)
        assert _attr(kit, "env") == "wechat"
        # No WeixinJSBridge in Chromium: wx.config never answers, so after its grace period
        # the page locates through the browser and lists the nearest stations anyway.
        _wait_attr(kit, "wx", "fallback")
        _wait_attr(kit, "list", "located")
        paths = _loaded_paths(kit)
        assert any(
            p.startswith("/assets/") and p.endswith("/app/embed/jweixin-1.6.5.js") for p in paths
        )
        assert any(p.startswith("/api/v1/wechat/jssdk-config?url=") for p in paths)
        assert fake.calls == 2  # token + ticket, fetched by the server, not the browser
        assert kit.page.evaluate("typeof window.wx.config") == "function"
        assert not any("qq.com" in u for u in kit.blocked.urls)
        assert len(_list_ids(kit)) == 10
        _shot(kit, "embed-wechat-mobile-360x640")
        _clean(kit)
    finally:
        fake.close()


# WeChat's native bridge, which the real jweixin talks to; Chromium has none. It records every
# call and answers like WeChat (err_msg "<name>:ok"); the location comes back as strings, as
# some WeChat versions send it, so the page must turn them into numbers itself.
FAKE_BRIDGE = """
window.__bridge = [];
window.WeixinJSBridge = {
  invoke: function (name, args, cb) {
    window.__bridge.push({ name: name, args: JSON.parse(JSON.stringify(args || {})) });
    var res = { err_msg: name + ':ok' };
    if (name === 'geoLocation') { res.latitude = '%(lat).7f'; res.longitude = '%(lon).7f'; }
    if (name === 'getNetworkType') { res.networkType = 'wifi'; }
    setTimeout(function () { cb(res); }, 0);
  },
  on: function () {}
};
"""


def test_inside_wechat_location_and_navigation_go_through_the_js_sdk(
    server_for: Callable[..., LiveServer], open_page: Open
) -> None:
    fake = _FakeWeChat()
    try:
        live = server_for(
            demo=True,
            wechat_app_id="wx0123456789abcdef",
            wechat_app_secret="secret",
            wechat_api_base=fake.url,
        )
        glon, glat = from_wgs84(HERE["longitude"], HERE["latitude"], "gcj02")
        kit = open_page(live.url + "/embed#from-menu", mobile=True, user_agent=WECHAT_UA)
        kit.page.context.add_init_script(FAKE_BRIDGE % {"lat": glat, "lon": glon})
        kit.page.reload()
        _wait_attr(kit, "wx", "ready")
        _wait_attr(kit, "list", "located")
        calls = kit.page.evaluate("window.__bridge")
        config = next(c["args"] for c in calls if c["name"] == "preVerifyJSAPI")
        page_url = kit.page.url.split("#")[0]
        assert config["verifyAppId"] == "wx0123456789abcdef"
        assert config["verifySignature"] == jssdk_signature(
            "K", config["verifyNonceStr"], config["verifyTimestamp"], page_url
        )
        assert config["verifyJsApiList"] == ["geoLocation", "openLocation"]
        assert next(c["args"] for c in calls if c["name"] == "geoLocation")["type"] == "gcj02"

        # The GCJ-02 fix, taken back to WGS-84 for the OSM map, gives the API's order.
        expected = httpx.get(
            live.url + "/api/v1/nearest",
            params={"lat": HERE["latitude"], "lon": HERE["longitude"], "k": 10, "status": "open"},
        ).json()
        assert _list_ids(kit) == [f["id"] for f in expected["features"]]

        kit.page.locator("#list a.go").first.click()
        kit.page.wait_for_function("() => window.__bridge.some(c => c.name === 'openLocation')")
        opened = next(
            c["args"] for c in kit.page.evaluate("window.__bridge") if c["name"] == "openLocation"
        )
        first = expected["features"][0]
        wlon, wlat = first["geometry"]["coordinates"]
        slon, slat = from_wgs84(wlon, wlat, "gcj02")
        assert isinstance(opened["latitude"], float) and isinstance(opened["longitude"], float)
        assert [opened["longitude"], opened["latitude"]] == pytest.approx([slon, slat], abs=1e-6)
        assert opened["name"] == first["properties"]["name"]
        assert opened["address"] == first["properties"]["address"]
        assert opened["scale"] == 16
        assert kit.page.url.startswith(live.url + "/embed")  # stayed: no AMap link followed
        # After wx.config the SDK sends WeChat a telemetry beacon (an <img> to
        # open.weixin.qq.com); the page's CSP refuses it, so nothing leaves for another host.
        assert kit.blocked.non_tile() == []
        refused = [e for e in kit.console_errors if "open.weixin.qq.com" in e]
        assert all("Content Security Policy" in e for e in refused)
        assert [e for e in kit.console_errors if e not in refused] == []
    finally:
        fake.close()


def test_mini_program_web_view_is_detected(demo_server: LiveServer, open_page: Open) -> None:
    kit = open_page(demo_server.url + "/embed", mobile=True, user_agent=WECHAT_UA + " miniProgram")
    kit.page.add_init_script("window.__wxjs_environment = 'miniprogram'")
    kit.page.reload()
    _wait_attr(kit, "env", "miniprogram")
    # no Official Account configured on this server: no JS-SDK, the links are the way out
    assert _attr(kit, "wx") == "off"
    _wait_attr(kit, "list", "center")
    assert (
        kit.page.locator("#list a.go")
        .first.get_attribute("href")
        .startswith("https://uri.amap.com/")
    )
    _clean(kit)


def test_large_network_loads_by_view_with_clusters(
    server_for: Callable[..., LiveServer], open_page: Open
) -> None:
    rng = random.Random(7)
    stations = [
        make_station(
            external_id=f"G{i}",
            name=f"驿站{i}",
            lon=116.30 + rng.random() * 0.4,
            lat=39.70 + rng.random() * 0.3,
        )
        for i in range(1600)
    ]  # above STATIONS_EMBED_INLINE_MAX: the page draws from the vector tiles
    live = server_for(stations)
    kit = open_page(live.url + "/embed")
    _wait_attr(kit, "list", "center")
    kit.page.wait_for_selector(".cl")
    kit.page.wait_for_function("() => window.__warmTiles.idle")
    counts = kit.page.eval_on_selector_all(".cl span", "els => els.map(e => +e.textContent)")
    singles = kit.page.locator("path.st").count()
    assert sum(counts) + singles == 1600
    assert any(
        p.startswith("/api/v1/tiles/stations/") and "status=open" in p for p in _loaded_paths(kit)
    )
    _shot(kit, "embed-clusters-desktop")
    kit.page.evaluate("WarmEmbed.map.setView([39.85, 116.5], 17)")
    kit.page.wait_for_function(
        "() => document.querySelectorAll('.cl').length === 0 && "
        "document.querySelectorAll('path.st').length > 0"
    )
    _clean(kit)


# -- rider reports ---------------------------------------------------------------------------
REPORTED = "门口贴了停业通知，热水器也没电"
XSS_REPORT = "<img src=x onerror=window.__xss=1>"


def _report_stores(live: LiveServer) -> tuple[Any, SqlReportStore]:
    """The live server's station store and a report store on the same database."""
    store = live.app.state.services.store
    return store, SqlReportStore.beside(store)


def _two_stations(server_for: Callable[..., LiveServer]) -> tuple[LiveServer, int]:
    """A server with two stations (on the test's engine) and the id of the first."""
    live = server_for(
        [
            make_station(external_id="R1", name="荣华中路暖心驿站"),
            make_station(external_id="R2", name="科创街暖心驿站", lon=116.51, lat=39.80),
        ]
    )
    sid = httpx.get(live.url + "/api/v1/stations", params={"q": "荣华中路"}).json()["features"][0][
        "id"
    ]
    return live, sid


def _open_report_sheet(kit: PageKit, sid: int) -> None:
    """From the list, as a rider would: the station's card, then its "报告问题" button."""
    _wait_attr(kit, "list", "center")
    kit.page.click(f"#list li[data-id='{sid}'] .name")
    kit.page.click("#card .report")
    kit.page.wait_for_selector(".rp-wrap", state="visible")


def test_rider_reports_a_closed_station_for_review(
    engine_server_for: Serve, open_page: Open
) -> None:
    live, sid = _two_stations(engine_server_for)
    store, reports = _report_stores(live)
    before = store.get(sid)
    kit = open_page(live.url + "/embed", mobile=True)
    _open_report_sheet(kit, sid)
    sheet = kit.page.locator(".rp")
    assert sheet.get_attribute("role") == "dialog"
    assert sheet.locator("p").first.inner_text() == before.data.name
    assert sheet.locator("label").all_inner_texts() == [
        "已关闭/暂停开放",
        "设施缺失",
        "位置不对",
        "其他",
    ]
    assert sheet.locator("textarea").get_attribute("maxlength") == str(REPORT_TEXT_LIMIT)
    assert kit.page.evaluate("document.activeElement.name") == "kind"  # focus moved in

    sheet.get_by_role("button", name="提交").click()  # no kind chosen: nothing is sent
    assert sheet.locator(".err").inner_text() == "请选择问题类型"
    assert reports.list()[1] == 0

    sheet.get_by_text("已关闭/暂停开放").click()
    assert sheet.locator(".err").count() == 0  # the hint goes once a kind is chosen
    sheet.locator("textarea").fill(REPORTED)
    box = sheet.bounding_box()
    assert box is not None and box["width"] == 360 and box["y"] + box["height"] <= 640
    kit.screenshot("embed-report-mobile")
    sheet.get_by_role("button", name="提交").click()
    kit.page.wait_for_selector(".rp .ok")
    assert sheet.locator(".ok").inner_text() == "已收到，谢谢！工作人员核实后处理"
    assert sheet.locator("textarea").is_hidden()
    _shot(kit, "embed-report-sent-mobile")

    pending, total = reports.list(status="pending", station_id=sid)
    assert total == 1
    assert (pending[0].kind, pending[0].text, pending[0].count) == ("closed", REPORTED, 1)
    assert reports.list()[1] == 1  # nothing reported on the other station
    after = store.get(sid)  # a rider's report changes nothing by itself
    assert (after.version, after.data) == (before.version, before.data)
    assert after.data.status == "open"
    assert f"/api/v1/stations/{sid}/reports" in _loaded_paths(kit)

    sheet.get_by_role("button", name="关闭").click()
    assert kit.page.is_hidden(".rp-wrap") and kit.page.is_visible("#card")
    _shot(kit, "embed-report-card-mobile")
    _clean(kit)


def test_report_text_with_markup_is_stored_as_text(
    engine_server_for: Serve, open_page: Open
) -> None:
    live, sid = _two_stations(engine_server_for)
    _, reports = _report_stores(live)
    kit = open_page(live.url + "/embed", mobile=True)
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    kit.page.on("dialog", on_dialog)
    _open_report_sheet(kit, sid)
    kit.page.get_by_text("其他").click()
    kit.page.fill(".rp textarea", XSS_REPORT)
    kit.page.click(".rp .go")
    kit.page.wait_for_selector(".rp .ok")
    pending, total = reports.list(status="pending", station_id=sid)
    assert total == 1 and (pending[0].kind, pending[0].text) == ("other", XSS_REPORT)
    kit.settle()
    assert kit.page.evaluate("typeof window.__xss") == "undefined"
    assert kit.page.locator("img[src=x]").count() == 0 and dialogs == []
    _clean(kit)


def test_too_many_reports_get_a_clear_message(engine_server_for: Serve, open_page: Open) -> None:
    live, sid = _two_stations(engine_server_for)
    _, reports = _report_stores(live)
    url = live.url + f"/api/v1/stations/{sid}/reports"
    # The page and this client share one address (127.0.0.1): use up its burst first.
    codes = [
        httpx.post(url, json={"kind": "other", "text": f"第{i}次"}).status_code for i in range(30)
    ]
    assert 201 in codes and codes[-1] == 429
    sent = reports.list()[1]
    kit = open_page(live.url + "/embed", mobile=True)
    _open_report_sheet(kit, sid)
    kit.page.get_by_text("设施缺失").click()
    kit.page.fill(".rp textarea", "没有热水")
    kit.page.click(".rp .go")
    kit.page.wait_for_selector(".rp .err")
    message = kit.page.inner_text(".rp .err")
    assert message.startswith("提交太频繁，请稍后再试") and "秒后" in message
    assert kit.page.is_enabled(".rp .go") and kit.page.is_visible(".rp textarea")  # can retry
    assert reports.list()[1] == sent
    kit.page.click(".rp .back")  # 取消
    assert kit.page.is_hidden(".rp-wrap")
    assert kit.blocked.non_tile() == []
    assert [e for e in kit.console_errors if "status of 429" not in e] == []  # Chromium logs it
