"""``/api/v1/stations``: list (filters, paging) and one station; writes, history, restore."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response

from api.auth import CurrentUser, EditorDep
from api.deps import CatalogDep, OrgsDep, SettingsDep, StoreDep, TrustBoardDep, base_url
from api.http.paging import page_links
from api.http.params import (
    AtDep,
    CrsName,
    FilterDep,
    inline_schema,
    json_body_doc,
    parse_bbox,
    read_json,
)
from api.rest.schemas import (
    GEOJSON,
    GeoJSONResponse,
    HistoryOut,
    StationCollectionOut,
    StationCreate,
    StationFeatureCreate,
    StationFeatureOut,
    StationFeatureUpdate,
    StationUpdate,
)
from api.rest.station_input import history_entry, parse_if_match, station_input, take_org
from stations.errors import FieldError, NotFound, ValidationFailed
from stations.features import feature, feature_collection
from stations.model import Station, validate_station
from stations.search import Hit, ListQuery, StationCatalog
from stations.store.orgs import SqlOrgStore
from stations.store.outage import UNAVAILABLE_ERRORS, StoreUnavailable
from stations.trust.board import TrustBoard

log = logging.getLogger("stations.api")

router = APIRouter(prefix="/api/v1/stations", tags=["stations"])


@router.get(
    "",
    response_model=StationCollectionOut,
    responses=GEOJSON,
    summary="List stations (filters, text search, paging)",
)
def list_stations(
    request: Request,
    catalog: CatalogDep,
    board: TrustBoardDep,
    settings: SettingsDep,
    flt: FilterDep,
    at: AtDep,
    bbox: Annotated[str | None, Query(description="west,south,east,north in `crs`")] = None,
    q: Annotated[
        str | None, Query(max_length=100, description="Substring of name or address")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    crs: CrsName = CrsName.wgs84,
) -> Any:
    box = parse_bbox(bbox, crs.value)
    limit = min(limit, settings.max_page)
    hits, total = catalog.search(
        ListQuery(bbox=box, q=q, filter=flt, at=at, limit=limit, offset=offset)
    )
    links = page_links(
        request,
        base_url(request, settings),
        offset=offset,
        limit=limit,
        returned=len(hits),
        matched=total,
    )
    # The dict path, not the cached fragments of /nearest: a page touches up to 1,000 stations
    # across the map, and caching them all would fill the bounded cache (31 MiB per worker
    # when full) with pages and evict the stations riders keep asking about.
    return GeoJSONResponse(
        feature_collection(
            hits,
            crs.value,
            trust=board,
            numberMatched=total,
            numberReturned=len(hits),
            links=links,
        )
    )


@router.get(
    "/{station_id}", response_model=StationFeatureOut, responses=GEOJSON, summary="One station"
)
def get_station(
    catalog: CatalogDep,
    board: TrustBoardDep,
    at: AtDep,
    station_id: Annotated[int, Path(ge=1, le=2**62)],
    crs: CrsName = CrsName.wgs84,
) -> Any:
    station = catalog.get(station_id)
    when = at or datetime.now().astimezone()
    hit = Hit(station, None, catalog.open_now(station, when))
    body = feature(hit, crs.value, navigation=True, trust=board)
    return GeoJSONResponse(body, headers={"ETag": f'"{station.version}"'})


# -- writes (editor role), history and restore -----------------------------------------------
# Every write runs in one store transaction recorded in the history under the user's name,
# answers with the new version as ETag, and refreshes this process's catalog before answering
# so the writer's next read sees the change.

_ETAG_HEADER = {
    "ETag": {
        "description": 'The station\'s version, e.g. "4": send it back as If-Match',
        "schema": {"type": "string"},
    }
}
_IF_MATCH = Header(
    alias="If-Match",
    description='The version you edited, e.g. "4" (or W/"4"): a stale one → '
    "412 and nothing changes",
)
_CREATE_BODY = json_body_doc(
    inline_schema(StationCreate),
    inline_schema(StationFeatureCreate),
    geojson=inline_schema(StationFeatureCreate),
    description="The station as flat JSON (contract fields plus lon/lat) or a GeoJSON Feature",
)
_PATCH_BODY = json_body_doc(
    inline_schema(StationUpdate),
    inline_schema(StationFeatureUpdate),
    geojson=inline_schema(StationFeatureUpdate),
    description="Only the fields to change (lon and lat together), flat or as a Feature",
)
JsonBody = Annotated[Any, Depends(read_json)]
StationId = Annotated[int, Path(ge=1, le=2**62)]
IfMatch = Annotated[str | None, _IF_MATCH]


def _refresh(catalog: StationCatalog) -> None:
    """Bring this process's catalog up to the write just made; if the store stops answering
    between the commit and this read, the write stands and the refresher catches up — the
    client must not be told a committed write failed (it would retry it)."""
    try:
        catalog.refresh()
    except (StoreUnavailable, *UNAVAILABLE_ERRORS) as exc:
        log.warning("catalog refresh after a write deferred: %s", type(exc).__name__)


def _written(
    station: Station,
    catalog: StationCatalog,
    crs: CrsName,
    board: TrustBoard | None,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> GeoJSONResponse:
    """The station as a write leaves it, as every read answers it (riders' evidence too)."""
    hit = Hit(station, None, catalog.open_now(station, datetime.now().astimezone()))
    body = feature(hit, crs.value, navigation=True, trust=board)
    return GeoJSONResponse(
        body, status_code=status, headers={"ETag": f'"{station.version}"', **(headers or {})}
    )


def org_of(orgs: SqlOrgStore, value: int | str | None) -> int | None:
    """The id of the organisation a write body names (None: not named); an unknown one is a
    422 on the ``org`` field. Whether the editor may place a station there is the store's
    scope check."""
    if value is None:
        return None
    try:
        return orgs.get(value).id
    except NotFound:
        raise ValidationFailed(
            [FieldError.from_catalog("org", "no such organisation", str(value))]
        ) from None


def _expected(if_match: str | None, body_version: int | None) -> int | None:
    return parse_if_match(if_match) if if_match is not None else body_version


@router.post(
    "",
    status_code=201,
    response_model=StationFeatureOut,
    response_class=GeoJSONResponse,
    openapi_extra=_CREATE_BODY,
    responses={
        201: {
            "headers": {
                **_ETAG_HEADER,
                "Location": {"description": "URL of the new station", "schema": {"type": "string"}},
            }
        }
    },
    summary="Add a station (editor)",
)
def create_station(
    request: Request,
    user: EditorDep,
    raw: JsonBody,
    store: StoreDep,
    catalog: CatalogDep,
    settings: SettingsDep,
    orgs: OrgsDep,
    board: TrustBoardDep,
    crs: CrsName = CrsName.wgs84,
) -> Any:
    changes, _version = station_input(raw, crs=crs.value, partial=False)
    org_id = org_of(orgs, take_org(changes))
    station = store.create(validate_station(changes), actor=user.name, org_id=org_id)
    _refresh(catalog)
    location = f"{base_url(request, settings)}{router.prefix}/{station.id}"
    return _written(station, catalog, crs, board, status=201, headers={"Location": location})


class _StationWrite:
    """What PATCH and PUT both take: the editor, the station, its body, the version they
    edited (If-Match or the body's) and the CRS; :meth:`apply` is their one write sequence."""

    def __init__(
        self,
        user: EditorDep,
        station_id: StationId,
        raw: JsonBody,
        store: StoreDep,
        catalog: CatalogDep,
        orgs: OrgsDep,
        board: TrustBoardDep,
        if_match: IfMatch = None,
        crs: CrsName = CrsName.wgs84,
    ) -> None:
        self.user, self.station_id, self.raw = user, station_id, raw
        self.store, self.catalog, self.if_match, self.crs = store, catalog, if_match, crs
        self.orgs, self.board = orgs, board

    def apply(self, *, replace: bool) -> GeoJSONResponse:
        """Write the body (all fields when ``replace``, else only those given), refresh this
        process's catalog and answer with the station and its new version."""
        changes, version = station_input(self.raw, crs=self.crs.value, partial=not replace)
        org_id = org_of(self.orgs, take_org(changes))
        if replace:  # fields left out return to their defaults
            changes = validate_station(changes).as_dict()
        station = self.store.update(
            self.station_id,
            changes,
            actor=self.user.name,
            expected_version=_expected(self.if_match, version),
            org_id=org_id,
        )
        _refresh(self.catalog)
        return _written(station, self.catalog, self.crs, self.board)


StationWrite = Annotated[_StationWrite, Depends()]


@router.patch(
    "/{station_id}",
    response_model=StationFeatureOut,
    response_class=GeoJSONResponse,
    openapi_extra=_PATCH_BODY,
    responses={200: {"headers": _ETAG_HEADER}},
    summary="Change some fields of a station (editor)",
)
def patch_station(write: StationWrite) -> Any:
    return write.apply(replace=False)


@router.put(
    "/{station_id}",
    response_model=StationFeatureOut,
    response_class=GeoJSONResponse,
    openapi_extra=_CREATE_BODY,
    responses={200: {"headers": _ETAG_HEADER}},
    summary="Replace a station: fields left out return to their defaults (editor)",
)
def replace_station(write: StationWrite) -> Any:
    return write.apply(replace=True)


@router.delete(
    "/{station_id}",
    status_code=204,
    response_class=Response,
    summary="Delete a station (kept in the history; restorable) (editor)",
)
def delete_station(
    user: EditorDep,
    station_id: StationId,
    store: StoreDep,
    catalog: CatalogDep,
    if_match: IfMatch = None,
) -> Response:
    store.delete(station_id, actor=user.name, expected_version=_expected(if_match, None))
    _refresh(catalog)
    return Response(status_code=204)


@router.get(
    "/{station_id}/history",
    response_model=HistoryOut,
    summary="Who changed what, when (any signed-in staff)",
)
def station_history(_user: CurrentUser, station_id: StationId, store: StoreDep) -> Any:
    entries = store.history(station_id)
    return {"station_id": station_id, "entries": [history_entry(e) for e in entries]}


@router.post(
    "/{station_id}/restore",
    response_model=StationFeatureOut,
    response_class=GeoJSONResponse,
    responses={200: {"headers": _ETAG_HEADER}},
    summary="Undelete a station, or bring back an earlier version (editor)",
)
def restore_station(
    user: EditorDep,
    station_id: StationId,
    store: StoreDep,
    catalog: CatalogDep,
    board: TrustBoardDep,
    version: Annotated[
        int | None,
        Query(
            ge=1,
            le=2**62,
            description=("The version to bring back (see the history); without it, undelete"),
        ),
    ] = None,
    if_match: IfMatch = None,
    crs: CrsName = CrsName.wgs84,
) -> Any:
    station = store.restore(
        station_id, actor=user.name, version=version, expected_version=_expected(if_match, None)
    )
    _refresh(catalog)
    return _written(station, catalog, crs, board)
