"""The network map page: Leaflet draws the stations from vector tiles (Leaflet.VectorGrid).

The page carries no station data at all, so its weight is the same for 98 stations or
200,000; the browser fetches only the tiles in view (clustered below zoom 13). Every script
is served by the service (Leaflet from XStatic, VectorGrid vendored from npm); settings go in
a JSON data block, so the page runs under ``script-src 'self'`` with no inline script.
"""

from __future__ import annotations

import html
import json

import numpy as np

from geodata.crs import from_wgs84
from maps.assets import asset_url
from maps.basemaps import Basemap

__all__ = ["leaflet_bounds", "render_tile_page"]


def leaflet_bounds(
    lon: np.ndarray, lat: np.ndarray, keep: np.ndarray | None, crs: str
) -> list[list[float]] | None:
    """``[[south, west], [north, east]]`` in ``crs`` of the WGS-84 points in ``keep`` (None:
    all), from arrays: a tiled page's view of 200,000 stations without a walk over them.
    The corners of the WGS-84 box are shifted, not every point (tens of metres off the
    shifted points' box, as the shift varies along an edge: enough to fit a view). None when there are none."""
    if keep is not None:
        lon, lat = lon[keep], lat[keep]
    if lon.size == 0:
        return None
    x, y = from_wgs84(np.array([lon.min(), lon.max()]), np.array([lat.min(), lat.max()]), crs)
    xs, ys = np.asarray(x, float).tolist(), np.asarray(y, float).tolist()
    return [[round(ys[0], 6), round(xs[0], 6)], [round(ys[1], 6), round(xs[1], 6)]]


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
