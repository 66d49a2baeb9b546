"""The station map page: rows in the basemap's CRS, popup details, presets, escaping, weight."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from geodata.crs import from_wgs84
from geodata.distance import geodesic_m
from maps.basemaps import get_basemap
from maps.station_map import (
    STATE_STYLES,
    amenity_mask,
    catalog_hits,
    station_map_html,
    station_state,
)
from stations.errors import ValidationFailed
from stations.navigation import navigation_links
from stations.vocabulary import AMENITIES
from tests.maps.map_builders import STATIONS, XSS, Catalogs, json_blocks, make_store

NOON = datetime(2026, 11, 24, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
OFFICE = {
    "name": "经海路邮政驿站",
    "lon": 116.5400,
    "lat": 39.7900,
    "opening_hours": "Mo-Su 09:00-17:00",
    "amenities": ["toilet"],
    "host_type": "other",
}
ROW = ("id", "x", "y", "state", "bits", "name")


def _page(map_catalog: Catalogs, basemap: str = "osm", specs: list | None = None, **options):
    hits = catalog_hits(map_catalog(specs), at=NOON)
    html = station_map_html(hits, get_basemap(basemap), at=NOON, **options)
    return html, json_blocks(html)


def _rows(blocks: dict) -> dict[str, dict]:
    """The page's marker rows by station name, as dicts."""
    return {r[5]: dict(zip(ROW, r, strict=True)) for r in blocks["ws-stations"]}


def _codes(bits: int, config: dict) -> list[str]:
    return [c for i, c in enumerate(config["amenity_bits"]) if bits >> i & 1]


def test_amap_page_draws_stations_in_gcj02_and_osm_page_in_wgs84(map_catalog: Catalogs) -> None:
    _, osm = _page(map_catalog, "osm")
    _, amap = _page(map_catalog, "amap")
    wgs = np.array([[s["lon"], s["lat"]] for s in STATIONS])
    on_osm = np.array([[r[1], r[2]] for r in osm["ws-stations"]])
    on_amap = np.array([[r[1], r[2]] for r in amap["ws-stations"]])
    np.testing.assert_allclose(on_osm, wgs, atol=1e-6)  # 6 decimals, ~10 cm
    gx, gy = from_wgs84(wgs[:, 0], wgs[:, 1], "gcj02")
    np.testing.assert_allclose(on_amap, np.column_stack([gx, gy]), atol=1e-6)
    shift = geodesic_m(wgs[:, 0], wgs[:, 1], on_amap[:, 0], on_amap[:, 1])
    assert np.all((shift > 100) & (shift < 700))  # the classic E-Town offset
    assert osm["ws-config"]["crs"] == "wgs84" and amap["ws-config"]["crs"] == "gcj02"
    # Map bounds follow the drawn coordinates.
    (south, west), (north, east) = amap["ws-config"]["bounds"]
    assert (west, south, east, north) == pytest.approx(
        (gx.min(), gy.min(), gx.max(), gy.max()), abs=1e-6
    )


def test_rows_carry_state_amenities_and_name_and_nothing_heavier(map_catalog: Catalogs) -> None:
    html, blocks = _page(map_catalog, "amap")
    config, rows = blocks["ws-config"], _rows(blocks)
    assert list(rows) == [s["name"] for s in STATIONS]
    want = {
        "荣华中路驿站": "open",
        "科创街快递驿站": "open",
        "博兴路工会驿站": "paused",
        "地盛北街驿站": "unknown",
    }
    for name, state in want.items():
        assert config["row_states"][rows[name]["state"]] == state
    for s in STATIONS:
        assert _codes(rows[s["name"]]["bits"], config) == [
            c for c in AMENITIES if c in s["amenities"]
        ]
    assert config["amenity_bits"] == list(AMENITIES)
    assert config["row_states"] == list(STATE_STYLES)
    # A served page leaves popup details (and their navigation links) to the API.
    assert "ws-details" not in blocks
    assert "北京银行亦庄支行" not in html and "uri.amap.com" not in html
    assert config["details"] == {"url": "/api/v1/stations/", "crs": "gcj02", "at": NOON.isoformat()}


def test_amenity_mask_is_one_bit_per_code_in_vocabulary_order() -> None:
    assert amenity_mask([]) == 0
    assert amenity_mask(["drinking_water"]) == 1
    assert amenity_mask(["hot_water", "reading"]) == 2 | 1 << (len(AMENITIES) - 1)
    assert amenity_mask(AMENITIES) == (1 << len(AMENITIES)) - 1
    with pytest.raises(KeyError):
        amenity_mask(["jacuzzi"])


@pytest.fixture(scope="module")
def client(module_store_url: str) -> Iterator[TestClient]:
    store = make_store(module_store_url, [*STATIONS, OFFICE])
    with TestClient(create_app(Settings(), store=store)) as c:
        yield c
    store.close()


