"""Opening hours: parsing and "open now" in the station's local time.

Hours use OpenStreetMap's ``opening_hours`` syntax, evaluated by opening-hours-py, which
takes a *naive local* datetime. Every "now" is therefore first converted to the station's
time zone (Asia/Shanghai by default); feeding it UTC would shift every station by 8 hours.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from opening_hours import OpeningHours, ParserError

__all__ = ["DEFAULT_TZ", "check_hours", "is_open", "local_naive"]

DEFAULT_TZ = "Asia/Shanghai"


@lru_cache(maxsize=4096)
def _parsed(expression: str) -> OpeningHours:
    # country="CN": ``PH`` (法定节假日) follows China's public-holiday calendar.
    return OpeningHours(expression, country="CN")


def check_hours(expression: str) -> str | None:
    """Return ``None`` when ``expression`` parses, else a one-line reason with the position.

    The parser's message is a multi-line caret diagram; we keep its position and expectation
    so a spreadsheet user sees *where* the hours went wrong.
    """
    if not expression.strip():
        return None
    try:
        _parsed(expression)
    except (ParserError, ValueError) as exc:
        lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
        position = next((ln.split("-->", 1)[1].strip() for ln in lines if "-->" in ln), "?")
        expected = next((ln.lstrip("= ").strip() for ln in lines if ln.startswith("=")), "")
        line, _, col = position.partition(":")
        return f"cannot parse opening hours at character {col or position}: {expected}".strip()
    return None


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_naive(at: datetime, tz: str = DEFAULT_TZ) -> datetime:
    """``at`` as a naive wall-clock time in ``tz``; naive input is taken as already local."""
    if at.tzinfo is None:
        return at
    return at.astimezone(_zone(tz)).replace(tzinfo=None)


def is_open(expression: str, status: str, at: datetime, tz: str = DEFAULT_TZ) -> bool | None:
    """Whether a station is open at ``at``: True, False, or None when unknown.

    A station that is ``temporarily_closed`` or ``closed`` is never open, whatever its
    hours say. No hours means we do not know (``None``), which the ``open_now`` filter never
    counts as open.
    """
    if status != "open":
        return False
    if not expression.strip():
        return None
    hours = _parsed(expression)
    local = local_naive(at, tz)
    if hours.is_unknown(local):
        return None
    return bool(hours.is_open(local))
