"""The station map page: data in the basemap's CRS, popup data, presets, escaping."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from geodata.crs import from_wgs84
from geodata.distance import geodesic_m
from maps.basemaps import get_basemap
from maps.station_map import catalog_hits, station_map_html, station_state
from stations.errors import ValidationFailed
from stations.navigation import navigation_links
from tests.maps.map_builders import STATIONS, XSS, json_blocks, make_catalog

NOON = datetime(2026, 11, 24, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def _page(tmp_path: Path, basemap: str = "osm", specs: list | None = None, **options):
    hits = catalog_hits(make_catalog(tmp_path, specs), at=NOON)
    html = station_map_html(hits, get_basemap(basemap), at=NOON, **options)
    return html, json_blocks(html)


def _coords(blocks: dict) -> np.ndarray:
    return np.array([f["geometry"]["coordinates"] for f in blocks["ws-stations"]["features"]])


def test_amap_page_draws_stations_in_gcj02_and_osm_page_in_wgs84(tmp_path: Path) -> None:
    _, osm = _page(tmp_path, "osm")
    _, amap = _page(tmp_path, "amap")
    wgs = np.array([[s["lon"], s["lat"]] for s in STATIONS])
    np.testing.assert_allclose(_coords(osm), wgs, atol=1e-7)
    gx, gy = from_wgs84(wgs[:, 0], wgs[:, 1], "gcj02")
    np.testing.assert_allclose(_coords(amap), np.column_stack([gx, gy]), atol=1e-7)
    shift = geodesic_m(wgs[:, 0], wgs[:, 1], _coords(amap)[:, 0], _coords(amap)[:, 1])
    assert np.all((shift > 100) & (shift < 700))  # the classic E-Town offset
    assert osm["ws-config"]["crs"] == "wgs84" and amap["ws-config"]["crs"] == "gcj02"
    # Map bounds follow the drawn coordinates.
    (south, west), (north, east) = amap["ws-config"]["bounds"]
    assert (west, south, east, north) == pytest.approx(
        (gx.min(), gy.min(), gx.max(), gy.max()))


def test_popup_data_comes_from_the_feature_formatter_with_navigation(tmp_path: Path) -> None:
    _, blocks = _page(tmp_path, "amap")
    by_name = {f["properties"]["name"]: f["properties"]
               for f in blocks["ws-stations"]["features"]}
    first = by_name["荣华中路驿站"]
    assert first["host_org"] == "北京银行亦庄支行" and first["host_type"] == "bank"
    assert first["amenities"] == ["hot_water", "charging", "toilet"]
    assert first["open_now"] is True and first["phone"] == "010-67850392"
    # Navigation links are computed from WGS-84 whatever the page CRS (each app's own CRS).
    s = STATIONS[0]
    assert first["navigation"] == navigation_links(s["lon"], s["lat"], s["name"],
                                                   "北京市大兴区荣华中路10号")
    assert by_name["地盛北街驿站"]["open_now"] is None
    assert by_name["博兴路工会驿站"]["status"] == "temporarily_closed"
    assert "updated_at" not in first  # only what popups show
    config = blocks["ws-config"]
    assert config["amenities"]["hot_water"] == "热水" and config["host_types"]["bank"] == "银行网点"


def test_legend_counts_each_marker_state(tmp_path: Path) -> None:
    _, blocks = _page(tmp_path)
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


def test_presets_check_chips_but_keep_every_station(tmp_path: Path) -> None:
    _, blocks = _page(tmp_path, amenities=["hot_water", "hot_water"], open_now=True)
    assert blocks["ws-config"]["preset"] == {"amenities": ["hot_water"], "open_now": True}
    assert len(blocks["ws-stations"]["features"]) == len(STATIONS)
    with pytest.raises(ValidationFailed, match="unknown amenity"):
        _page(tmp_path, amenities=["jacuzzi"])


def test_user_text_never_reaches_the_html_as_markup(tmp_path: Path) -> None:
    html, blocks = _page(tmp_path, specs=[{**STATIONS[0], **XSS}])
    for value in XSS.values():
        assert value not in html
    assert "<img" not in html and "<svg" not in html and "window.__xss" in html
    props = blocks["ws-stations"]["features"][0]["properties"]
    assert {k: props[k] for k in XSS} == XSS  # …yet the data round-trips exactly


def test_empty_catalog_still_renders_a_map(tmp_path: Path) -> None:
    html, blocks = _page(tmp_path, specs=[])
    assert blocks["ws-stations"]["features"] == [] and blocks["ws-config"]["bounds"] is None
    assert "WarmMap.stationLayer" in html
