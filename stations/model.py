"""The station record and the rules every write must pass.

Validation collects *every* problem of a record (not just the first) as ``FieldError``s, so a
union clerk fixing a spreadsheet sees all of a row's mistakes at once. The same function
serves the API, the CLI and the importers: one set of rules, one set of messages.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any

from stations.errors import FieldError, ValidationFailed
from stations.hours import EXAMPLES, HoursSyntaxError, resolve_hours
from stations.vocabulary import AMENITIES, UnknownCode, normalise_code

__all__ = [
    "EDITABLE_FIELDS",
    "TEXT_LIMITS",
    "Region",
    "Station",
    "StationData",
    "merge_changes",
    "split_list",
    "validate_station",
]

#: Maximum lengths of free-text fields; longer input is an error, never silently cut.
TEXT_LIMITS: dict[str, int] = {
    "external_id": 64,
    "name": 200,
    "address": 300,
    "district": 60,
    "host_org": 200,
    "opening_hours": 500,
    "opening_hours_text": 500,
    "phone": 60,
    "notes": 2000,
}

_LIST_SPLIT = re.compile(r"[;,、，；|]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: Bidi embeddings, overrides and isolates (U+202A-202E, U+2066-2069, the Arabic letter
#: mark) and zero-width characters (U+200B-200F, word joiner, BOM): invisible, they make a
#: name or an address display as something else ("驿站\u202e..." reads backwards) or two
#: names that look the same differ. No station text needs them.
_INVISIBLE = re.compile("[\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]")


def split_list(value: Any) -> list[str]:
    """Split a list field written as text (``热水；充电、卫生间``) or given as a list."""
    if value is None:
        return []
    if isinstance(value, str):
        items: Iterable[Any] = _LIST_SPLIT.split(value)
    elif isinstance(value, Iterable):
        items = value
    else:
        items = [value]
    return [str(v).strip() for v in items if str(v).strip()]


@dataclass(frozen=True, slots=True)
class StationData:
    """The editable fields of a station, already validated and normalised."""

    name: str
    lon: float
    lat: float
    external_id: str | None = None
    address: str = ""
    district: str = ""
    host_type: str = "other"
    host_org: str = ""
    amenities: tuple[str, ...] = ()
    opening_hours: str = ""
    opening_hours_text: str = ""
    phone: str = ""
    status: str = "open"
    notes: str = ""
    geocoded: bool = False
    #: How riders get in (``ENTRY_METHODS`` code; "" not recorded) and whether a rider
    #: without a smartphone can use it (None: not recorded).
    entry: str = ""
    no_smartphone_ok: bool | None = None
    #: Published photos (SHA-256 digests of their JPEG, door photo first; stations.photos).
    photos: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The data as a plain dict of field values."""
        # Field by field: dataclasses.asdict deep-copies and costs ~5 s per 100k imported rows.
        d = {name: getattr(self, name) for name in _DATA_FIELDS}
        d["amenities"] = list(self.amenities)
        d["photos"] = list(self.photos)
        return d


EDITABLE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(StationData))
_DATA_FIELDS = EDITABLE_FIELDS


@dataclass(frozen=True, slots=True)
class Station:
    """A stored station: the editable fields plus what the store assigns."""

    id: int
    data: StationData
    version: int
    created_at: datetime
    updated_at: datetime
    deleted: bool = False
    #: The organisation that runs it (``stations.orgs``); 1 is the root.
    org_id: int = 1
    #: When a staff member last checked it on site (``已核查``); None: never.
    verified_at: datetime | None = None

    def __getattr__(self, name: str) -> Any:
        # Reading ``station.name`` instead of ``station.data.name`` keeps callers short.
        return getattr(self.data, name)

    def record(self) -> dict[str, Any]:
        """The whole record as plain JSON-able values (history rows and exports)."""
        out: dict[str, Any] = {"id": self.id}
        out.update(self.data.as_dict())
        out.update(
            version=self.version,
            created_at=self.created_at.isoformat(),
            updated_at=self.updated_at.isoformat(),
            verified_at=None if self.verified_at is None else self.verified_at.isoformat(),
        )
        return out

    def with_data(self, data: StationData) -> Station:
        """The same station (id, version, times) carrying new data."""
        return replace(self, data=data)


@dataclass(frozen=True)
class Region:
    """The service region: points outside it are accepted with a warning (likely a typo)."""

    west: float = 73.0
    south: float = 3.0
    east: float = 136.0
    north: float = 54.0

    def contains(self, lon: float, lat: float) -> bool:
        """True when the point lies inside the region (edges included)."""
        return self.west <= lon <= self.east and self.south <= lat <= self.north


