"""Input and output models of the HTTP API (kept apart from the stored record).

Routes return ready-made ``GeoJSONResponse`` objects on hot paths, so these models serve
the OpenAPI document (and schemathesis) rather than re-validating every response.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "GEOJSON",
    "GeoJSONResponse",
    "Link",
    "NavigationLinks",
    "PointGeometry",
    "StationCollectionOut",
    "StationFeatureOut",
    "StationPropertiesOut",
]


class GeoJSONResponse(JSONResponse):
    media_type = "application/geo+json"

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, allow_nan=False,
                          separators=(",", ":")).encode("utf-8")


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
    open_now: bool | None
    status: str
    phone: str
    notes: str
    geocoded: bool
    updated_at: str
    version: int
    distance_m: float | None = None
    navigation: NavigationLinks | None = None


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
