"""Reading the common part of OpenStreetMap ``opening_hours`` into a :class:`Schedule`.

Only what the Chinese forms can say is read here (month and date ranges and lists of them,
weekdays, ``PH``, time spans, ``off``, ``24/7``); anything richer (week numbers,
``sunrise``) is left to opening-hours-py
and shown as written, since no Chinese rendering of it would read back the same.
"""

from __future__ import annotations

import re

from stations.hours.rules import ALL_DAYS, DAY_OSM, MONTH_OSM, Period, Rule, Schedule, Span

__all__ = ["parse_osm"]

_DAY = "|".join(DAY_OSM)
_DAYS = re.compile(rf"(?:(?:{_DAY})(?:-(?:{_DAY}))?|PH)(?:,(?:(?:{_DAY})(?:-(?:{_DAY}))?|PH))*")
_SPAN = re.compile(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})")
_MONTH = "|".join(MONTH_OSM)
_RANGE = rf"({_MONTH})(?: (\d{{2}}))?(?:-({_MONTH})(?: (\d{{2}}))?)?"
_ONE_RANGE = re.compile(_RANGE)
#: ``May-Sep``, ``May``, ``Jan 01-Mar 31``, ``Dec 15``, ``May,Jul`` at the start of a rule.
_PERIOD = re.compile(rf"{_RANGE}(?:,{_RANGE})*(?: |$)")


def parse_osm(text: str) -> Schedule | None:
    """The schedule ``text`` describes, or None when it uses more than weekdays and times."""
    text = text.strip()
    if text == "24/7":
        return Schedule((Rule(ALL_DAYS, False, (Span(0, 1440),)),))
    rules = []
    for part in text.split(";"):
        rule = _rule(part.strip())
        if rule is None:
            return None
        rules.append(rule)
    return Schedule(tuple(rules)) if rules else None


def _period(text: str) -> tuple[Period | None, str] | None:
    """The rule's month selector and the rest; None when it is one we do not render."""
    m = _PERIOD.match(text)
    if m is None:
        return None, text
    ranges = []
    for item in m.group(0).strip().split(","):
        m1, d1, m2, d2 = _ONE_RANGE.fullmatch(item).groups()  # type: ignore[union-attr]
        if m2 is not None and bool(d1) != bool(d2):
            return None  # "Jan 01-Mar", "Jan-Mar 31": rare, left to opening-hours-py
        a = MONTH_OSM.index(m1) + 1
        b = MONTH_OSM.index(m2) + 1 if m2 else a
        start = (a, int(d1) if d1 else 0)
        ranges.append((start, (b, int(d2) if d2 else start[1])))
    return Period(tuple(ranges)), text[m.end() :].strip()


def _rule(text: str) -> Rule | None:
    found = _period(text)
    if found is None:
        return None
    period, text = found
    days: set[int] = set()
    holidays = False
    head, _, rest = text.partition(" ")
    if _DAYS.fullmatch(head):
        for item in head.split(","):
            if item == "PH":
                holidays = True
                continue
            a, _, b = item.partition("-")
            i, j = DAY_OSM.index(a), DAY_OSM.index(b or a)
            days |= {(i + k) % 7 for k in range((j - i) % 7 + 1)}
        text = rest.strip()
    elif not text[:1].isdigit() and not (period is not None and text in ("off", "closed")):
        return None
    else:
        days = set(ALL_DAYS)
    chosen = frozenset(days)
    if text in ("off", "closed"):
        return Rule(chosen, holidays, (), True, period)
    if not text:
        return None
    spans = []
    for item in text.split(","):
        m = _SPAN.fullmatch(item.strip())
        if m is None:
            return None
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if start >= 1440 or m1 >= 60 or m2 >= 60 or end > 2880:
            return None
        if end <= start:
            end += 1440
        spans.append(Span(start, end))
    return Rule(chosen, holidays, tuple(spans), period=period)