@dataclass
class _Collector:
    row: int | None
    errors: list[FieldError] = field(default_factory=list)

    def fail(self, name: str, msgid: str, value: Any = None, **params: Any) -> None:
        """Record the catalog message ``msgid`` about field ``name``."""
        self.errors.append(FieldError.from_catalog(name, msgid, value, self.row, **params))


def _text(raw: Mapping[str, Any], name: str, c: _Collector) -> str:
    value = raw.get(name)
    if type(value) is str:  # the common case (CSV cells, JSON): no control chars, in limit
        text = value.strip()
        if text.isprintable() and len(text) <= TEXT_LIMITS.get(name, 1 << 62):
            return text
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel turns "12" into 12.0
    text = str(value).strip()
    if _CONTROL.search(text):
        # PostgreSQL refuses NUL, XML (xlsx) refuses most control characters: say so here.
        c.fail(name, "contains control characters (e.g. NUL)", repr(text[:40]))
        text = _CONTROL.sub("", text)
    found = _INVISIBLE.search(text)
    if found:
        c.fail(
            name,
            "contains an invisible bidi or zero-width character (U+{code} at position "
            "{position}) that would change how the text is displayed; remove it",
            repr(text[:40]),
            code=f"{ord(found.group()):04X}",
            position=found.start() + 1,
        )
        text = _INVISIBLE.sub("", text)
    limit = TEXT_LIMITS.get(name)
    if limit is not None and len(text) > limit:
        c.fail(
            name,
            "longer than {limit} characters ({length})",
            text[:40] + "…",
            limit=limit,
            length=len(text),
        )
    return text


def _coordinate(raw: Mapping[str, Any], name: str, bound: float, c: _Collector) -> float:
    value = raw.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        c.fail(name, "is required")
        return math.nan
    try:
        number = float(value)
    except (TypeError, ValueError):
        c.fail(name, "is not a number", value)
        return math.nan
    if not math.isfinite(number):
        c.fail(name, "must be a finite number", value)
    elif not -bound <= number <= bound and name == "lat":
        # A latitude beyond 90 is most often a longitude typed in the wrong column.
        c.fail(
            name,
            "must be between -{bound} and {bound} (are longitude and latitude swapped?)",
            value,
            bound=f"{bound:g}",
        )
    elif not -bound <= number <= bound:
        c.fail(name, "must be between -{bound} and {bound}", value, bound=f"{bound:g}")
    return number


def _code(raw: Mapping[str, Any], name: str, default: str, c: _Collector) -> str:
    text = _text(raw, name, c)
    if not text:
        return default
    try:
        return normalise_code(name, text)
    except UnknownCode as exc:
        c.errors.append(exc.error(name, text, c.row))
        return default


# Amenity cells repeat ("热水、充电、卫生间" on thousands of rows): cells that parse cleanly are
# remembered, which took ~1 s off a 100k-row import. Bounded; cleared when full.
_AMENITY_CELLS: dict[str, tuple[str, ...]] = {}


def _amenities(raw: Mapping[str, Any], c: _Collector) -> tuple[str, ...]:
    cell = raw.get("amenities")
    if type(cell) is str:
        known = _AMENITY_CELLS.get(cell)
        if known is not None:
            return known
        errors = len(c.errors)
        codes = _parse_amenities(cell, c)
        if len(c.errors) == errors:
            if len(_AMENITY_CELLS) >= 4096:
                _AMENITY_CELLS.clear()
            _AMENITY_CELLS[cell] = codes
        return codes
    return _parse_amenities(cell, c)


def _parse_amenities(cell: Any, c: _Collector) -> tuple[str, ...]:
    found: set[str] = set()
    for item in split_list(cell):
        try:
            found.add(normalise_code("amenity", item))
        except UnknownCode as exc:
            c.errors.append(exc.error("amenities", item, c.row))
    return tuple(code for code in AMENITIES if code in found)


def _flag(raw: Mapping[str, Any], name: str, c: _Collector) -> bool:
    value = raw.get(name, False)
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("", "0", "false", "no", "否", "none", "nan"):
        return False
    if text in ("1", "true", "yes", "是"):
        return True
    c.fail(name, "must be true or false", value)
    return False


