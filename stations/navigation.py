"""Links that open a station in the map apps riders use, each in the CRS that app expects.

AMap (Gaode) and Tencent take GCJ-02; Baidu takes BD-09 (``coord_type=bd09ll``). Handing
them WGS-84 puts the pin 100–700 m off in China — the classic mistake.

Links are built for a whole result page at once (one vectorised CRS conversion), because
per-station scalar conversions were 90 % of a nearest request's time.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from geodata.crs import gcj02_to_bd09, wgs84_to_gcj02

__all__ = [
    "links_at",
    "navigation_coords",
    "navigation_links",
    "navigation_links_many",
    "quote",
]

#: One station's points for the apps: GCJ-02 lon, lat, then BD-09 lon, lat.
AppCoords = tuple[float, float, float, float]

_APP = "warm-stations"
# urllib's always-safe characters; with ``safe=""`` nothing else passes unescaped.
_UNRESERVED = "A-Za-z0-9_.~-"
_RUNS = re.compile(f"[{_UNRESERVED}]+|[^{_UNRESERVED}]+")


def quote(text: str) -> str:
    """``urllib.parse.quote(text, safe="")``, a run of escaped bytes at a time.

    Why: urllib looks each UTF-8 byte up in a dict in a Python loop, and a Chinese name
    and address are ~100 bytes, three times per station (a third of rendering a nearest
    answer's station when the national working set overflows the feature cache). Here a
    run of characters to escape becomes ``%XX`` in one ``bytes.hex`` call.
    """
    if not text:
        return text
    out = []
    for run in _RUNS.findall(text):
        if run[0] in _SAFE_CHARS:
            out.append(run)
        else:
            out.append("%" + run.encode("utf-8").hex("%").upper())
    return "".join(out)


_SAFE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.~-")


def navigation_coords(
    lon: Sequence[float] | np.ndarray, lat: Sequence[float] | np.ndarray
) -> np.ndarray:
    """The apps' points of WGS-84 points, one row each: GCJ-02 lon, lat, BD-09 lon, lat.

    One vectorised conversion for any number of points. The station catalog keeps these
    rows per snapshot (a rider's answer then converts nothing); they are element-wise, so a
    row computed among 200,000 equals the same point converted alone.
    """
    lon_a = np.asarray(lon, dtype=float)
    lat_a = np.asarray(lat, dtype=float)
    g_lon, g_lat = wgs84_to_gcj02(lon_a, lat_a)
    b_lon, b_lat = gcj02_to_bd09(g_lon, g_lat)  # BD-09 is defined on top of GCJ-02
    return np.column_stack((g_lon, g_lat, b_lon, b_lat)).reshape(lon_a.size, 4)


def navigation_links_many(
    lon: Sequence[float] | np.ndarray,
    lat: Sequence[float] | np.ndarray,
    names: Sequence[str],
    addresses: Sequence[str],
) -> list[dict[str, str]]:
    """``[{"amap": url, "baidu": url, "tencent": url}, …]`` for WGS-84 points."""
    if len(names) == 0:
        return []
    rows = navigation_coords(lon, lat).tolist()
    return links_at(rows, names, addresses)  # type: ignore[arg-type]


def links_at(
    coords: Sequence[AppCoords], names: Sequence[str], addresses: Sequence[str]
) -> list[dict[str, str]]:
    """The links of stations whose app points (:func:`navigation_coords` rows) are known."""
    out = []
    for (gx, gy, bx, by), name, address in zip(coords, names, addresses, strict=True):
        n = quote(name)
        a = quote(address or name)
        out.append(
            {
                "amap": f"https://uri.amap.com/marker?position={gx:.6f}%2C{gy:.6f}&name={n}"
                f"&src={_APP}&coordinate=gaode&callnative=1",
                "baidu": f"https://api.map.baidu.com/marker?location={by:.6f}%2C{bx:.6f}"
                f"&title={n}&content={a}&output=html&coord_type=bd09ll&src={_APP}",
                "tencent": "https://apis.map.qq.com/uri/v1/marker?marker="
                + quote(f"coord:{gy:.6f},{gx:.6f};title:{name};addr:{address or name}")
                + f"&referer={_APP}",
            }
        )
    return out


def navigation_links(lon: float, lat: float, name: str, address: str = "") -> dict[str, str]:
    """The links for one WGS-84 point."""
    return navigation_links_many([lon], [lat], [name], [address])[0]
