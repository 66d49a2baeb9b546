"""A sheet's cells parsed once: the store id, the union's number and the coordinates.

Matching, coordinate conversion, the "has an address but no point" check and validation all
need these values; they are parsed here, a column at a time, and handed on as plain numbers
and keys, so no later step re-reads the raw text. Cells that do not parse are left as the
clerk wrote them: validation then reports the value exactly as it appears in the sheet.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from geodata.crs import to_wgs84
from stations.errors import FieldError
from stations.io.headers import blank
from stations.io.sheet import Sheet

__all__ = ["Cells", "ext_key", "read_cells"]

_WHOLE = re.compile(r"\d+(\.0*)?")


@dataclass
class Cells:
    """The rows of a sheet as field records, with the parsed values beside them.

    ``records[i]`` maps field → value for sheet row ``numbers[i]``; its ``lon``/``lat`` are
    floats (WGS-84) wherever the cell held a number in range. ``ids`` are the store ids an
    export carries, ``keys`` the union's numbers (``external_id``) as they will be stored.
    ``problems`` collects row errors found while parsing, by row number.
    """

    numbers: list[int]
    records: list[dict[str, Any]]
    ids: list[int | None]
    keys: list[str | None]
    has_point: NDArray[np.bool_]
    problems: dict[int, list[FieldError]] = field(default_factory=lambda: defaultdict(list))


def read_cells(sheet: Sheet, crs: str) -> Cells:
    """Parse ``sheet``'s rows once; coordinates in ``crs`` are converted to WGS-84."""
    problems: dict[int, list[FieldError]] = defaultdict(list)
    for number, errs in sheet.row_errors.items():
        problems[number].extend(errs)
    numbers = list(sheet.row_numbers)
    records: list[dict[str, Any]] = []
    ids: list[int | None] = []
    for number, record in sheet.records():
        ids.append(_parse_id(record.pop("id", None), number, problems))
        records.append(record)
    keys = [ext_key(r.get("external_id")) for r in records]
    for record, key in zip(records, keys, strict=True):
        if "external_id" in record:
            record["external_id"] = key
    has_point = _coordinates(records, crs)
    return Cells(numbers, records, ids, keys, has_point, problems)


def ext_key(value: Any) -> str | None:
    """The external id as validation will store it (so matching agrees with the write)."""
    if blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _parse_id(value: Any, row: int, problems: dict[int, list[FieldError]]) -> int | None:
    """The store id an exported file carries; blank means "no id"."""
    if blank(value):
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, float) and value.is_integer() and value > 0:
        return int(value)
    if isinstance(value, str) and _WHOLE.fullmatch(value.strip()) and float(value) > 0:
        return int(float(value))
    problems[row].append(
        FieldError.from_catalog(
            "id",
            "must be a positive whole number (the id from an export); leave it empty "
            "for new stations",
            value,
            row,
        )
    )
    return None


def _number(value: Any) -> float:
    if isinstance(value, bool) or value is None:
        return math.nan
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        return math.nan


def _coordinates(records: list[dict[str, Any]], crs: str) -> NDArray[np.bool_]:
    """Parse every lon/lat pair, convert the usable ones to WGS-84 in one vectorised call.

    Returns which rows have a usable point. Values that are not in-range numbers are left as
    written so validation reports them.
    """
    lon = np.array([_number(r.get("lon")) for r in records], dtype=np.float64)
    lat = np.array([_number(r.get("lat")) for r in records], dtype=np.float64)
    ok = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90)
    index = np.flatnonzero(ok)
    if len(index) and crs != "wgs84":
        lon[index], lat[index] = to_wgs84(lon[index], lat[index], crs)
    for i, x, y in zip(index.tolist(), lon[index].tolist(), lat[index].tolist(), strict=True):
        records[i]["lon"] = x
        records[i]["lat"] = y
    return ok
