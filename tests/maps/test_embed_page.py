"""``/embed`` and ``/embed/markers`` over HTTP (no browser): presets, escaping, CRS, weight."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from geodata.crs import from_wgs84, to_wgs84
from maps.embed import amenity_bits, embed_filter, markers_in_view
from stations.search import StationCatalog
from stations.store.sql import SqlStationStore
from stations.vocabulary import AMENITIES
from tests.conftest import make_station

XSS = "<img src=x onerror=alert(1)>"
SCRIPT_BREAK = "</script><script>alert(2)</script>"


@pytest.fixture(scope="module")
def store(module_store_url: str) -> Iterator[SqlStationStore]:
    s = SqlStationStore(module_store_url)
    s.create(make_station(external_id="A", name="荣华中路驿站"), actor="t")
    s.create(
        make_station(
            external_id="B",
            name=XSS,
            address=SCRIPT_BREAK,
            lon=116.52,
            lat=39.79,
            amenities=["toilet"],
            notes="&amp; \u2028 end",
        ),
        actor="t",
    )
    s.create(
        make_station(external_id="C", name="旧宫驿站", lon=116.46, lat=39.81, status="closed"),
        actor="t",
    )
    try:
        yield s
    finally:
        s.close()


def _client(store: SqlStationStore, **settings: Any) -> TestClient:
    return TestClient(create_app(Settings(**settings), store=store))


@pytest.fixture(scope="module")
def client(store: SqlStationStore) -> Iterator[TestClient]:
    """The app with default settings (OSM basemap, no WeChat account), shared by the module."""
    with _client(store) as c:
        yield c


def _config(html: str) -> dict[str, Any]:
    m = re.search(r'<script type="application/json" id="embed-config">(.*?)</script>', html, re.S)
    assert m, "config block missing"
    return json.loads(m.group(1))


def test_page_headers_and_own_assets_only(client: TestClient) -> None:
    r = client.get("/embed")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers["cache-control"] == "no-cache"
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'self' https://*.qq.com https://servicewechat.com" in csp
    assert "script-src 'self'" in csp
    assert "img-src 'self' data: https://tile.openstreetmap.org" in csp
    srcs = re.findall(r'(?:src|href)="([^"]+)"', r.text)
    assert srcs and all(s.startswith("/assets/") for s in srcs), srcs
    assert "jweixin" not in r.text  # no WeChat account configured: no JS-SDK at all
    assert 'lang="zh-CN"' in r.text and "附近的暖心驿站" in r.text


def test_station_values_stay_data(store: SqlStationStore, client: TestClient) -> None:
    sid = next(s.id for s in store.all() if s.data.name == XSS)
    html = client.get("/embed", params={"station": sid}).text
    assert "<img" not in html and "alert(2)</script>" not in html and "\u2028" not in html
    cfg = _config(html)
    names = {p[5] for p in cfg["markers"]["points"]}
    assert XSS in names  # the exact characters survive, as data
    assert "旧宫驿站" not in names  # closed stations are not offered to riders
    props = cfg["station"]["properties"]
    expected = (XSS, SCRIPT_BREAK, "&amp; \u2028 end")
    assert (props["name"], props["address"], props["notes"]) == expected


def test_presets_centre_zoom_chips_station(store: SqlStationStore, client: TestClient) -> None:
    glon, glat = from_wgs84(116.5, 39.8, "gcj02")
    r = client.get(
        "/embed",
        params={
            "lat": glat,
            "lon": glon,
            "crs": "gcj02",
            "zoom": 14,
            "amenity": ["热水", "toilet"],
            "open_now": "true",
        },
    )
    cfg = _config(r.text)
    # the page is on OSM (WGS-84): the GCJ-02 centre arrives converted
    assert cfg["crs"] == "wgs84"
    assert cfg["center"] == pytest.approx([39.8, 116.5], abs=1e-6)
    assert cfg["zoom"] == 14 and cfg["locate"] is False
    assert cfg["selected"] == ["hot_water", "toilet"] and cfg["openNow"] is True
    assert re.search(r'data-code="hot_water" aria-pressed="true"', r.text)
    assert re.search(r'data-code="charging" aria-pressed="false"', r.text)

    sid = store.all()[1].id
    cfg = _config(client.get("/embed", params={"station": sid}).text)
    assert cfg["station"]["properties"]["name"] == XSS
    assert cfg["station"]["properties"]["navigation"]["amap"].startswith("https://")
    assert cfg["center"] == pytest.approx([39.79, 116.52]) and cfg["zoom"] == 16

    gone = _config(client.get("/embed", params={"station": 999}).text)
    assert gone["station"] is None and "不存在" in gone["notice"]

    plain = _config(client.get("/embed").text)
    assert plain["locate"] is True and plain["center"] is None
    assert plain["bounds"] == [[39.79, 116.5068], [39.7954, 116.52]]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"lat": 39.8}, "lon"),
        ({"lon": 116.5}, "lat"),
        ({"zoom": 30}, "zoom"),
        ({"station": "abc"}, "station"),
        ({"lat": 95, "lon": 116.5}, "lat"),
        ({"lat": "abc", "lon": 116.5}, "lat"),
        ({"amenity": "sauna"}, "amenity"),
        ({"open_now": "maybe"}, "open_now"),
        ({"no_smartphone_ok": "maybe"}, "no_smartphone_ok"),
        ({"crs": "gcj"}, "crs"),
        # longer than any id: once a 422 in JSON, a rider's link run into the next words
        ({"station": "64" + "驿站欢迎您" * 10}, "station"),
        ({"station": "1" * 30}, "station"),
        ({"zoom": "1" * 50}, "zoom"),
        ({"crs": "wgs84" * 10}, "crs"),
    ],
)
def test_a_broken_link_still_shows_the_page_with_a_chinese_notice(
    client: TestClient, params: dict[str, Any], field: str
) -> None:
    """A mangled link in an article (``/embed?lat=abc``) must not show riders raw JSON."""
    r = client.get("/embed", params=params)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    config = _config(r.text)
    assert config["center"] is None and "链接中的参数有误" in config["notice"]
    assert field in config["notice"]


def test_a_link_with_one_unknown_amenity_keeps_the_known_ones(client: TestClient) -> None:
    """The page forgives a mangled link; the JSON API beside it still refuses clearly."""
    r = client.get(
        "/embed",
        params={"amenity": ["sauna,热水", "charging"], "open_now": "true", "crs": "GCJ02"},
    )
    assert r.status_code == 200
    config = _config(r.text)
    assert config["selected"] == ["charging", "hot_water"] and config["openNow"] is True
    assert "amenity" in config["notice"] and "crs" not in config["notice"]
    api = client.get("/embed/markers", params={"amenity": "sauna"})
    assert api.status_code == 422
    assert api.headers["content-type"].startswith("application/problem+json")
    assert "amenity" in {e["field"] for e in api.json()["errors"]}


def test_amap_basemap_puts_everything_in_gcj02(store: SqlStationStore) -> None:
    with _client(store, basemap="amap") as client:
        r = client.get("/embed")
        cfg = _config(r.text)
        view = client.get("/embed/markers", params={"zoom": 14, "crs": "gcj02"}).json()
    assert cfg["crs"] == "gcj02" and "autonavi.com" in cfg["basemap"][0]["url"]
    assert "https://webrd01.is.autonavi.com" in r.headers["content-security-policy"]
    first = next(p for p in cfg["markers"]["points"] if p[5] == "荣华中路驿站")
    assert first[1:3] == pytest.approx(list(from_wgs84(116.5068, 39.7954, "gcj02")), abs=1e-6)
    assert first[1:3] != pytest.approx([116.5068, 39.7954], abs=1e-4)  # really shifted
    assert view["points"] == cfg["markers"]["points"]


def test_tianditu_with_its_key_else_osm(store: SqlStationStore) -> None:
    with _client(store, basemap="tianditu") as client:
        keyless = client.get("/embed")
    assert keyless.status_code == 200  # a missing key never takes the page down
    assert _config(keyless.text)["basemap"][0]["url"].startswith("https://tile.openstreetmap.org")
    with _client(store, basemap="tianditu", tianditu_key="abc123") as client:
        r = client.get("/embed")
        cfg = _config(r.text)
    assert cfg["crs"] == "wgs84" and len(cfg["basemap"]) == 2
    assert all("tk=abc123" in layer["url"] for layer in cfg["basemap"])
    assert "https://t0.tianditu.gov.cn" in r.headers["content-security-policy"]


def test_wechat_sdk_offered_only_when_configured(store: SqlStationStore) -> None:
    with _client(store, wechat_app_id="wx1", wechat_app_secret="s") as client:
        cfg = _config(client.get("/embed").text)
        sdk = client.get(cfg["wechat"]["sdk"])
    assert re.fullmatch(r"/assets/[0-9a-f]{10}/app/embed/jweixin-1\.6\.5\.js", cfg["wechat"]["sdk"])
    assert sdk.status_code == 200 and b"window.wx = window.jWeixin" in sdk.content
    assert cfg["wechat"]["config"] == "/api/v1/wechat/jssdk-config"


def test_markers_endpoint_filters_and_bbox(client: TestClient) -> None:
    glon, glat = from_wgs84(116.52, 39.79, "gcj02")
    everything = client.get("/embed/markers", params={"zoom": 12}).json()
    toilets = client.get("/embed/markers", params={"zoom": 12, "amenity": "卫生间"}).json()
    hot = client.get("/embed/markers", params={"zoom": 12, "amenity": "hot_water"}).json()
    box = client.get(
        "/embed/markers",
        params={
            "zoom": 12,
            "crs": "gcj02",
            "bbox": f"{glon - 0.001},{glat - 0.001},{glon + 0.001},{glat + 0.001}",
        },
    ).json()
    bad = client.get("/embed/markers", params={"zoom": 12, "bbox": "1,2,3"})
    assert everything["total"] == 2 and everything["complete"] is True
    assert {p[5] for p in toilets["points"]} == {"荣华中路驿站", XSS}
    assert {p[5] for p in hot["points"]} == {"荣华中路驿站"}
    assert [p[5] for p in box["points"]] == [XSS]
    assert box["points"][0][1:3] == pytest.approx([glon, glat], abs=1e-6)
    assert bad.status_code == 422
    bits = everything["points"][0][4]
    assert bits == amenity_bits(["hot_water", "charging", "toilet"])


@pytest.mark.parametrize(
    ("params", "total"),
    [
        ({"host_type": "bank"}, 0),  # both stations in service are express depots
        ({"host_type": "express_depot"}, 2),
        ({"entry": "code_lock"}, 0),  # neither has an entry method recorded
        ({"no_smartphone_ok": "true"}, 0),
        ({"status": "closed"}, 0),  # the page shows stations in service only
        ({"status": "open,closed"}, 2),
    ],
)
def test_markers_take_every_filter_they_document(
    client: TestClient, params: dict[str, str], total: int
) -> None:
    """Each of the rider's filters narrows the markers as it narrows nearest and the list;
    before, only amenities and open_now did, and the rest were checked and then dropped."""
    view = client.get("/embed/markers", params={"zoom": 12, **params})
    assert view.status_code == 200, view.text
    assert view.json()["total"] == total


def test_the_no_smartphone_flag_is_a_chip_and_a_bit_of_each_marker(store_url: str) -> None:
    """The page filters its inline markers by the flag as by an amenity: one more bit, named
    last in the page's ``bits``; a link can start with the chip pressed."""
    s = SqlStationStore(store_url)
    try:
        s.create(make_station(external_id="Y", no_smartphone_ok=True, amenities=[]), actor="t")
        s.create(make_station(external_id="N", lon=116.51, no_smartphone_ok=False), actor="t")
        with _client(s) as c:
            page = c.get("/embed", params={"no_smartphone_ok": "true"}).text
            rows = c.get("/embed/markers", params={"zoom": 12}).json()["points"]
    finally:
        s.close()
    cfg = _config(page)
    assert cfg["bits"] == [*AMENITIES, "no_smartphone_ok"]
    assert cfg["selected"] == ["no_smartphone_ok"] and cfg["notice"] is None
    assert re.search(r'data-code="no_smartphone_ok" aria-pressed="true">不用手机能进<', page)
    flag = 1 << len(AMENITIES)
    by_id = {p[0]: p[4] for p in cfg["markers"]["points"]}
    assert sorted(by_id.values()) == sorted(p[4] for p in rows)
    flagged = [sid for sid, bits in by_id.items() if bits & flag]
    assert len(flagged) == 1 and by_id[flagged[0]] == flag  # no amenity, only the flag
    assert [p[0] for p in rows if p[4] & flag] == flagged


