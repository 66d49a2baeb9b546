"""Basemaps: which exist, in which CRS, chosen by request or configuration."""

from __future__ import annotations

import pytest

from maps.basemaps import available_basemaps, choose_basemap, get_basemap, same_crs
from stations.errors import ValidationFailed


def test_each_basemap_declares_the_crs_its_tiles_use() -> None:
    assert get_basemap("osm").crs == "wgs84"
    assert get_basemap("amap").crs == "gcj02"
    assert get_basemap("tianditu", "k3y").crs == "wgs84"
    amap = get_basemap("amap").layers[0]
    assert "webrd0{s}.is.autonavi.com" in amap.url and amap.subdomains == "1234"


def test_tianditu_is_left_out_without_a_key_and_carries_the_key_with_one() -> None:
    assert "tianditu" not in {b.code for b in available_basemaps(None)}
    tdt = get_basemap("tianditu", "a b&c")
    assert [("vec_w" in s.url, "cva_w" in s.url) for s in tdt.layers] == [
        (True, False),
        (False, True),
    ]
    assert all(s.url.endswith("tk=a%20b%26c") for s in tdt.layers)  # the key is URL-quoted
    with pytest.raises(ValidationFailed, match="STATIONS_TIANDITU_KEY") as err:
        get_basemap("tianditu", None)
    assert err.value.errors[0].field == "basemap"


def test_unknown_basemap_lists_the_valid_ones() -> None:
    with pytest.raises(ValidationFailed, match="osm, amap, tianditu"):
        get_basemap("google")


def test_request_beats_configuration_and_a_keyless_configured_tianditu_falls_back() -> None:
    assert choose_basemap("amap", "osm").code == "amap"
    assert choose_basemap(None, "amap").code == "amap"
    assert choose_basemap(None, "tianditu", None).code == "osm"
    assert choose_basemap(None, "tianditu", "k").code == "tianditu"
    with pytest.raises(ValidationFailed):
        choose_basemap("tianditu", "osm", None)


def test_layer_control_offers_only_basemaps_of_the_page_crs() -> None:
    osm_page = same_crs(get_basemap("osm"), "k")
    assert [b.code for b in osm_page] == ["osm", "tianditu"]
    amap_page = same_crs(get_basemap("amap"), "k")
    assert amap_page[0].code == "amap" and {b.crs for b in amap_page} == {"gcj02"}
    assert len(amap_page) == 2  # vector + satellite
