"""Links that open a station in the map apps riders use, each in the CRS that app expects.

AMap (Gaode) and Tencent take GCJ-02; Baidu takes BD-09 (``coord_type=bd09ll``). Handing
them WGS-84 puts the pin 100–700 m off in China — the classic mistake.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from geodata.crs import from_wgs84

__all__ = ["navigation_links"]

_APP = "warm-stations"


def navigation_links(lon: float, lat: float, name: str, address: str = "") -> dict[str, str]:
    """``{"amap": url, "baidu": url, "tencent": url}`` for a WGS-84 point."""
    g_lon, g_lat = from_wgs84(lon, lat, "gcj02")
    b_lon, b_lat = from_wgs84(lon, lat, "bd09")
    amap = "https://uri.amap.com/marker?" + urlencode(
        {"position": f"{g_lon:.6f},{g_lat:.6f}", "name": name, "src": _APP,
         "coordinate": "gaode", "callnative": 1}, quote_via=quote)
    baidu = "https://api.map.baidu.com/marker?" + urlencode(
        {"location": f"{b_lat:.6f},{b_lon:.6f}", "title": name, "content": address or name,
         "output": "html", "coord_type": "bd09ll", "src": _APP}, quote_via=quote)
    tencent = "https://apis.map.qq.com/uri/v1/marker?" + urlencode(
        {"marker": f"coord:{g_lat:.6f},{g_lon:.6f};title:{name};addr:{address or name}",
         "referer": _APP}, quote_via=quote)
    return {"amap": amap, "baidu": baidu, "tencent": tencent}
