"""The union staff's own sheet: Chinese headers, Chinese labels, hours as written.

``stations export FILE --layout staff`` writes what a clerk's sheet looks like, so the file
goes back to the person who keeps it and comes back in unchanged: every header here is one
the importer reads (:data:`stations.io.headers.HEADER_ALIASES`), every label one
:func:`stations.vocabulary.normalise_code` accepts, and the hours are the text as written
(``opening_hours_text``), which the importer reads back to the same OSM rule. 上次核查
(when staff last checked the station on site) is there for the clerk to read; the importer
leaves it alone, as a check is recorded on site, not typed into a sheet.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from stations.hours import hours_zh
from stations.hours.evaluate import DEFAULT_TZ, local_naive
from stations.model import Station
from stations.vocabulary import AMENITIES, ENTRY_METHODS, HOST_TYPES, STATUSES

__all__ = ["STAFF_COLUMNS", "staff_rows", "staff_value"]

#: (header, field) in the order a clerk's sheet has them. 系统ID (the store's id) comes last:
#: it lets a row without 编号 update its station instead of adding a copy.
STAFF_COLUMNS: tuple[tuple[str, str], ...] = (
    ("编号", "external_id"),
    ("驿站名称", "name"),
    ("详细地址", "address"),
    ("所属区域", "district"),
    ("经度", "lon"),
    ("纬度", "lat"),
    ("类型", "host_type"),
    ("依托单位", "host_org"),
    ("服务设施", "amenities"),
    ("开放时间", "opening_hours"),
    ("进门方式", "entry"),
    ("无智能手机可用", "no_smartphone_ok"),
    ("联系电话", "phone"),
    ("状态", "status"),
    ("备注", "notes"),
    ("上次核查", "verified_at"),
    ("系统ID", "id"),
)
_YES_NO = {True: "是", False: "否", None: ""}


def staff_value(station: Station, field: str, tz: str = DEFAULT_TZ) -> Any:
    """One cell of the staff layout (coordinates are filled in by the caller, in its CRS);
    times are the wall clock in ``tz``, to the minute.
    """
    d = station.data
    if field == "id":
        return station.id
    if field == "verified_at":
        at = station.verified_at
        return local_naive(at, tz).replace(second=0, microsecond=0) if at else "从未"
    if field == "entry":
        return ENTRY_METHODS.get(d.entry, d.entry) if d.entry else ""
    if field == "no_smartphone_ok":
        return _YES_NO[d.no_smartphone_ok]
    if field == "host_type":
        return HOST_TYPES.get(d.host_type, d.host_type)
    if field == "status":
        return STATUSES.get(d.status, d.status)
    if field == "amenities":
        return "、".join(AMENITIES.get(c, c) for c in d.amenities)
    if field == "opening_hours":
        return hours_zh(d.opening_hours, d.opening_hours_text)
    if field == "external_id":
        return d.external_id or ""
    return getattr(d, field)


def staff_rows(
    stations: Sequence[Station],
    lon: Sequence[float],
    lat: Sequence[float],
    *,
    as_text: bool,
    tz: str = DEFAULT_TZ,
) -> Iterator[list[Any]]:
    """Rows in :data:`STAFF_COLUMNS` order; CSV cells as text, XLSX numbers as numbers and
    times as date cells.
    """
    for k, s in enumerate(stations):
        row: list[Any] = []
        for _, field in STAFF_COLUMNS:
            if field == "lon":
                value: Any = lon[k]
            elif field == "lat":
                value = lat[k]
            else:
                value = staff_value(s, field, tz)
            if as_text:
                if isinstance(value, float):
                    value = repr(value)
                elif isinstance(value, datetime):
                    value = value.strftime("%Y-%m-%d %H:%M")
                else:
                    value = str(value)
            row.append(value)
        yield row
