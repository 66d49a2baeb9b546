"""The folium page: no CDN, no leaks into folium's class lists, assets real, data escaped."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import folium
import folium.plugins
import pytest

from maps.analysis_maps import AnalysisData, coverage_map
from maps.assets import find_asset
from maps.basemaps import available_basemaps, get_basemap
from maps.folium_page import LocalMap, json_for_html
from maps.station_map import catalog_hits, station_map_html
from tests.maps.map_builders import Catalogs, json_blocks

_URL = re.compile(r"https?://[^\s\"'<>)\\]+")
_NAV_HOSTS = {"uri.amap.com", "api.map.baidu.com", "apis.map.qq.com"}


def _tile_and_attribution_urls(tianditu_key: str | None = None) -> tuple[set[str], set[str]]:
    tiles, hosts = set(), set()
    for b in available_basemaps(tianditu_key):
        for layer in b.layers:
            tiles.add(layer.url)
            hosts.update(urlsplit(u).hostname for u in _URL.findall(layer.attribution))
    return tiles, hosts


def _external_urls(page: str) -> list[str]:
    # JSON in the page escapes "&" as \u0026; undo it so tile templates compare whole.
    return _URL.findall(page.replace("\\u0026", "&"))


def _folium_lists() -> dict[str, list[tuple[str, str]]]:
    classes = [
        folium.Map,
        folium.plugins.MarkerCluster,
        folium.plugins.FastMarkerCluster,
        folium.Marker,
        folium.GeoJson,
    ]
    out = {}
    for cls in classes:
        for attr in ("default_js", "default_css"):
            out[f"{cls.__name__}.{attr}"] = list(getattr(cls, attr, []))
    return out


def test_pages_reference_no_url_but_tiles_attribution_and_popup_navigation(
    map_catalog: Catalogs,
) -> None:
    hits = catalog_hits(map_catalog())
    tiles, attribution_hosts = _tile_and_attribution_urls("k3y")
    for code in ("osm", "amap", "tianditu"):
        page = station_map_html(hits, get_basemap(code, "k3y"), tianditu_key="k3y")
        urls = _external_urls(page)
        assert urls, "the page should at least carry its tile template"
        for url in urls:
            host = urlsplit(url).hostname
            assert url in tiles or host in attribution_hosts or host in _NAV_HOSTS, url
        # Every asset is linked from the service itself.
        assert not re.search(r'<(script|link)[^>]+(src|href)="(https?:)?//', page)


def test_every_linked_asset_exists(map_catalog: Catalogs) -> None:
    page = station_map_html(catalog_hits(map_catalog()), get_basemap("osm"))
    linked = re.findall(r'(?:src|href)="(/assets/[^"]+)"', page)
    assert len(linked) >= 7
    for url in linked:
        _, _, digest, name = url.split("/", 3)
        asset = find_asset(name)
        assert asset is not None, url
        assert asset.digest == digest  # the URL is of the current file


def test_building_maps_leaves_folium_class_lists_alone(map_catalog: Catalogs) -> None:
    before = _folium_lists()
    hits = catalog_hits(map_catalog())
    first = station_map_html(hits, get_basemap("osm"))
    second = station_map_html(hits, get_basemap("amap"))
    assert _folium_lists() == before
    # A plain folium map built afterwards still gets folium's own defaults…
    plain = folium.Map().get_root().render()
    assert "cdn.jsdelivr.net" in plain
    # …and ours never do, before or after it.
    for page in (first, second, station_map_html(hits, get_basemap("osm"))):
        assert "cdn.jsdelivr.net" not in page and "jquery" not in page.lower()


def test_add_js_link_on_one_local_map_does_not_reach_the_next() -> None:
    one = LocalMap(tiles=None)
    one.add_js_link("extra", "/x.js")
    assert one.default_js == [("extra", "/x.js")]
    assert LocalMap(tiles=None).default_js == [] and LocalMap.default_js == []
    assert folium.Map.default_js[0][0] == "leaflet"


def test_json_blocks_cannot_close_their_script_element() -> None:
    hostile = {"name": "</script><script>alert(1)</script><!--", "amp": "a&b"}
    text = json_for_html(hostile)
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == hostile


def _analysis_data() -> AnalysisData:
    square = {
        "type": "Polygon",
        "coordinates": [
            [[116.50, 39.79], [116.51, 39.79], [116.51, 39.80], [116.50, 39.80], [116.50, 39.79]]
        ],
    }
    return AnalysisData(
        area=square,
        stations={
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"name": "站"},
                    "geometry": {"type": "Point", "coordinates": [116.505, 39.795]},
                }
            ],
        },
        cells={
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"covered": True, "weight": 1.0},
                    "geometry": square,
                }
            ],
        },
        radius_m=500.0,
    )


@pytest.mark.parametrize("kind", ["stations", "coverage"])
def test_inline_page_is_self_contained(map_catalog: Catalogs, kind: str) -> None:
    basemap = get_basemap("osm")
    if kind == "stations":
        page = station_map_html(catalog_hits(map_catalog()), basemap, inline=True)
    else:
        page = coverage_map(_analysis_data(), basemap, inline=True).render()
    assert "/assets/" not in page
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=", page)
    assert "L.markerClusterGroup" in page or "MarkerClusterGroup" in page  # inlined library
    # Leaflet's CSS images became data: URIs.
    assert "url(images/" not in page and 'url("data:image/png;base64,' in page
    assert json_blocks(page)["ws-config"]["basemap_links"] == []  # no pages to link offline


def test_station_text_is_never_compiled_as_a_template() -> None:
    """branca compiles macro output as Jinja: ``{{ 7*7 }}`` must stay text (it was SSTI)."""
    from maps.folium_page import JsonBlock, ScriptCall, ScriptLayer, base_page, render

    payload = "{{ 7*7 }}{% if true %}x{% endif %}{{ self.__init__.__globals__ }}"
    figure, m = base_page([get_basemap("osm")], title=payload)
    JsonBlock("ws-test", {"name": payload}).add_to(m)
    ScriptCall("WarmMap.noop", {"name": payload}).add_to(m)
    ScriptLayer("WarmMap.layer", {"name": payload}, name="层").add_to(m)
    html = render(figure)
    assert "49x" not in html
    assert html.count("{{ 7*7 }}") >= 3
    assert "__globals__" in html and "<function" not in html