@pytest.mark.parametrize("basemap", ["osm", "amap"])
def test_the_details_a_popup_asks_for_agree_with_its_marker(
    client: TestClient, basemap: str
) -> None:
    """Every row's details, fetched as the page does, match the row (and the station)."""
    blocks = json_blocks(
        client.get(
            "/maps/stations", params={"basemap": basemap, "at": "2026-11-24T03:30:00+08:00"}
        ).text
    )
    config = blocks["ws-config"]
    assert config["details"]["at"] == "2026-11-24T03:30:00+08:00"
    specs = {s["name"]: s for s in [*STATIONS, OFFICE]}
    states = set()
    for row in blocks["ws-stations"]:
        r = client.get(
            config["details"]["url"] + str(row[0]),
            params={"crs": config["details"]["crs"], "at": config["details"]["at"]},
        )
        assert r.status_code == 200
        p = r.json()["properties"]
        state = config["row_states"][row[3]]
        states.add(state)
        assert station_state(p["status"], p["open_now"]) == state  # badge == marker colour
        assert (p["id"], p["name"]) == (row[0], row[5])
        assert r.json()["geometry"]["coordinates"] == pytest.approx(row[1:3], abs=1e-6)
        s = specs[p["name"]]
        assert p["navigation"] == navigation_links(s["lon"], s["lat"], s["name"], p["address"])
    assert states == {"open", "shut", "paused", "unknown"}  # at 03:30 the office is shut


def test_offline_file_inlines_every_popup_with_navigation_in_each_apps_crs(
    map_catalog: Catalogs,
) -> None:
    html, blocks = _page(map_catalog, "amap", inline=True)
    assert blocks["ws-config"]["details"] is None
    details = blocks["ws-details"]
    assert sorted(details) == sorted(str(r[0]) for r in blocks["ws-stations"])
    by_name = {p["name"]: p for p in details.values()}
    first = by_name["荣华中路驿站"]
    assert first["host_org"] == "北京银行亦庄支行" and first["host_type"] == "bank"
    assert first["amenities"] == ["hot_water", "charging", "toilet"]
    assert first["open_now"] is True and first["phone"] == "010-67850392"
    # Navigation links are computed from WGS-84 whatever the page CRS (each app's own CRS).
    s = STATIONS[0]
    assert first["navigation"] == navigation_links(s["lon"], s["lat"], s["name"], first["address"])
    assert by_name["地盛北街驿站"]["open_now"] is None
    assert by_name["博兴路工会驿站"]["status"] == "temporarily_closed"
    assert "updated_at" not in first  # only what popups show
    config = blocks["ws-config"]
    assert config["amenities"]["hot_water"] == "热水" and config["host_types"]["bank"] == "银行网点"


def test_legend_counts_each_marker_state(map_catalog: Catalogs) -> None:
    _, blocks = _page(map_catalog)
    labels = [item["label"] for item in blocks["ws-config"]["legend"]["items"]]
    assert labels[0].startswith("开放中") and labels[0].endswith("（2）")
    assert any(lab.startswith("时间未知") and lab.endswith("（1）") for lab in labels)
    assert any(lab.startswith("暂停开放") and lab.endswith("（1）") for lab in labels)
    assert "2026-11-24 12:00 (Asia/Shanghai)" in blocks["ws-config"]["legend"]["notes"][0]


def test_states_put_status_before_hours() -> None:
    assert station_state("open", True) == "open"
    assert station_state("open", False) == "shut"
    assert station_state("open", None) == "unknown"
    assert station_state("temporarily_closed", True) == "paused"
    assert station_state("closed", None) == "retired"


def test_presets_check_chips_but_keep_every_station(map_catalog: Catalogs) -> None:
    _, blocks = _page(map_catalog, amenities=["hot_water", "hot_water"], open_now=True)
    assert blocks["ws-config"]["preset"] == {"amenities": ["hot_water"], "open_now": True}
    assert len(blocks["ws-stations"]) == len(STATIONS)
    with pytest.raises(ValidationFailed, match="unknown amenity"):
        _page(map_catalog, amenities=["jacuzzi"])


@pytest.mark.parametrize("inline", [False, True])
def test_user_text_never_reaches_the_html_as_markup(map_catalog: Catalogs, inline: bool) -> None:
    html, blocks = _page(map_catalog, specs=[{**STATIONS[0], **XSS}], inline=inline)
    for value in XSS.values():
        assert value not in html
    data = "".join(
        re.findall(r'<script type="application/json" id="[^"]+">(.*?)</script>', html, re.S)
    )
    assert "<" not in data and ">" not in data and "window.__xss" in data
    assert blocks["ws-stations"][0][5] == XSS["name"]  # …yet the data round-trips exactly
    if inline:
        props = next(iter(blocks["ws-details"].values()))
        assert {k: props[k] for k in XSS} == XSS


def test_empty_catalog_still_renders_a_map(map_catalog: Catalogs) -> None:
    html, blocks = _page(map_catalog, specs=[])
    assert blocks["ws-stations"] == [] and blocks["ws-config"]["bounds"] is None
    assert "WarmMap.stationLayer" in html