def _hours(raw: Mapping[str, Any], c: _Collector) -> tuple[str, str, bool]:
    """OSM hours, the text shown, and whether the text says 暂停开放 (see stations.hours)."""
    osm = _text(raw, "opening_hours", c)
    text = _text(raw, "opening_hours_text", c)
    try:
        hours = resolve_hours(osm, text)
    except HoursSyntaxError as exc:
        c.fail(
            "opening_hours",
            "cannot read the opening hours: {reason}; write e.g. '{example1}' or '{example2}'",
            osm or text,
            reason=exc,
            example1=EXAMPLES[0],
            example2=EXAMPLES[1],
        )
        return osm, text, False
    return hours.osm, hours.text, hours.suspended


def merge_changes(data: StationData, changes: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` with ``changes`` applied, as a record for :func:`validate_station`.

    A change to one of the two hours fields re-derives the other: new OSM hours get a new
    Chinese rendering, new written hours a new OSM form.
    """
    merged = data.as_dict()
    merged.update(changes)
    if "opening_hours" in changes and "opening_hours_text" not in changes:
        merged["opening_hours_text"] = ""
    elif "opening_hours_text" in changes and "opening_hours" not in changes:
        merged["opening_hours"] = ""
    return merged


def _maybe_flag(raw: Mapping[str, Any], name: str, c: _Collector) -> bool | None:
    """A yes/no that may be unknown: blank (or absent) is None, not False."""
    value = raw.get(name)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str) and value.strip().lower() in ("", "none", "nan", "未知"):
        return None
    return _flag(raw, name, c)


_DIGEST = re.compile(r"[0-9a-f]{64}")


def _photos(raw: Mapping[str, Any], c: _Collector) -> tuple[str, ...]:
    """Photo digests (uploads make them; a copied record carries them along)."""
    value = raw.get("photos")
    if value is None or value == "":
        return ()
    items = split_list(value)
    bad = [x for x in items if not _DIGEST.fullmatch(x)]
    if bad or len(items) > 20:
        c.fail("photos", "must be up to 20 photo digests (64 hex digits)", bad[:1] or None)
        return ()
    return tuple(dict.fromkeys(items))


def validate_station(
    raw: Mapping[str, Any],
    *,
    row: int | None = None,
    region: Region | None = None,
    warnings: list[FieldError] | None = None,
) -> StationData:
    """Validate and normalise one record, raising ``ValidationFailed`` with *all* its errors.

    Parameters
    ----------
    raw : mapping
        Field name → value, as parsed from JSON, a CSV row or a spreadsheet row. Codes may be
        Chinese labels; list fields may be text with ``;`` ``,`` ``、`` ``，`` separators.
    row : int, optional
        The row number reported in errors (importers pass the 1-based sheet row).
    region : Region, optional
        When given, a point outside it is appended to ``warnings`` (not an error: stations
        outside the usual area exist, but a typo is likelier).
    warnings : list, optional
        Receives non-fatal findings.
    """
    c = _Collector(row)
    unknown = set(raw) - set(EDITABLE_FIELDS)
    for name in sorted(unknown):
        c.fail(name, "unknown field; valid fields: {fields}", fields=", ".join(EDITABLE_FIELDS))
    name = _text(raw, "name", c)
    if not name:
        c.fail("name", "is required")
    lon = _coordinate(raw, "lon", 180.0, c)
    lat = _coordinate(raw, "lat", 90.0, c)
    hours, hours_text, suspended = _hours(raw, c)
    status = _code(raw, "status", "open", c)
    if suspended and status == "open":
        status = "temporarily_closed"
        if warnings is not None:
            warnings.append(
                FieldError.from_catalog(
                    "opening_hours",
                    "the hours say the station is suspended; imported as temporarily_closed",
                    hours_text,
                    row,
                )
            )
    data = StationData(
        name=name,
        lon=lon,
        lat=lat,
        external_id=_text(raw, "external_id", c) or None,
        address=_text(raw, "address", c),
        district=_text(raw, "district", c),
        host_type=_code(raw, "host_type", "other", c),
        host_org=_text(raw, "host_org", c),
        amenities=_amenities(raw, c),
        opening_hours=hours,
        opening_hours_text=hours_text,
        phone=_text(raw, "phone", c),
        status=status,
        notes=_text(raw, "notes", c),
        geocoded=_flag(raw, "geocoded", c),
        entry=_code(raw, "entry", "", c),
        no_smartphone_ok=_maybe_flag(raw, "no_smartphone_ok", c),
        photos=_photos(raw, c),
    )
    if c.errors:
        raise ValidationFailed(c.errors)
    if region is not None and warnings is not None and not region.contains(lon, lat):
        warnings.append(
            FieldError.from_catalog(
                "lon/lat", "point lies outside the configured service region", (lon, lat), row
            )
        )
    return data
