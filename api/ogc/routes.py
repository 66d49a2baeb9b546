"""OGC API – Features (Part 1: Core, GeoJSON, HTML, OpenAPI 3.0) at ``/ogc``.

So QGIS, ArcGIS and OWSLib add the stations as a live layer. One collection, ``stations``,
served from the in-memory catalog like ``/api/v1/stations``, through the same GeoJSON
formatter. Choices where the standard leaves room:

- Unknown query parameters are **ignored**, not refused with 400 (a SHOULD in Core): QGIS
  and other clients add their own (cache busters, ``SERVICE``, vendor keys).
- Invalid values of known parameters are a 400 problem (Core /req/core/query-param-invalid),
  not the 422 of the rest of the API; ``limit`` above the maximum (1000) is lowered to it,
  never an error (/req/core/fc-limit-response).
- ``datetime`` is validated and then ignored: stations have no time dimension.
- ``bbox`` is CRS84 only: a 6-number (3-D) box or another ``bbox-crs``/``crs`` is a 400.
- ``f=json|html`` wins; otherwise the ``Accept`` header decides, JSON unless HTML is
  preferred (browsers), so ``curl`` and OGC clients get JSON.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse

from api.deps import CatalogDep, Services, ServicesDep, SettingsDep, TrustBoardDep, base_url
from api.http.paging import page_links
from api.http.params import AtDep, FilterDep
from api.ogc import html as ogc_html
from api.ogc.documents import (
    COLLECTION_ID,
    CRS84,
    GEOJSON,
    HTML,
    JSON,
    OPENAPI_30,
    collection_document,
    collections_document,
    conformance_document,
    data_extent,
    landing_document,
    link,
)
from api.ogc.openapi import downgrade_openapi
from api.ogc.params import (
    MAX_LIMIT,
    OgcFormat,
    OgcRoute,
    check_bbox,
    check_crs,
    check_datetime,
    wants_html,
)
from api.rest.schemas import GeoJSONResponse
from stations.errors import NotFound
from stations.features import feature, feature_collection
from stations.search import Hit, ListQuery

__all__ = ["router"]

_FEATURE_ID = re.compile(r"[1-9][0-9]{0,18}")

router = APIRouter(prefix="/ogc", tags=["ogc"], route_class=OgcRoute)


def _get(path: str, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a GET route and its HEAD twin (HTTP/1.1 servers must answer HEAD; the
    server drops the body). HEAD stays out of the OpenAPI document to avoid duplicates."""

    def register(endpoint: Callable[..., Any]) -> Callable[..., Any]:
        router.head(path, include_in_schema=False)(endpoint)
        return router.get(path, **kwargs)(endpoint)

    return register


FormatParam = Annotated[
    OgcFormat | None,
    Query(description="Response format; without it the Accept header decides (JSON by default)"),
]
CollectionParam = Annotated[
    str, Path(alias="collectionId", description=f"Collection id; the only one is `{COLLECTION_ID}`")
]
_DOC_RESPONSES: dict[int | str, dict[str, Any]] = {200: {"content": {JSON: {}, HTML: {}}}}
_FEATURE_RESPONSES: dict[int | str, dict[str, Any]] = {200: {"content": {GEOJSON: {}, HTML: {}}}}


def _root(request: Request, settings: Any) -> str:
    return base_url(request, settings) + "/ogc"


def _respond(
    request: Request,
    f: OgcFormat | None,
    build: Callable[[str], dict[str, Any]],
    render: Callable[[dict[str, Any]], str],
    media_type: str = JSON,
) -> Response:
    """Build the document in the negotiated format and answer with it."""
    headers = {"Vary": "Accept"}
    if wants_html(request, f):
        headers["Content-Security-Policy"] = ogc_html.CSP
        return HTMLResponse(render(build("html")), headers=headers)
    body = build("json")
    if media_type == GEOJSON:
        return GeoJSONResponse(body, headers=headers)
    return JSONResponse(body, media_type=media_type, headers=headers)


def _collection(collection_id: str) -> None:
    if collection_id != COLLECTION_ID:
        raise NotFound(
            f"collection {collection_id!r} not found; the only collection is {COLLECTION_ID!r}"
        )


def _extent(services: Services) -> tuple[float, float, float, float] | None:
    """The data extent, recomputed only when the catalog has a new snapshot."""
    return services.ogc_extent.get(services.catalog.all(), data_extent)


def _with_f(href: str, fmt: str) -> str:
    parts = urlsplit(href)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "f"]
    query.append(("f", fmt))
    return urlunsplit(parts._replace(query=urlencode(query, safe=",:")))


@_get("", summary="OGC API landing page", responses=_DOC_RESPONSES)
@_get("/", include_in_schema=False)
def landing(request: Request, settings: SettingsDep, f: FormatParam = None) -> Response:
    root = _root(request, settings)
    site = base_url(request, settings)
    docs_url = request.app.docs_url
    return _respond(
        request,
        f,
        lambda fmt: landing_document(root, site, fmt, docs_url=docs_url),
        lambda doc: ogc_html.render_landing(doc, root),
    )


@_get(
    "/api",
    summary="The API definition as OpenAPI 3.0",
    responses={200: {"content": {OPENAPI_30: {"schema": {"type": "object"}}}}},
)
def api_definition(request: Request, services: ServicesDep) -> Response:
    document = services.ogc_openapi.get(request.app.openapi(), downgrade_openapi)
    return JSONResponse(document, media_type=OPENAPI_30)