def test_many_stations_become_clusters_that_add_up(store_url: str) -> None:
    from stations.store.base import ImportPlanRow

    store = SqlStationStore(store_url)
    rows = [
        ImportPlanRow(
            make_station(
                external_id=f"S{i}",
                name=f"驿站{i}",
                lon=116.40 + (i % 30) * 0.004,
                lat=39.70 + (i // 30) * 0.004,
            )
        )
        for i in range(600)
    ]
    store.apply_import(rows, actor="t")
    catalog = StationCatalog(store)
    try:
        view = markers_in_view(catalog, None, 12, embed_filter(), max_points=100)
        assert view["complete"] is False and view["total"] == 600
        assert len(view["points"]) + len(view["clusters"]) < 100
        assert len(view["points"]) + sum(c[2] for c in view["clusters"]) == 600
        # each cluster sits inside the stations' extent
        for x, y, _ in view["clusters"]:
            assert 116.40 <= x <= 116.52 and 39.70 <= y <= 39.78
        close = markers_in_view(
            catalog, (116.40, 39.70, 116.41, 39.71), 16, embed_filter(), max_points=100
        )
        assert close["complete"] is True and len(close["points"]) == close["total"] == 9
    finally:
        store.close()


def test_inline_or_by_view(store: SqlStationStore) -> None:
    from maps.basemaps import get_basemap
    from maps.embed import EmbedRequest, render_embed_page

    catalog = StationCatalog(store)
    osm = get_basemap("osm")
    inline = _config(render_embed_page(catalog, EmbedRequest(), basemap=osm))
    by_view = _config(render_embed_page(catalog, EmbedRequest(), basemap=osm, inline_max=1))
    assert inline["markers"]["complete"] and len(inline["markers"]["points"]) == 2
    assert by_view["markers"] is None and by_view["api"]["tiles"] == "/api/v1/tiles/stations/"


def _first_load(client: TestClient) -> tuple[dict[str, Any], list[Any]]:
    """The embed page's config and the responses of its first load: HTML, every asset it
    names and the nearest list, as the service sends them to a browser that accepts gzip."""
    gz = {"Accept-Encoding": "gzip"}
    page = client.get("/embed", headers=gz)
    cfg = _config(page.text)
    urls = re.findall(r'(?:src|href)="(/assets/[^"]+)"', page.text)
    lon, lat = (sum(b[i] for b in cfg["bounds"]) / 2 for i in (1, 0))
    nearest = client.get(
        "/api/v1/nearest",
        params={"lat": lat, "lon": lon, "k": cfg["k"], "status": "open"},
        headers=gz,
    )
    return cfg, [page, *(client.get(u, headers=gz) for u in urls), nearest]


def test_first_load_within_80_kb_gzip_for_the_demo() -> None:
    """HTML + every asset it names + the nearest list, in bytes on the wire."""
    with TestClient(create_app(Settings(), demo=True)) as client:
        cfg, responses = _first_load(client)
    assert len(cfg["markers"]["points"]) == 93  # the demo's stations in service
    assert all(r.headers["content-encoding"] == "gzip" for r in responses)
    total = sum(r.num_bytes_downloaded for r in responses)
    assert total <= 80 * 1024, f"first load is {total / 1024:.1f} KB gzip"
    # Never more than a tenth above zlib's best level, body by body.
    assert total <= 1.1 * sum(len(gzip.compress(r.content)) for r in responses)


def test_door_photos_add_nothing_to_the_first_load_but_their_links(tmp_path: Any) -> None:
    """Every demo station with the most photos it can show: the first load carries only
    their URLs (the card fetches one thumbnail when a rider opens it) and stays in budget."""
    from stations.demo import load_demo
    from stations.photos.service import MAX_PHOTOS

    store = SqlStationStore("sqlite:///" + str(tmp_path / "demo.db"))
    load_demo(store)
    for station in store.all():
        digests = [hashlib.sha256(f"{station.id}/{k}".encode()).hexdigest() for k in range(9)]
        store.update(station.id, {"photos": digests[:MAX_PHOTOS]}, actor="t")
    with TestClient(create_app(Settings(), store=store)) as client:
        _cfg, responses = _first_load(client)
    store.close()
    listed = responses[-1].json()["features"]
    assert listed and all(len(f["properties"]["photos"]) == MAX_PHOTOS for f in listed)
    assert not any("/photos/" in r.request.url.path for r in responses)
    total = sum(r.num_bytes_downloaded for r in responses)
    assert total <= 80 * 1024, f"first load with photos is {total / 1024:.1f} KB gzip"


def test_crs_round_trip_of_the_centre(store: SqlStationStore) -> None:
    with _client(store, basemap="amap") as client:
        cfg = _config(client.get("/embed", params={"lat": 39.8, "lon": 116.5}).text)
    back = to_wgs84(cfg["center"][1], cfg["center"][0], "gcj02")
    assert back == pytest.approx((116.5, 39.8), abs=1e-6)
