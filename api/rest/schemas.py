"""Input and output models of the HTTP API (kept apart from the stored record).

Routes return ready-made ``GeoJSONResponse`` objects on hot paths, so these models serve
the OpenAPI document (and schemathesis) rather than re-validating every response.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from api.http.params import inline_schema
from stations.features import json_bytes
from stations.model import TEXT_LIMITS
from stations.vocabulary import AMENITIES, ENTRY_METHODS, HOST_TYPES, STATUSES

__all__ = [
    "GEOJSON",
    "FieldProblem",
    "GeoJSONResponse",
    "HistoryEntryOut",
    "HistoryOut",
    "LoginIn",
    "PROBLEM_RESPONSES",
    "PointIn",
    "Problem",
    "ReportIn",
    "ReportListOut",
    "ReportOut",
    "ReportReceipt",
    "SessionOut",
    "StationCreate",
    "StationFeatureCreate",
    "StationFeatureUpdate",
    "StationUpdate",
    "UserOut",
    "Link",
    "NavigationLinks",
    "PointGeometry",
    "StationCollectionOut",
    "StationFeatureOut",
    "StationPropertiesOut",
]


class GeoJSONResponse(JSONResponse):
    """``application/geo+json``; content is a JSON-able value or bytes already encoded by
    :func:`stations.features.json_bytes` (the hot routes' cached fragments)."""

    media_type = "application/geo+json"

    def render(self, content: Any) -> bytes:
        return content if isinstance(content, bytes) else json_bytes(content)


GEOJSON: dict[int | str, dict[str, Any]] = {200: {"content": {"application/geo+json": {}}}}


class PointGeometry(BaseModel):
    type: Literal["Point"]
    coordinates: list[float] = Field(min_length=2, max_length=2)


class NavigationLinks(BaseModel):
    amap: str
    baidu: str
    tencent: str


class StationPropertiesOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: int
    external_id: str | None
    name: str
    address: str
    district: str
    host_type: str
    host_org: str
    amenities: list[str]
    opening_hours: str
    opening_hours_text: str
    open_now: bool | None
    status: str
    phone: str
    notes: str
    geocoded: bool
    entry: str | None = Field(
        None,
        description="How riders get in: " + ", ".join(f"{k} {v}" for k, v in ENTRY_METHODS.items()),
    )
    no_smartphone_ok: bool | None = Field(None, description="Usable without a smartphone")
    photos: list[dict[str, str]] = Field(
        default_factory=list,
        description="Published photos, door photo first: url, webp, thumb, thumb_webp",
    )
    updated_at: str
    version: int
    verified_at: str | None = Field(
        None, description="When a staff member last checked it on site (已核查); null: never"
    )
    freshness: Literal["verified", "stale", "never"] = Field(
        "never",
        description="From verified_at: verified (checked within 90 days) · stale (longer "
        "ago) · never; rider evidence is in confidence, and a station riders make doubtful "
        "after its last check is due on the re-check worklist however fresh",
    )
    distance_m: float | None = None
    navigation: NavigationLinks | None = None
    # rider evidence (stations.trust): always present, written last
    last_confirmed_open_at: str | None = None
    last_confirmed_closed_at: str | None = None
    confidence: Literal["confirmed", "scheduled", "doubtful", "unknown"] = Field(
        "scheduled",
        description="How far open_now can be trusted: confirmed 骑手确认开放 · scheduled "
        "按开放时间 · doubtful 可能不开放 · unknown 开放情况未知",
    )
    confidence_reasons: list[dict[str, str]] = Field(
        default_factory=list, description="Why, each with code, message and message_zh"
    )


class StationFeatureOut(BaseModel):
    type: Literal["Feature"]
    id: int
    geometry: PointGeometry
    properties: StationPropertiesOut


class Link(BaseModel):
    model_config = ConfigDict(extra="allow")

    href: str
    rel: str
    type: str | None = None
    title: str | None = None


class StationCollectionOut(BaseModel):
    type: Literal["FeatureCollection"]
    features: list[StationFeatureOut]
    numberMatched: int | None = None
    numberReturned: int | None = None
    links: list[Link] | None = None


# -- write bodies, history, reports and accounts (issue 6) ---------------------------------
# Shapes only: the rules (codes, opening hours, coordinate ranges) are checked by
# ``stations.model.validate_station`` so the API, the CLI and the importers agree. Strict
# models: a number is not a string here, nor "1" a number, so a broken client hears about it.

_MAX = TEXT_LIMITS  # the model's limits, so the document and the rules agree
_PRINTABLE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
_STRICT = ConfigDict(extra="forbid", strict=True)


#: Default of fields that may be left out but are never null: the routes read
#: ``model_dump(exclude_unset=True)``, so this value is never seen (typed Any on purpose).
_UNSET: Any = None


def _absent(enum: list[str] | None = None) -> Any:
    """Schema tweak for "may be left out, never null": no ``default: null`` in the document."""

    def tweak(schema: dict[str, Any]) -> None:
        schema.pop("default", None)
        if enum is not None:
            schema["enum"] = enum

    return tweak


def _text(limit: int, description: str | None = None, enum: list[str] | None = None) -> Any:
    return Field(
        default=_UNSET,
        max_length=limit,
        pattern=_PRINTABLE,
        description=description,
        json_schema_extra=_absent(enum),
    )


_Finite = Annotated[float, Field(allow_inf_nan=False)]
_Amenity = Annotated[
    str,
    Field(
        max_length=40,
        pattern=_PRINTABLE,
        json_schema_extra={"enum": [*AMENITIES, *AMENITIES.values()]},
    ),
]


class _StationProperties(BaseModel):
    """The editable properties; read-only ones of a fetched feature are accepted and ignored,
    so a client may send back what it read (``version`` then guards against overwriting)."""

    model_config = _STRICT

    name: str = Field(
        default=_UNSET,
        min_length=1,
        max_length=_MAX["name"],
        pattern=_PRINTABLE,
        json_schema_extra=_absent(),
    )
    external_id: str | None = Field(
        default=None,
        max_length=_MAX["external_id"],
        pattern=_PRINTABLE,
        description="The union's own id (e.g. YZ-001), unique; null clears it",
    )
    address: str = _text(_MAX["address"])
    district: str = _text(_MAX["district"])
    host_type: str = _text(
        40, "Host type code or its Chinese label", [*HOST_TYPES, *HOST_TYPES.values()]
    )
    host_org: str = _text(_MAX["host_org"])
    amenities: list[_Amenity] = Field(
        default=_UNSET,
        max_length=40,
        json_schema_extra=_absent(),
        description="Amenity codes or their Chinese labels",
    )
    opening_hours: str = _text(
        _MAX["opening_hours"],
        "Opening hours in OpenStreetMap syntax (`Mo-Fr 08:00-20:00; PH off`, `24/7`) or as "
        "staff write them in Chinese (`周一至周五 8:00-20:00，节假日休息`, `全天`); stored as OSM",
    )
    opening_hours_text: str = _text(
        _MAX["opening_hours_text"],
        "The hours as written in Chinese; changing only this re-reads the hours from it",
    )
    phone: str = _text(_MAX["phone"])
    status: str = _text(40, "Status code or its Chinese label", [*STATUSES, *STATUSES.values()])
    notes: str = _text(_MAX["notes"])
    geocoded: bool = Field(default=_UNSET, json_schema_extra=_absent())
    entry: str | None = Field(
        default=_UNSET,
        max_length=40,
        json_schema_extra=_absent(),
        description="How riders get in (code or Chinese label): " + ", ".join(ENTRY_METHODS),
    )
    no_smartphone_ok: bool | None = Field(
        default=_UNSET, json_schema_extra=_absent(), description="Usable without a smartphone"
    )
    org: (
        Annotated[int, Field(ge=1, le=2**62)]
        | Annotated[str, Field(min_length=1, max_length=100, pattern=_PRINTABLE)]
    ) = Field(
        default=_UNSET,
        json_schema_extra=_absent(),
        description="The organisation the station belongs to (id or name): the editor's own "
        "(the default for a new station) or one below it; 403 outside the editor's scope",
    )
    # read-only (ignored, except ``version``: checked like If-Match when that header is absent)
    id: int | None = None
    version: int | None = Field(default=None, ge=1, le=2**62)
    created_at: str | None = Field(default=None, max_length=40)
    updated_at: str | None = Field(default=None, max_length=40)
    verified_at: str | None = Field(default=None, max_length=40)
    freshness: str | None = Field(default=None, max_length=20)
    open_now: bool | None = None
    distance_m: _Finite | None = None
    navigation: dict[str, str] | None = None
    photos: list[dict[str, str]] | None = Field(default=None, max_length=20)
    last_confirmed_open_at: str | None = Field(default=None, max_length=40)
    last_confirmed_closed_at: str | None = Field(default=None, max_length=40)
    confidence: str | None = Field(default=None, max_length=20)
    confidence_reasons: list[dict[str, str]] | None = Field(default=None, max_length=20)


class StationUpdate(_StationProperties):
    """``PATCH`` body, flat: only the fields named change (``lon`` and ``lat`` together)."""

    lon: _Finite = Field(
        default=_UNSET,
        ge=-180,
        le=180,
        description="Longitude in `crs`",
        json_schema_extra=_absent(),
    )
    lat: _Finite = Field(
        default=_UNSET, ge=-90, le=90, description="Latitude in `crs`", json_schema_extra=_absent()
    )


class StationCreate(StationUpdate):
    """``POST``/``PUT`` body, flat: the whole station (fields left out take their defaults)."""

    name: str = Field(min_length=1, max_length=_MAX["name"], pattern=_PRINTABLE)  # type: ignore[assignment]
    lon: _Finite = Field(ge=-180, le=180, description="Longitude in `crs`")  # type: ignore[assignment]
    lat: _Finite = Field(ge=-90, le=90, description="Latitude in `crs`")  # type: ignore[assignment]


class PointIn(BaseModel):
    model_config = _STRICT

    type: Literal["Point"]
    coordinates: list[_Finite] = Field(
        min_length=2, max_length=3, description="[lon, lat] in `crs`"
    )


class StationFeatureUpdate(BaseModel):
    """``PATCH`` body as a GeoJSON Feature: a null geometry leaves the point as it is."""

    model_config = _STRICT

    type: Literal["Feature"]
    id: int | None = None
    geometry: PointIn | None = None
    properties: _StationProperties = Field(default_factory=_StationProperties)


class _RequiredName(_StationProperties):
    name: str = Field(min_length=1, max_length=_MAX["name"], pattern=_PRINTABLE)  # type: ignore[assignment]


class StationFeatureCreate(BaseModel):
    """``POST``/``PUT`` body as a GeoJSON Feature (what ``GET`` returns is accepted)."""

    model_config = _STRICT

    type: Literal["Feature"]
    id: int | None = None
    geometry: PointIn
    properties: _RequiredName


class HistoryEntryOut(BaseModel):
    version: int
    action: str = Field(
        description="create | update | delete | restore | import | verify | unverify"
    )
    actor: str
    at: str
    changed: list[str] = Field(description="Fields that differ from the previous version")
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class HistoryOut(BaseModel):
    station_id: int
    entries: list[HistoryEntryOut]


class FieldProblem(BaseModel):
    field: str
    message: str
    message_zh: str | None = None
    row: int | None = None
    value: str | int | float | bool | None = None


class Problem(BaseModel):
    """RFC 9457 problem document; ``errors`` lists every field problem (422)."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldProblem] | None = None


class ReportIn(BaseModel):
    model_config = _STRICT

    kind: Literal["closed", "amenity_missing", "moved", "other"] = Field(
        description="closed 驿站已关闭 · amenity_missing 设施缺失或损坏 · moved 位置有误或已搬迁 · "
        "other 其他问题"
    )
    text: str | None = Field(
        default=None,
        max_length=500,
        pattern=_PRINTABLE,
        description="What the rider saw (optional, up to 500 characters)",
    )


class ReportReceipt(BaseModel):
    id: int
    station_id: int
    kind: str
    status: str
    message: str
    message_zh: str


class ReportOut(BaseModel):
    id: int
    station_id: int
    station_name: str | None
    kind: str
    kind_zh: str
    text: str
    status: str
    count: int = Field(description="How many identical reports arrived while pending")
    created_at: str
    last_seen_at: str
    reviewed_by: str | None
    reviewed_at: str | None
    station_version: int | None


class ReportListOut(BaseModel):
    reports: list[ReportOut]
    numberMatched: int
    numberReturned: int
    links: list[Link]


class LoginIn(BaseModel):
    model_config = _STRICT

    name: str = Field(min_length=1, max_length=100, pattern=_PRINTABLE)
    password: str = Field(min_length=1, max_length=1024, pattern=_PRINTABLE)


class UserOut(BaseModel):
    name: str
    role: str


class SessionOut(BaseModel):
    user: UserOut
    csrf_token: str | None = Field(
        description="Send as X-CSRF-Token (or the csrf_token form "
        "field) with every write made with the cookie"
    )
    expires_at: str | None


#: Every operation may answer with a problem document (RFC 9457): 4xx for bad input,
#: credentials or versions, 413/429 from the hardening middleware, 503 when not ready.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    "default": {
        "description": "Error: an RFC 9457 problem document (422 adds `errors`, each with "
        "`field`, `message` and `message_zh`)",
        "content": {"application/problem+json": {"schema": inline_schema(Problem)}},
    },
}