@_get("/conformance", summary="Conformance classes", responses=_DOC_RESPONSES)
def conformance(request: Request, settings: SettingsDep, f: FormatParam = None) -> Response:
    root = _root(request, settings)
    return _respond(
        request,
        f,
        lambda fmt: conformance_document(root, fmt),
        lambda doc: ogc_html.render_conformance(doc, root),
    )


@_get("/collections", summary="Feature collections", responses=_DOC_RESPONSES)
def collections(
    request: Request, settings: SettingsDep, services: ServicesDep, f: FormatParam = None
) -> Response:
    root = _root(request, settings)
    extent = _extent(services)
    return _respond(
        request,
        f,
        lambda fmt: collections_document(root, fmt, extent),
        lambda doc: ogc_html.render_collections(doc, root),
    )


@_get("/collections/{collectionId}", summary="One feature collection", responses=_DOC_RESPONSES)
def collection(
    request: Request,
    settings: SettingsDep,
    services: ServicesDep,
    collection_id: CollectionParam,
    f: FormatParam = None,
) -> Response:
    _collection(collection_id)
    root = _root(request, settings)
    extent = _extent(services)
    return _respond(
        request,
        f,
        lambda fmt: collection_document(root, fmt, extent),
        lambda doc: ogc_html.render_collection(doc, root),
    )


@_get(
    "/collections/{collectionId}/items",
    summary="Stations as GeoJSON features",
    responses=_FEATURE_RESPONSES,
)
def items(
    request: Request,
    settings: SettingsDep,
    catalog: CatalogDep,
    board: TrustBoardDep,
    flt: FilterDep,
    at: AtDep,
    collection_id: CollectionParam,
    limit: Annotated[
        int, Query(ge=1, description=f"Page size; larger values are lowered to {MAX_LIMIT}")
    ] = 10,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    bbox: Annotated[
        str | None, Query(description="minx,miny,maxx,maxy in CRS84 (longitude/latitude, WGS-84)")
    ] = None,
    bbox_crs: Annotated[str | None, Query(alias="bbox-crs", description=f"Only `{CRS84}`")] = None,
    datetime_: Annotated[
        str | None,
        Query(alias="datetime", description="Accepted and ignored: stations have no time"),
    ] = None,
    q: Annotated[
        str | None, Query(max_length=100, description="Substring of name or address")
    ] = None,
    crs: Annotated[str | None, Query(description=f"Only `{CRS84}`")] = None,
    f: FormatParam = None,
) -> Response:
    _collection(collection_id)
    check_crs("bbox-crs", bbox_crs)
    check_crs("crs", crs)
    box = check_bbox(bbox)
    check_datetime(datetime_)
    limit = min(limit, MAX_LIMIT, settings.max_page)
    hits, total = catalog.search(
        ListQuery(bbox=box, q=q, filter=flt, at=at, limit=limit, offset=offset)
    )
    root = _root(request, settings)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def build(fmt: str) -> dict[str, Any]:
        own, other = (HTML, GEOJSON) if fmt == "html" else (GEOJSON, HTML)
        links = page_links(
            request,
            base_url(request, settings),
            offset=offset,
            limit=limit,
            returned=len(hits),
            matched=total,
            media_type=own,
        )
        links.insert(
            1,
            link(
                _with_f(links[0]["href"], "json" if fmt == "html" else "html"), "alternate", other
            ),
        )
        links.append(
            link(
                f"{root}/collections/{COLLECTION_ID}", "collection", JSON, "暖心驿站 Warm stations"
            )
        )
        return feature_collection(
            hits,
            "wgs84",
            trust=board,
            numberMatched=total,
            numberReturned=len(hits),
            timeStamp=stamp,
            links=links,
        )

    return _respond(
        request, f, build, lambda doc: ogc_html.render_items(doc, root, COLLECTION_ID), GEOJSON
    )


@_get(
    "/collections/{collectionId}/items/{featureId}",
    summary="One station",
    responses=_FEATURE_RESPONSES,
)
def item(
    request: Request,
    settings: SettingsDep,
    catalog: CatalogDep,
    board: TrustBoardDep,
    collection_id: CollectionParam,
    feature_id: Annotated[str, Path(alias="featureId", description="The station id")],
    f: FormatParam = None,
) -> Response:
    _collection(collection_id)
    try:
        # Only the canonical spelling: int() would also take " 5", "05" and "٥".
        if not _FEATURE_ID.fullmatch(feature_id):
            raise NotFound(feature_id)
        station = catalog.get(int(feature_id))
    except NotFound:
        raise NotFound(
            f"feature {feature_id!r} not found in collection {COLLECTION_ID!r}"
        ) from None
    hit = Hit(station, None, catalog.open_now(station, datetime.now().astimezone()))
    root = _root(request, settings)
    href = f"{root}/collections/{COLLECTION_ID}/items/{station.id}"

    def build(fmt: str) -> dict[str, Any]:
        own, other = (HTML, GEOJSON) if fmt == "html" else (GEOJSON, HTML)
        body = feature(hit, "wgs84", trust=board)
        body["links"] = [
            link(_with_f(href, fmt), "self", own),
            link(_with_f(href, "json" if fmt == "html" else "html"), "alternate", other),
            link(
                f"{root}/collections/{COLLECTION_ID}", "collection", JSON, "暖心驿站 Warm stations"
            ),
        ]
        return body

    return _respond(request, f, build, lambda doc: ogc_html.render_item(doc, root), GEOJSON)
