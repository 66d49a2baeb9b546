"""The map routes and ``stations map``: headers, parameters, errors, self-contained files."""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from cli import main
from geodata.crs import from_wgs84
from maps.assets import find_asset
from maps.folium_page import inline_script_hashes
from tests.maps.map_builders import STATIONS, Stores, json_blocks, make_store


@pytest.fixture(scope="module")
def client(module_store_url: str) -> Iterator[TestClient]:
    store = make_store(module_store_url)
    app = create_app(Settings(tianditu_key="k3y", basemap="amap"), store=store)
    with TestClient(app) as c:
        yield c
    store.close()


@pytest.mark.parametrize("path", ["/maps/stations", "/maps/coverage", "/maps/gaps"])
def test_pages_are_html_never_cached_and_their_assets_cacheable(
    client: TestClient, path: str
) -> None:
    r = client.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers["cache-control"] == "no-cache"
    assert json_blocks(r.text)["ws-config"]["crs"] == "gcj02"  # configured default: amap
    # The CSP runs exactly the page's own inline scripts, and loads tiles of its basemaps.
    policy = dict(d.strip().split(" ", 1) for d in r.headers["content-security-policy"].split(";"))
    script_src = policy["script-src"].split()
    assert "'unsafe-inline'" not in script_src and script_src[0] == "'self'"
    assert sorted(script_src[1:]) == sorted(inline_script_hashes(r.text))
    assert len(script_src) >= 3  # folium's switches + the map set-up
    assert "https://webrd01.is.autonavi.com" in policy["img-src"]
    assert "openstreetmap" not in policy["img-src"]  # not a basemap of this (GCJ-02) page
    assets = re.findall(r'(?:src|href)="(/assets/[^"]+)"', r.text)
    assert assets
    for url in assets:
        a = client.get(url)
        assert a.status_code == 200 and "immutable" in a.headers["cache-control"], url


