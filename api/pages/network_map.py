"""``/maps/network``: every station from vector tiles, fast at any station count."""

from __future__ import annotations

import math

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import SettingsDep, TilesDep, base_url
from api.http.security_headers import content_security_policy
from api.pages.maps import BasemapQuery, _basemap
from geodata.crs import from_wgs84
from maps.basemaps import same_crs
from maps.tile_page import render_tile_page

__all__ = ["router"]

router = APIRouter(prefix="/maps", tags=["maps"])


def _view(lon: np.ndarray, lat: np.ndarray) -> tuple[tuple[float, float], int]:
    """Centre and zoom showing the middle 90 % of the stations (Beijing when none)."""
    if lon.size == 0:
        return (116.4, 39.9), 10
    west, east = np.percentile(lon, [5, 95])
    south, north = np.percentile(lat, [5, 95])
    span = max(east - west, (north - south) * 1.3, 0.01)
    zoom = int(max(3, min(15, math.floor(math.log2(360 / span)))))
    return (float((west + east) / 2), float((south + north) / 2)), zoom


@router.get(
    "/network",
    response_class=HTMLResponse,
    summary="Network map from vector tiles (clustered; any number of stations) (HTML)",
)
def network_map(
    request: Request, settings: SettingsDep, tiles: TilesDep, basemap: BasemapQuery = None
) -> HTMLResponse:
    chosen = _basemap(basemap, settings)
    index = tiles.index()
    center, zoom = _view(index.lon, index.lat)
    if chosen.crs != "wgs84":
        x, y = from_wgs84([center[0]], [center[1]], chosen.crs)
        center = (float(x[0]), float(y[0]))
    tile_url = (
        base_url(request, settings) + "/api/v1/tiles/stations/{z}/{x}/{y}.mvt?crs=" + chosen.crs
    )
    html = render_tile_page(chosen, tile_url, center=center, zoom=zoom)
    # The page has no inline script, so unlike the folium pages (api.pages.maps) its policy
    # needs no script hashes, and the first request does not pay for importing folium.
    tiles_from = [o for b in same_crs(chosen, settings.tianditu_key) for o in b.tile_origins()]
    policy = content_security_policy(request.url.path, settings).replace(
        "img-src 'self' data:", "img-src 'self' data: " + " ".join(dict.fromkeys(tiles_from)), 1
    )
    headers = {"Cache-Control": "no-cache", "Content-Security-Policy": policy}
    return HTMLResponse(html, headers=headers)
