"""The network map page: Leaflet draws the stations from vector tiles (Leaflet.VectorGrid).

The page carries no station data at all, so its weight is the same for 98 stations or
200,000; the browser fetches only the tiles in view (clustered below zoom 13). Every script
is served by the service (Leaflet from XStatic, VectorGrid vendored from npm); settings go in
a JSON data block, so the page runs under ``script-src 'self'`` with no inline script.
"""

from __future__ import annotations

import html
import json

from maps.assets import asset_url
from maps.basemaps import Basemap

__all__ = ["render_tile_page"]


def render_tile_page(
    basemap: Basemap, tile_url: str, *, center: tuple[float, float], zoom: int
) -> str:
    """The HTML of the map (``tile_url`` has ``{z}/{x}/{y}`` and the basemap's ``crs``)."""
    config = {
        "basemap": [
            {"url": t.url, "subdomains": t.subdomains or "abc", "attribution": t.attribution}
            for t in basemap.layers
        ],
        "tiles": tile_url,
        "center": [center[1], center[0]],
        "zoom": zoom,
        "crs": basemap.crs,
    }
    data = json.dumps(config, ensure_ascii=False).replace("</", "<\\/")
    return f"""<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>暖心驿站网络地图 Warm Stations network map</title>
<link rel="stylesheet" href="{html.escape(asset_url("leaflet/leaflet.css"))}">
<style>html, body, #map {{ height: 100%; margin: 0; }}</style>
</head>
<body>
<div id="map" aria-label="驿站地图 station map"></div>
<script type="application/json" id="tile-config">{data}</script>
<script src="{html.escape(asset_url("leaflet/leaflet.js"))}"></script>
<script src="{html.escape(asset_url("app/vendor/vectorgrid/Leaflet.VectorGrid.bundled.min.js"))}"></script>
<script src="{html.escape(asset_url("app/map/tiles.js"))}"></script>
</body>
</html>
"""
