"""Opening hours as a small tree: the shape both the Chinese and the OSM forms are read into.

A :class:`Schedule` is a list of :class:`Rule` s, each "these days (and/or public holidays),
these time spans" or "these days off", optionally only in part of the year (a
:class:`Period`: ``5月至9月``, ``1月1日至3月31日``, ``5月、7月``). It is written out two ways — OpenStreetMap
``opening_hours`` syntax (stored and evaluated) and Chinese as people read it — and both
writings read back to the same tree, so an export can be re-imported without a change.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ALL_DAYS",
    "DAY_OSM",
    "DAY_ZH",
    "MONTH_OSM",
    "MonthDay",
    "Period",
    "Rule",
    "Schedule",
    "Span",
]

#: Weekdays are numbered 0 (Monday) … 6 (Sunday), as ``datetime.weekday()`` does.
ALL_DAYS = frozenset(range(7))
DAY_OSM = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
DAY_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
_DAY_MINUTES = 24 * 60
MONTH_OSM = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


#: A day of the year, ``(month, day)``; day 0 stands for the whole month.
MonthDay = tuple[int, int]


@dataclass(frozen=True)
class Period:
    """Parts of the year: ``ranges`` of ``(start, end)`` inclusive, in the order written.

    Day 0 means the whole month (``5月至9月`` = ``((5, 0), (9, 0))``); a range that ends
    before it starts runs over New Year (``10月至次年4月``). Several ranges are a list
    (``5月、7月`` = OSM ``May,Jul``).
    """

    ranges: tuple[tuple[MonthDay, MonthDay], ...]

    @classmethod
    def between(cls, start: MonthDay, end: MonthDay) -> Period:
        """One range, ``start`` to ``end``."""
        return cls(((start, end),))

    def and_(self, other: Period) -> Period:
        """Both periods, this one first: ``5月`` and ``7月`` make ``5月、7月``."""
        return Period(self.ranges + other.ranges)

    def osm(self) -> str:
        """``May-Sep``, ``May``, ``Jan 01-Mar 31``, ``May,Jul``."""
        parts = []
        for start, end in self.ranges:
            a, b = _osm_date(*start), _osm_date(*end)
            parts.append(a if a == b else f"{a}-{b}")
        return ",".join(parts)

    def zh(self) -> str:
        """``5月至9月``, ``10月至次年4月``, ``1月1日至3月31日``, ``5月、7月``."""
        parts = []
        for start, end in self.ranges:
            a, b = _zh_date(*start), _zh_date(*end)
            parts.append(a if a == b else f"{a}至{'次年' if _wraps(start, end) else ''}{b}")
        return "、".join(parts)


def _wraps(start: MonthDay, end: MonthDay) -> bool:
    """True when the range runs over New Year."""
    return end[0] < start[0] or (end[0] == start[0] and 0 < end[1] < start[1])


def _osm_date(month: int, day: int) -> str:
    return MONTH_OSM[month - 1] + (f" {day:02d}" if day else "")


def _zh_date(month: int, day: int) -> str:
    return f"{month}月" + (f"{day}日" if day else "")


@dataclass(frozen=True)
class Span:
    """Minutes from midnight; ``end`` past 1440 runs into the next day (``18:00-次日02:00``)."""

    start: int
    end: int

    def osm(self) -> str:
        """The span in OpenStreetMap syntax (``08:00-20:00``)."""
        return f"{_clock(self.start)}-{_clock(self.end if self.end <= _DAY_MINUTES else self.end - _DAY_MINUTES)}"

    def zh(self) -> str:
        """The span as people read it in Chinese."""
        if self.end > _DAY_MINUTES:
            return f"{_clock(self.start)}–次日{_clock(self.end - _DAY_MINUTES)}"
        return f"{_clock(self.start)}–{_clock(self.end)}"

    @property
    def whole_day(self) -> bool:
        """True for the whole day (00:00-24:00)."""
        return self.start == 0 and self.end == _DAY_MINUTES


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class Rule:
    """Days (weekday numbers) and/or public holidays, open during ``spans`` or ``off``."""

    days: frozenset[int]
    holidays: bool = False
    spans: tuple[Span, ...] = ()
    off: bool = False
    period: Period | None = None

    def _osm_days(self) -> str:
        if self.days == ALL_DAYS and not self.holidays:
            return ""
        parts = [
            DAY_OSM[a] if a == b else f"{DAY_OSM[a]}{',' if b == a + 1 else '-'}{DAY_OSM[b]}"
            for a, b in _runs(self.days)
        ]
        if self.holidays:
            parts.append("PH")
        return ",".join(parts)

    def osm(self) -> str:
        """The rule in OpenStreetMap syntax."""
        days = self._osm_days()
        if self.off:
            what = "off"
        elif len(self.spans) == 1 and self.spans[0].whole_day:
            what = "00:00-24:00"
        else:
            what = ",".join(s.osm() for s in self.spans)
        selectors = " ".join(x for x in (self.period and self.period.osm(), days) if x)
        return f"{selectors} {what}" if selectors else what

    def zh_days(self) -> str:
        """The days of the rule in Chinese (周一至周五)."""
        if self.days == ALL_DAYS:
            text = "每天"
        elif self.days == frozenset({5, 6}):
            text = "周末"
        else:
            parts = []
            for a, b in _runs(self.days):
                if a == b:
                    parts.append(DAY_ZH[a])
                elif b == a + 1:
                    parts.extend([DAY_ZH[a], DAY_ZH[b]])
                else:
                    parts.append(f"{DAY_ZH[a]}至{DAY_ZH[b]}")
            text = "、".join(parts)
        if self.holidays:
            return f"{text}及节假日" if text else "节假日"
        return text

    def zh(self) -> str:
        """The rule as people read it in Chinese."""
        days = self.zh_days()
        if self.period is not None:
            # 5月至9月 06:00–20:00 (每天 goes without saying within a period).
            days = self.period.zh() + ("" if days == "每天" else f" {days}")
        if self.off:
            return f"{days}休息"
        if len(self.spans) == 1 and self.spans[0].whole_day:
            return f"{days}全天"
        return f"{days} " + "、".join(s.zh() for s in self.spans)


def _runs(days: frozenset[int]) -> list[tuple[int, int]]:
    """Consecutive weekday runs, Monday first: {0,1,2,4} → [(0, 2), (4, 4)]."""
    runs: list[tuple[int, int]] = []
    for d in sorted(days):
        if runs and runs[-1][1] == d - 1:
            runs[-1] = (runs[-1][0], d)
        else:
            runs.append((d, d))
    return runs


@dataclass(frozen=True)
class Schedule:
    """Rules in order (later rules override earlier ones for the days they name)."""

    rules: tuple[Rule, ...]

    @property
    def always(self) -> bool:
        """True when the station never closes (24/7)."""
        return (
            len(self.rules) == 1
            and self.rules[0].period is None
            and self.rules[0].days == ALL_DAYS
            and not self.rules[0].holidays
            and not self.rules[0].off
            and len(self.rules[0].spans) == 1
            and self.rules[0].spans[0].whole_day
        )

    def osm(self) -> str:
        """OpenStreetMap ``opening_hours``: ``Mo-Fr 08:00-20:00; PH off``."""
        if self.always:
            return "24/7"
        return "; ".join(r.osm() for r in self.rules)

    def zh(self) -> str:
        """Chinese as riders read it: ``周一至周五 08:00–20:00，节假日休息``.

        Rules of a schedule with periods are joined by ``；``: a period carries over ``，``
        to the next rule when read back, and ends at ``；``.
        """
        if self.always:
            return "24小时开放"
        joiner = "；" if any(r.period is not None for r in self.rules) else "，"
        return joiner.join(r.zh() for r in self.rules)