def test_text_assets_go_out_compressed_once_at_the_best_level(client: TestClient) -> None:
    script = find_asset("leaflet/leaflet.js")
    image = find_asset("leaflet/images/layers.png")
    assert script is not None and image is not None
    packed = client.get(script.url, headers={"Accept-Encoding": "gzip"})
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.headers["vary"] == "Accept-Encoding"
    assert int(packed.headers["content-length"]) == len(
        gzip.compress(script.read_bytes(), 9, mtime=0)
    )
    assert packed.content == script.read_bytes()  # httpx decoded it
    plain = client.get(script.url, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.headers["vary"] == "Accept-Encoding"
    assert plain.content == script.read_bytes()
    png = client.get(image.url, headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in png.headers and "vary" not in png.headers
    assert png.content == image.read_bytes()


def test_station_page_parameters(client: TestClient) -> None:
    r = client.get(
        "/maps/stations", params={"basemap": "osm", "amenity": ["热水", "wifi"], "open_now": "true"}
    )
    config = json_blocks(r.text)["ws-config"]
    assert config["crs"] == "wgs84"
    assert config["preset"] == {"amenities": ["hot_water", "wifi"], "open_now": True}
    # status/host_type leave stations out; the amenity preset does not.
    r = client.get("/maps/stations", params={"status": "open", "host_type": "bank"})
    names = [row[5] for row in json_blocks(r.text)["ws-stations"]]  # [id, x, y, state, bits, name]
    assert names == [STATIONS[0]["name"]]
    r = client.get("/maps/stations", params={"basemap": "tianditu"})
    assert "tk=k3y" in r.text and json_blocks(r.text)["ws-config"]["crs"] == "wgs84"


@pytest.mark.parametrize(
    "query, field",
    [
        ({"basemap": "google"}, "basemap"),
        ({"amenity": "jacuzzi"}, "amenity"),
    ],
)
def test_bad_parameters_are_problem_documents(client: TestClient, query: dict, field: str) -> None:
    r = client.get("/maps/stations", params=query)
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["field"] == field


def test_tianditu_without_a_key_is_a_clear_error(map_store: Stores) -> None:
    with TestClient(create_app(Settings(), store=map_store())) as c:
        r = c.get("/maps/stations", params={"basemap": "tianditu"})
        assert r.status_code == 422 and "STATIONS_TIANDITU_KEY" in r.json()["detail"]
        assert c.get("/maps/coverage", params={"radius_m": -5}).status_code == 422


def test_coverage_page_radius_parameter(client: TestClient) -> None:
    r = client.get("/maps/coverage", params={"radius_m": 800, "basemap": "osm"})
    config = json_blocks(r.text)["ws-config"]
    assert config["radius_m"] == 800 and config["kind"] == "coverage"
    assert len(json_blocks(r.text)["ws-analysis"]["sites"]["features"]) == 5  # default
    r = client.get("/maps/gaps", params={"new_sites": 0, "basemap": "osm"})
    assert json_blocks(r.text)["ws-analysis"]["sites"]["features"] == []
    # Only the stations open for business cover anything.
    stations = json_blocks(r.text)["ws-analysis"]["stations"]["features"]
    assert len(stations) == sum(1 for s in STATIONS if s.get("status", "open") == "open")


@pytest.mark.parametrize("kind", ["stations", "coverage", "gaps"])
def test_cli_writes_a_self_contained_file(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    make_store(store_url).close()
    monkeypatch.setenv("STATIONS_DATABASE_URL", store_url)
    out = tmp_path / f"{kind}.html"
    main(["map", "--kind", kind, "-o", str(out), "--basemap", "amap"])
    page = out.read_text(encoding="utf-8")
    assert "/assets/" not in page and not re.search(r"<script[^>]+src=", page)
    assert json_blocks(page)["ws-config"]["crs"] == "gcj02"


def test_cli_refuses_a_non_html_output(
    store_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("STATIONS_DATABASE_URL", store_url)
    with pytest.raises(SystemExit) as exc:
        main(["map", "-o", str(tmp_path / "map.png")])
    assert exc.value.code == 1 and ".html" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["map", "-o", str(tmp_path / "map.html"), "--amenity", "jacuzzi"])
    assert exc.value.code == 1 and "jacuzzi" in capsys.readouterr().err


def test_a_network_above_the_inline_limit_gets_a_page_without_stations(
    new_store_url: Callable[[], str],
) -> None:
    """The tiled page states counts and bounds (in the page's CRS) and the tiles' query; the
    ``status``/``host_type`` filters leave stations out of both, chips preset the tiles."""
    store = make_store(new_store_url())
    app = create_app(Settings(basemap="amap", map_inline_max=2), store=store)
    with TestClient(app) as c:
        page = c.get("/maps/stations", params={"basemap": "amap", "amenity": "toilet"})
        blocks = json_blocks(page.text)
        left_out = json_blocks(
            c.get("/maps/stations", params={"status": "open", "host_type": "bank"}).text
        )
        small = json_blocks(c.get("/maps/stations").text)
        later = json_blocks(c.get("/maps/stations", params={"at": "2026-12-07T22:30"}).text)
    store.close()
    # Asked for an instant, the tiles are coloured at that instant too (local time: +08:00).
    assert later["ws-config"]["tiles"]["query"] == [
        ["crs", "gcj02"],
        ["at", "2026-12-07T22:30:00+08:00"],
    ]
    assert page.status_code == 200 and "ws-stations" not in blocks
    cfg = blocks["ws-config"]
    assert cfg["tiles"]["query"] == [["crs", "gcj02"]] and cfg["tiles"]["total"] == len(STATIONS)
    assert cfg["preset"]["amenities"] == ["toilet"]
    assert cfg["legend"]["title"] == f"驿站 Stations（{len(STATIONS)}）"
    paused = [i for i in cfg["legend"]["items"] if i["label"].startswith("暂停开放")]
    assert paused[0]["label"].endswith("（1）")
    (south, west), (north, east) = cfg["bounds"]
    gx, gy = from_wgs84([s["lon"] for s in STATIONS], [s["lat"] for s in STATIONS], "gcj02")
    # The corners of the WGS-84 box, shifted: tens of metres from the shifted points' box
    # (the shift varies along a box's edge), which is all fitting a view needs.
    assert west == pytest.approx(min(gx), abs=5e-4) and north == pytest.approx(max(gy), abs=5e-4)
    assert abs(west - 116.4899) > 3e-3  # shifted: hundreds of metres off WGS-84
    banks = left_out["ws-config"]["tiles"]
    assert banks["query"] == [["crs", "gcj02"], ["status", "open"], ["host_type", "bank"]]
    assert banks["total"] == sum(
        1 for s in STATIONS if s.get("status", "open") == "open" and s["host_type"] == "bank"
    )
    assert "ws-stations" not in small  # the limit counts every station, filtered or not
