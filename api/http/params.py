"""Query parameters shared by several routes, parsed into domain values with clear errors."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Query

from geodata.crs import CrsName, bbox_to_wgs84
from stations.errors import FieldError, ValidationFailed
from stations.search import StationFilter, station_filter
from stations.vocabulary import AMENITIES, ENTRY_METHODS, HOST_TYPES, STATUSES, codes

__all__ = ["AtDep", "CrsName", "FilterDep", "codes", "parse_at", "parse_bbox"]


async def filter_param(
    amenity: Annotated[
        list[str] | None,
        Query(
            description="Amenity code (or Chinese label); repeat for several — a station must "
            "have all. Codes: " + ", ".join(AMENITIES)
        ),
    ] = None,
    open_now: Annotated[
        bool,
        Query(
            description="Only stations open at `at` (default now); "
            "unknown hours never count as open"
        ),
    ] = False,
    status: Annotated[
        list[str] | None, Query(description="Status code(s): " + ", ".join(STATUSES))
    ] = None,
    host_type: Annotated[
        list[str] | None, Query(description="Host type code(s): " + ", ".join(HOST_TYPES))
    ] = None,
    entry: Annotated[
        list[str] | None,
        Query(description="How riders get in, any of: " + ", ".join(ENTRY_METHODS)),
    ] = None,
    no_smartphone_ok: Annotated[
        bool, Query(description="Only stations a rider without a smartphone can use")
    ] = False,
) -> StationFilter:
    return station_filter(
        amenity=amenity,
        status=status,
        host_type=host_type,
        open_now=open_now,
        entry=entry,
        no_smartphone_ok=no_smartphone_ok,
    )


async def at_param(
    at: Annotated[
        str | None,
        Query(
            description="ISO 8601 instant for open-now (naive = station local time); default now"
        ),
    ] = None,
) -> datetime | None:
    return parse_at(at)


def parse_at(at: str | None) -> datetime | None:
    """An ISO 8601 instant (``Z`` accepted); naive means the station's local time."""
    if at is None:
        return None
    try:
        return datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed(
            [FieldError("at", "not an ISO 8601 date-time, e.g. 2026-11-24T12:00:00+08:00", at)]
        ) from None


FilterDep = Annotated[StationFilter, Depends(filter_param)]
AtDep = Annotated[datetime | None, Depends(at_param)]


def parse_bbox(bbox: str | None, crs: str = "wgs84") -> tuple[float, float, float, float] | None:
    """``west,south,east,north`` in degrees of ``crs``, returned in WGS-84; a west > east
    box crosses the antimeridian."""
    if bbox is None:
        return None
    try:
        parts = [float(p) for p in bbox.split(",")]
    except ValueError:
        parts = []
    if len(parts) != 4 or not all(math.isfinite(p) for p in parts):
        raise ValidationFailed(
            [FieldError("bbox", "must be four numbers west,south,east,north", bbox)]
        )
    west, south, east, north = parts
    if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= north <= 90):
        raise ValidationFailed(
            [
                FieldError(
                    "bbox",
                    "out of range: longitudes in [-180, 180], "
                    "latitudes in [-90, 90] with south <= north",
                    bbox,
                )
            ]
        )
    return bbox_to_wgs84((west, south, east, north), crs)
