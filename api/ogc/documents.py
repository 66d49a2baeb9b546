"""The JSON documents of the OGC API – Features endpoint (landing, conformance, collections).

Kept apart from the routes so the routes stay thin (parse, call, format) and the HTML pages
in ``api/ogc/html.py`` render exactly these documents, never a second copy of their content.
Every ``href`` is absolute: QGIS and OWSLib follow links as given, and a relative link breaks
behind a proxy (``Settings.public_url``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from stations.model import Station

__all__ = [
    "COLLECTION_ID",
    "CONFORMANCE",
    "TILES_CONFORMANCE",
    "CRS84",
    "GEOJSON",
    "HTML",
    "JSON",
    "OPENAPI_30",
    "OPENAPI_31",
    "collection_document",
    "collections_document",
    "conformance_document",
    "data_extent",
    "landing_document",
    "link",
]

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
COLLECTION_ID = "stations"
JSON = "application/json"
GEOJSON = "application/geo+json"
HTML = "text/html"
# The exact media types OWSLib's ``API.api()`` looks for on ``service-desc`` links.
OPENAPI_30 = "application/vnd.oai.openapi+json;version=3.0"
OPENAPI_31 = "application/vnd.oai.openapi+json;version=3.1"

_CONF = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
#: Conformance classes of OGC API – Features – Part 1 this service implements.
CONFORMANCE: tuple[str, ...] = tuple(_CONF + c for c in ("core", "geojson", "html", "oas30"))
#: OGC API – Tiles (the stations' vector tiles, ``api.ogc.tiles``).
TILES_CONFORMANCE: tuple[str, ...] = tuple(
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/" + c
    for c in ("core", "tileset", "tilesets-list", "geodata-tilesets", "mvt")
)

_TITLE = "暖心驿站地图 Warm Stations"
_DESCRIPTION = (
    "Rest stations for outdoor workers (户外劳动者暖心驿站): hot water, charging, "
    "toilets and a seat for delivery riders, couriers and sanitation workers."
)
_COLLECTION_TITLE = "暖心驿站 Warm stations"
_COLLECTION_DESCRIPTION = (
    "Every live station as a point in WGS-84 longitude/latitude "
    "(CRS84), with its amenities, opening hours and whether it is open "
    "now (Asia/Shanghai local time)."
)


def link(href: str, rel: str, media_type: str, title: str | None = None) -> dict[str, str]:
    """One OGC link object; ``title`` only when given (clients show it as the label)."""
    out = {"href": href, "rel": rel, "type": media_type}
    if title:
        out["title"] = title
    return out


def _self_links(href: str, fmt: str, title: str) -> list[dict[str, str]]:
    """``self`` in the format served and ``alternate`` in the other one."""
    own, other = (HTML, JSON) if fmt == "html" else (JSON, HTML)
    other_f = "json" if fmt == "html" else "html"
    return [
        link(_with_f(href, fmt), "self", own, f"{title} (this document)"),
        link(_with_f(href, other_f), "alternate", other, f"{title} as {other_f.upper()}"),
    ]


def _with_f(href: str, fmt: str) -> str:
    return f"{href}{'&' if '?' in href else '?'}f={fmt}"


def landing_document(root: str, site: str, fmt: str, *, docs_url: str | None) -> dict[str, Any]:
    """The landing page: where a client finds the API definition, conformance and data.

    ``root`` is the absolute URL of ``/ogc``; ``site`` that of the application (the OpenAPI
    documents live at the site level, ``/ogc/api`` being the 3.0 rendering of the same).
    """
    links = _self_links(root, fmt, "Landing page")
    links += [
        link(f"{root}/api", "service-desc", OPENAPI_30, "API definition (OpenAPI 3.0)"),
        link(
            f"{site}/openapi.json",
            "service-desc",
            OPENAPI_31,
            "API definition (OpenAPI 3.1, as FastAPI generates it)",
        ),
    ]
    if docs_url:
        links.append(link(f"{site}{docs_url}", "service-doc", HTML, "API documentation"))
    links += [
        link(f"{root}/conformance", "conformance", JSON, "Conformance classes"),
        link(f"{root}/collections", "data", JSON, "Collections"),
    ]
    return {"title": _TITLE, "description": _DESCRIPTION, "links": links}


def conformance_document(root: str, fmt: str) -> dict[str, Any]:
    return {
        "conformsTo": [*CONFORMANCE, *TILES_CONFORMANCE],
        "links": _self_links(f"{root}/conformance", fmt, "Conformance"),
    }


def data_extent(stations: Sequence[Station]) -> tuple[float, float, float, float] | None:
    """The stations' bounding box (west, south, east, north) in degrees; None when empty.

    A plain min/max: stations of one network never straddle the antimeridian.
    """
    if not stations:
        return None
    lon = np.fromiter((s.data.lon for s in stations), float, len(stations))
    lat = np.fromiter((s.data.lat for s in stations), float, len(stations))
    return float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())


def collection_document(
    root: str, fmt: str, extent: tuple[float, float, float, float] | None
) -> dict[str, Any]:
    """The ``stations`` collection.

    The extent is spatial only: stations have no time dimension, so ``temporal`` is left out
    (the OGC schema allows omitting it; ``null`` would not validate). An empty catalog has
    no extent at all.
    """
    href = f"{root}/collections/{COLLECTION_ID}"
    links = _self_links(href, fmt, _COLLECTION_TITLE)
    links += [
        link(f"{href}/items", "items", GEOJSON, "Stations as GeoJSON"),
        link(f"{href}/items?f=html", "items", HTML, "Stations as an HTML table"),
    ]
    doc: dict[str, Any] = {
        "id": COLLECTION_ID,
        "title": _COLLECTION_TITLE,
        "description": _COLLECTION_DESCRIPTION,
        "itemType": "feature",
        "crs": [CRS84],
        "links": links,
    }
    if extent is not None:
        doc["extent"] = {"spatial": {"bbox": [[round(v, 7) for v in extent]], "crs": CRS84}}
    return doc


def collections_document(
    root: str, fmt: str, extent: tuple[float, float, float, float] | None
) -> dict[str, Any]:
    # The nested collection keeps its own JSON links: they point at the collection itself.
    return {
        "links": _self_links(f"{root}/collections", fmt, "Collections"),
        "collections": [collection_document(root, "json", extent)],
    }
