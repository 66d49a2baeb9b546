"""The nearest answer, plainly: what :mod:`stations.nearest.fast` must equal, byte for byte.

Ordinary Python with no cache and no compiled code: every live station is checked against
the filter and measured geodesically (:func:`geodata.distance.geodesic_m`, vectorised
pyproj), ranked by (metres, id), and the page is written by the single formatter
(:func:`stations.features.feature_collection`) and :func:`stations.features.json_bytes`.
Too slow for riders at national scale (a full scan per query); it exists so the fast path
can be checked against something a reader can verify by eye (``tests/stations/nearest``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from geodata.distance import geodesic_m
from stations.features import feature_collection, json_bytes
from stations.hours import DEFAULT_TZ, is_open
from stations.model import Station

if TYPE_CHECKING:
    from stations.search import NearestQuery
    from stations.trust.board import TrustBoard

__all__ = ["reference_json", "reference_rows"]


class Row(NamedTuple):
    """One answer row, as the formatter reads it."""

    station: Station
    distance_m: float
    open_now: bool | None


def reference_rows(
    stations: Sequence[Station], query: NearestQuery, *, tz: str = DEFAULT_TZ
) -> list[Row]:
    """The ``query.k`` nearest of ``stations`` passing ``query.filter``, by (metres, id).

    Open-now is asked at ``query.at`` (default now) cut to its minute: opening hours are
    written to the minute, and the catalog evaluates them once per minute.
    """
    at = query.at if query.at is not None else datetime.now().astimezone()
    minute = at.replace(second=0, microsecond=0)
    flt = query.filter
    passing: list[tuple[Station, bool | None]] = []
    for station in stations:
        d = station.data
        if not flt.amenities <= set(d.amenities):
            continue
        if flt.status and d.status not in flt.status:
            continue
        if flt.host_types and d.host_type not in flt.host_types:
            continue
        state = is_open(d.opening_hours, d.status, minute, tz)
        if flt.open_now and state is not True:
            continue
        passing.append((station, state))
    if not passing:
        return []
    metres = np.atleast_1d(
        geodesic_m(
            query.lon,
            query.lat,
            [s.data.lon for s, _ in passing],
            [s.data.lat for s, _ in passing],
        )
    ).tolist()
    rows = [Row(s, m, state) for (s, state), m in zip(passing, metres, strict=True)]
    if query.max_distance_m is not None:
        rows = [r for r in rows if r.distance_m <= query.max_distance_m]
    rows.sort(key=lambda r: (r.distance_m, r.station.id))
    return rows[: query.k]


def reference_json(
    stations: Sequence[Station],
    query: NearestQuery,
    crs: str = "wgs84",
    *,
    tz: str = DEFAULT_TZ,
    navigation: bool = True,
    trust: TrustBoard | None = None,
) -> bytes:
    """The bytes of /api/v1/nearest for ``query`` (WGS-84) answered in ``crs``, with
    ``trust``'s rider evidence when given.
    """
    rows = reference_rows(stations, query, tz=tz)
    return json_bytes(
        feature_collection(rows, crs, navigation=navigation, trust=trust, numberReturned=len(rows))
    )
