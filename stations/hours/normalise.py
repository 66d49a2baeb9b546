"""Hours as written → stored OSM ``opening_hours`` plus the text people read.

Staff write Chinese (``周一至周五 9:00-18:00``), GIS files carry OSM syntax; both are
accepted everywhere. What is stored is the OSM form (evaluated by opening-hours-py) and
``opening_hours_text``: the Chinese exactly as written, or, for OSM input, its Chinese
rendering. Writing the text back in (an exported staff sheet) gives the same OSM form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from opening_hours import OpeningHours, ParserError

from stations.hours.chinese import EXAMPLES, HoursSyntaxError, parse_chinese
from stations.hours.evaluate import check_hours
from stations.hours.osm import parse_osm
from stations.hours.rules import Schedule
from stations.i18n import Message

__all__ = [
    "EXAMPLES",
    "Hours",
    "HoursSyntaxError",
    "hours_zh",
    "normalise_hours",
    "resolve_hours",
    "same_hours",
]


@dataclass(frozen=True)
class Hours:
    """``osm`` is stored and evaluated; ``text`` is shown; ``suspended`` = 暂停开放 written."""

    osm: str
    text: str
    suspended: bool = False


def _valid_osm(text: str) -> bool:
    try:
        OpeningHours(text)
    except (ParserError, ValueError):
        return False
    return True


def _round_trips(schedule: Schedule) -> bool:
    try:
        again = parse_chinese(schedule.zh()).schedule
    except HoursSyntaxError:
        return False
    return again == schedule


def _osm_error(text: str) -> HoursSyntaxError:
    """Latin text that is not valid OSM: the OSM parser's position says more than ours."""
    reason = check_hours(text) or "not valid"
    m = re.search(r"character (\d+)", reason)
    where = Message(" (at character {n})", n=m.group(1)) if m else ""
    return HoursSyntaxError(
        text,
        "{text!r} is neither Chinese nor OSM hours: {reason}",
        text=text,
        reason=reason,
        where=where,
    )


def normalise_hours(value: str) -> Hours:
    """Read hours written in Chinese or in OSM syntax.

    Raises
    ------
    HoursSyntaxError
        Neither readable as Chinese hours nor valid OSM; ``fragment`` and ``zh`` say what.
    """
    text = value.strip()
    if not text:
        return Hours("", "")
    if text.isascii() and (any(ch.isalpha() for ch in text) or text == "24/7") and _valid_osm(text):
        # OSM syntax (weekday names, PH, off): stored as given (a GIS editor's choice),
        # shown as its Chinese rendering when that reads back as the same rules.
        schedule = parse_osm(text)
        if schedule is not None and _round_trips(schedule):
            return Hours(text, schedule.zh())
        return Hours(text, text)
    try:
        parsed = parse_chinese(text)
    except HoursSyntaxError:
        if _valid_osm(text):
            return Hours(text, text)
        if text.isascii() and any(ch.isalpha() for ch in text):
            raise _osm_error(text) from None
        raise
    osm = parsed.schedule.osm() if parsed.schedule is not None else ""
    if osm and not _valid_osm(osm):  # pragma: no cover - the renderer only writes valid OSM
        raise HoursSyntaxError(text, "cannot be written as OSM: {osm}", osm=osm)
    return Hours(osm, text, parsed.suspended)


@lru_cache(maxsize=4096)
def resolve_hours(osm_value: str, text_value: str) -> Hours:
    """Both fields as given (a record, a PATCH merged with the stored row).

    The text wins when it reads as the same hours as the OSM field (it is what staff
    wrote); when they disagree the OSM field was edited, so the text is re-rendered from
    it. A record with only one of them gets the other derived.
    """
    osm_value, text_value = osm_value.strip(), text_value.strip()
    if not osm_value:
        return normalise_hours(text_value)
    given = normalise_hours(osm_value)
    if text_value and text_value != given.text:
        try:
            written = normalise_hours(text_value)
        except HoursSyntaxError:
            return given
        if written.osm == given.osm:
            return Hours(given.osm, text_value, written.suspended or given.suspended)
    return given


@lru_cache(maxsize=4096)
def same_hours(a: str, b: str) -> bool:
    """Whether two OSM strings say the same (``Mo-Su 08:00-20:00`` = ``08:00-20:00``)."""
    if a == b:
        return True
    sa, sb = parse_osm(a), parse_osm(b)
    return sa is not None and sa == sb


@lru_cache(maxsize=4096)
def hours_zh(osm: str, text: str = "") -> str:
    """What people see: the text as written, else the Chinese rendering of the OSM form."""
    if text.strip():
        return text.strip()
    if not osm.strip():
        return ""
    schedule = parse_osm(osm)
    return schedule.zh() if schedule is not None else osm
