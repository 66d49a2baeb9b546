"""Reading opening hours as Chinese staff write them (``周一至周五 9:00-18:00，节假日休息``).

Why a hand-written tokenizer and not a grammar library (lark): the language is flat — a run
of "days, then times" pieces with a handful of words around them — so a grammar adds little
structure, while the hard part is lexical (``8点半``, ``晚8点``, ``8：00—20：00``, ``周一、三、
五``, ``次日``) and the errors must say, in Chinese, *which fragment* was not understood. A
table of token patterns tried in order gives exactly that: the first character no pattern
matches is the fragment we report. The tokens then feed a small state machine that builds a
:class:`~stations.hours.rules.Schedule`.

Seasons and months (``夏季 6:00-20:00，冬季 7:00-19:00``, ``5月至10月 8:00-20:00；11月至次年4月
9:00-17:00``, ``1月1日-3月31日 …``) become OSM month selectors. 夏季 is May–September and 冬季
October–April (:data:`SUMMER`, :data:`WINTER`), as Beijing's public offices switch their
夏季/冬季作息 on 1 May and 1 October; a sheet that means other months writes them
(``6月至8月``), or says it in brackets (``夏季(5.1-9.30)``). Months are also written as lists
and bare ranges (``5月、7月``, ``5-9月``, ``五至九月``) and days as dotted dates (``5.1-9.30``,
``10.1-4.30``); a dotted pair is a date range, not a time span (``8.30-11.30``), when a day has
one digit, when hours follow it, or when it explains a season. A period applies to the rules
after it until the next period or a ``；`` (``。``, new line); a bare ``节假日休息`` later in
the same clause applies all year.

Text is NFKC-normalised character by character first, which turns full-width digits, colons
and tildes (``８：００～２０：００``) into ASCII without moving any character.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from stations.hours.rules import ALL_DAYS, Period, Rule, Schedule, Span
from stations.i18n import Message

__all__ = ["ChineseHours", "HoursSyntaxError", "EXAMPLES", "SUMMER", "WINTER", "parse_chinese"]

#: What 夏季 and 冬季 mean here (the usual 夏季/冬季作息 of Chinese public offices).
SUMMER = Period.between((5, 0), (9, 0))
WINTER = Period.between((10, 0), (4, 0))
_SEASONS = {"夏": SUMMER, "冬": WINTER}
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)

#: Two forms that work, shown with every error.
EXAMPLES = ("周一至周五 9:00-18:00，节假日休息", "每天 8:00-20:00")


class HoursSyntaxError(ValueError):
    """Text that is not readable as hours; ``fragment`` is the part not understood."""

    def __init__(self, fragment: str, msgid: str, **params: Any) -> None:
        self.fragment = fragment
        self.reason = Message(msgid, **params)
        super().__init__(self.en)

    def text(self, lang: str) -> str:
        """The reason in ``lang`` (``zh-CN`` or ``en``), for a message that embeds it."""
        return self.reason.text(lang)

    @property
    def zh(self) -> str:
        """The reason in Chinese."""
        return self.text("zh-CN")

    @property
    def en(self) -> str:
        """The reason in English."""
        return self.text("en")


@dataclass(frozen=True)
class ChineseHours:
    """The schedule read, and whether the text says the station is suspended (暂停开放)."""

    schedule: Schedule | None
    suspended: bool = False


_NUM_ZH = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6}
_NUM_ZH |= {"七": 7, "八": 8, "九": 9, "十": 10}
_DAY_CHAR = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6}
_DAY_CHAR |= {str(k + 1): k for k in range(7)}
_AM = ("凌晨", "清晨", "早上", "早晨", "上午", "早")
_NOON = ("中午", "午间")
_PM = ("下午", "傍晚", "晚上", "夜间", "夜里", "深夜", "晚")
_QUALIFIER = "|".join(_AM + _NOON + _PM)
_ZH_NUMBER = "[零〇一二两三四五六七八九十]{1,3}"

# (kind, pattern) tried in order at each position; the first match wins.
_TOKENS: list[tuple[str, str]] = [
    ("space", r"[ \t\u3000]+"),
    ("sep", r"[\n\r;；。.,，、/|()（）\[\]【】<>《》\"'“”‘’]+|和|及|与"),
    ("suspended", r"暂停(?:开放|营业|服务|使用|运营)?|停用|暂时关闭|停止(?:开放|营业|服务)|装修中"),
    (
        "usual",
        r"(?:含|包括|包含)(?:法定)?节假日|(?:法定)?节假日(?:照常|正常)(?:开放|营业|服务)?|全年无休|无休",
    ),
    ("season", r"(?:夏|冬)(?:季|天|令时间|令时|令)"),
    ("vague_season", r"(?:春|秋)(?:季|天)|春秋季|旺季|淡季"),
    (
        "month",
        r"(?P<mo>\d{1,2}|十[一二]?|[一二三四五六七八九])\s*月份?"
        r"(?:\s*(?P<md>\d{1,2}|[一二三]?十[一二三四五六七八九]?|[一二三四五六七八九])\s*[日号])?",
    ),
    (
        "always",
        r"(?:全天候|全天|二十四小时|24\s*(?:小时|h(?:ours?)?|H)|24/7|7\s*[x×*]\s*24(?:小时|h|H)?|24\s*[x×*]\s*7)(?:开放|营业|服务|值守|不间断)?",
    ),
    ("holiday", r"(?:法定)?(?:节假日|节日|假日|假期|公休日)"),
    ("off", r"休息|不开放|不营业|不对外开放|闭馆|休馆|关闭|关门|除外|停止开放|休"),
    ("group", r"每天|每日|天天|全年|全周|工作日|周末|双休日|双休|周六日|礼拜天|星期天"),
    ("day", r"(?:星期|礼拜|禮拜|周|週)[一二三四五六日天七1-7]"),
    ("yi", r"一(?=\s*[\d早晚上下中凌])"),  # 8:00一20:00: 一 typed for a dash
    ("nextday", r"次日|第二天|翌日|隔天|次晨"),
    (
        "time",
        rf"(?P<q>{_QUALIFIER})?\s*(?P<h>\d{{1,2}}|{_ZH_NUMBER})"
        r"(?:\s*(?:[:：]\s*(?P<m1>\d{2})|点半|[点時时]\s*(?P<m2>\d{1,2}|[一二三四五]十[一二三四五六七八九]?|半)?\s*分?|\.(?P<m3>\d{2})(?!\d)))?",
    ),
    ("range", r"[-~—–―─－～〜至到]+"),
    (
        "filler",
        r"(?:开放|营业|服务|办公)(?:时间|时段)?|作息(?:时间)?|时间|对外|从|自|起|止|均|为|是|都|"
        r"正常|照常|开|原|次年|翌年|来年|:|：",
    ),
]
_LEXER = re.compile(
    "|".join(f"(?P<{k}>{p})" if k != "time" else f"(?P<time>{p})" for k, p in _TOKENS)
)


@dataclass
class _Token:
    kind: str
    text: str
    value: object = None


_DASH = r"\-~—–―─－～〜至到"
_MONTH_NUMBER = r"\d{1,2}|十[一二]?|[一二三四五六七八九]"
#: Months with one 月 at the end: ``5-9月``, ``5、7月``, ``五至九月``, ``十一至次年三月``.
_BARE_MONTHS = re.compile(
    rf"(?:{_MONTH_NUMBER})(?:\s*(?:[{_DASH}]+|[、,，和及])\s*(?:次年)?\s*(?:{_MONTH_NUMBER}))+\s*月份?"
)
_BARE_PART = re.compile(rf"(?P<n>{_MONTH_NUMBER})|(?P<range>[{_DASH}]+)|(?P<sep>[、,，和及])")
#: ``5.1-9.30``, ``10.1-次年4.30``: a date range, or a span of dotted times (``8.30-11.30``).
_DOTTED = re.compile(
    rf"(?P<m1>\d{{1,2}})\.(?P<d1>\d{{1,2}})\s*(?P<dash>[{_DASH}]+)\s*(?P<next>次年)?\s*"
    r"(?P<m2>\d{1,2})\.(?P<d2>\d{1,2})(?!\d)"
)
_DAY_WORDS = r"每天|每日|天天|工作日|周末|双休日?|(?:周|星期|礼拜)[一二三四五六日天]"
#: What follows a dotted date range (and never a time span): hours, or a day off.
_HOURS_FOLLOW = re.compile(
    r"[\s)）\]】:：]*(?:休息|不开放|闭馆|"
    rf"(?:(?:{_DAY_WORDS})[\s、,，{_DASH}周星期礼拜一二三四五六日天]*)?"
    rf"(?:全天|24\s*小时|(?:{_QUALIFIER})?\s*\d{{1,2}}\s*[:：点时]))"
)


def _valid_day(month: int, day: int) -> bool:
    return 1 <= month <= 12 and 0 <= day <= _MONTH_DAYS[month - 1]


def _bare_months(text: str, pos: int) -> tuple[list[_Token], int] | None:
    """``5-9月`` / ``5、7月`` as month tokens, or None when it is not that (or a number > 12)."""
    m = _BARE_MONTHS.match(text, pos)
    if m is None:
        return None
    out = []
    for part in _BARE_PART.finditer(m.group(0)):
        if part.lastgroup == "n":
            month = _zh_number(part.group(0))
            if not _valid_day(month, 0):
                return None
            out.append(_Token("month", f"{part.group(0)}月", (month, 0)))
        else:
            out.append(_Token(part.lastgroup or "sep", part.group(0)))
    return out, m.end()


def _dotted_dates(text: str, pos: int, before: list[_Token]) -> tuple[list[_Token], int] | None:
    """``5.1-9.30`` as two date tokens, when it is a date range (see the module docstring)."""
    m = _DOTTED.match(text, pos)
    if m is None:
        return None
    (m1, d1), (m2, d2) = ((int(m[k]), int(m[j])) for k, j in (("m1", "d1"), ("m2", "d2")))
    if not (_valid_day(m1, d1) and _valid_day(m2, d2) and d1 and d2):
        return None
    one_digit = len(m["d1"]) == 1 or len(m["d2"]) == 1 or m["next"] is not None
    explains_season = len(before) >= 2 and before[-1].kind == "sep" and before[-2].kind == "season"
    if not (one_digit or explains_season or _HOURS_FOLLOW.match(text, m.end())):
        return None
    dates = [
        _Token("month", f"{m['m1']}.{m['d1']}", (m1, d1)),
        _Token("range", m["dash"]),
        _Token("month", f"{m['m2']}.{m['d2']}", (m2, d2)),
    ]
    return dates, m.end()


def _normalise(text: str) -> str:
    return "".join(
        unicodedata.normalize("NFKC", ch) if len(unicodedata.normalize("NFKC", ch)) == 1 else ch
        for ch in text
    )


def _zh_number(text: str) -> int:
    if text.isdigit():
        return int(text)
    if text == "十":
        return 10
    if text.startswith("十"):
        return 10 + _NUM_ZH[text[1]]
    if len(text) >= 2 and text[1] == "十":
        return _NUM_ZH[text[0]] * 10 + (_NUM_ZH[text[2]] if len(text) == 3 else 0)
    if len(text) == 1:
        return _NUM_ZH[text]
    raise ValueError(text)


def _minutes_of(text: str | None) -> int:
    if not text:
        return 0
    if text == "半":
        return 30
    return _zh_number(text)


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    pos = 0
    in_days = False
    while pos < len(text):
        # A bare 一…日 after a day or a range/list of days: 周一、三、五 / 周一至五.
        ch = text[pos]
        if in_days and ch in _DAY_CHAR and not ch.isdigit() and text[pos + 1 : pos + 2] != "月":
            out.append(_Token("day", ch, _DAY_CHAR[ch]))
            pos += 1
            continue
        dated = _bare_months(text, pos) or _dotted_dates(text, pos, out)
        if dated is not None:
            out.extend(dated[0])
            pos = dated[1]
            in_days = False
            continue
        m = _LEXER.match(text, pos)
        if m is None or m.end() == pos:
            end = pos + 1
            while end < len(text) and (_LEXER.match(text, end) is None) and not text[end].isspace():
                end += 1
            fragment = text[pos:end]
            raise HoursSyntaxError(fragment, "could not understand {text!r}", text=fragment)
        kind = m.lastgroup if m.lastgroup in dict(_TOKENS) else "time"
        if kind == "vague_season":
            raise HoursSyntaxError(
                m.group(0),
                "{text!r} has no fixed months; write them, e.g. 3月至4月 8:00-18:00 "
                "(夏季 is May-Sep, 冬季 Oct-Apr)",
                text=m.group(0),
            )
        if m.group("time") is not None:
            kind = "time"
        elif m.group("month") is not None:
            kind = "month"
        token = _Token(kind, m.group(0))
        if kind == "yi":
            kind = token.kind = "range"
        if kind == "time":
            token.value = _time_value(m)
            if token.value is None:
                # A bare Chinese numeral that is no time (e.g. 周一、三 when not in a day list).
                raise HoursSyntaxError(m.group(0), "could not understand {text!r}", text=m.group(0))
        elif kind == "day":
            token.value = _DAY_CHAR[m.group(0)[-1]]
        elif kind == "month":
            token.value = _month_value(m)
        if kind in ("day", "group"):
            in_days = True
        elif kind not in ("sep", "space", "range"):
            in_days = False
        if kind not in ("space", "filler"):
            out.append(token)
        pos = m.end()
    return out


def _time_value(m: re.Match[str]) -> tuple[str | None, int, int, bool] | None:
    """(qualifier, hour, minute, written with 点/时) or None for a bare Chinese numeral."""
    q = m.group("q")
    h_text = m.group("h")
    whole = m.group(0)
    with_dian = any(c in whole for c in "点时時")
    colon = m.group("m1") is not None or m.group("m3") is not None
    if not h_text.isdigit() and not (q or with_dian):
        return None
    minute = _minutes_of(m.group("m1") or m.group("m3") or m.group("m2"))
    if whole.rstrip().endswith("点半"):
        minute = 30
    return q, _zh_number(h_text), minute, with_dian and not colon


def _month_value(m: re.Match[str]) -> tuple[int, int]:
    """(month, day or 0) of ``5月`` / ``十一月`` / ``1月1日``; an impossible date is an error."""
    month = _zh_number(m.group("mo"))
    day = _zh_number(m.group("md")) if m.group("md") else 0
    if not 1 <= month <= 12 or day > _MONTH_DAYS[month - 1]:
        text = m.group(0).strip()
        raise HoursSyntaxError(text, "{text!r} is not a valid date", text=text)
    return month, day


def _period(start: tuple[int, int], end: tuple[int, int]) -> Period:
    """``5月至9月30日`` mixes a month and a day: the month side means its first/last day."""
    if bool(start[1]) != bool(end[1]):
        start = (start[0], start[1] or 1)
        end = (end[0], end[1] or _MONTH_DAYS[end[0] - 1])
    return Period.between(start, end)


@dataclass
class _Builder:
    rules: list[Rule] = field(default_factory=list)
    holiday_off: list[Rule] = field(default_factory=list)
    days: set[int] = field(default_factory=set)
    holidays: bool = False
    spans: list[Span] = field(default_factory=list)
    start: tuple[int, str | None, bool] | None = None
    ranged: bool = False
    day_range_from: int | None = None
    next_day: bool = False
    suspended: bool = False
    last_kind: str = ""
    #: The part of the year the following rules apply to, and whether a rule took it yet.
    period: Period | None = None
    period_used: bool = False
    period_text: str = ""
    month_ranged: bool = False
    #: The dash written between two months (``-``, ``至``), to quote the period as written.
    month_dash: str = "至"
    #: The period was written as months or dates (not only 夏季/冬季).
    months_written: bool = False

    @property
    def has_days(self) -> bool:
        return bool(self.days) or self.holidays

    def flush(self) -> None:
        if self.start is not None:
            raise HoursSyntaxError("", "a time span has no end (e.g. 9:00-18:00)")
        if not self.spans:
            if self.period is not None and not self.period_used and not self.has_days:
                raise HoursSyntaxError(
                    self.period_text,
                    "{text!r} is not followed by times (e.g. 8:00-20:00) or 休息",
                    text=self.period_text,
                )
            if self.has_days:
                what = Rule(frozenset(self.days), self.holidays).zh_days()
                raise HoursSyntaxError(
                    what, "{text!r} is not followed by times (e.g. 9:00-18:00) or 休息", text=what
                )
            return
        days = frozenset(self.days) if self.has_days else ALL_DAYS
        self.rules.append(Rule(days, self.holidays, tuple(self.spans), period=self.period))
        self.period_used = True
        self._reset()

    def _reset(self) -> None:
        self.days = set()
        self.holidays = False
        self.spans = []
        self.day_range_from = None

    def add_days(self, days: set[int], holidays: bool = False) -> None:
        if self.spans:
            self.flush()
        if self.day_range_from is not None and len(days) == 1:
            a, b = self.day_range_from, next(iter(days))
            days = {(a + k) % 7 for k in range((b - a) % 7 + 1)}
            self.day_range_from = None
        self.days |= days
        self.holidays |= holidays

    def off(self, token: _Token) -> None:
        if self.spans:
            # 9:00-17:00 休息? only "days 休息" means a day off.
            self.flush()
        fresh = self.period is not None and not self.period_used
        if not self.has_days and fresh:
            self.days = set(ALL_DAYS)  # 冬季休息: closed all winter
        if not self.has_days:
            raise HoursSyntaxError(
                token.text,
                "{text!r} must follow the days it applies to, e.g. 周日休息",
                text=token.text,
            )
        if self.days:
            self.rules.append(Rule(frozenset(self.days), self.holidays, (), True, self.period))
        else:
            # 节假日休息 takes the period only right after it (冬季节假日休息), else all year.
            period = self.period if fresh else None
            self.holiday_off.append(Rule(frozenset(), True, (), True, period))
        self.period_used = self.period_used or self.period is not None
        self._reset()

    def season(self, token: _Token, period: Period) -> None:
        """A new part of the year starts (夏季, 5月至10月): the rule before it is complete."""
        if self.spans:
            self.flush()
        if self.has_days or self.start is not None:
            raise HoursSyntaxError(
                token.text,
                "{text!r} goes before the days and times, e.g. 夏季 每天 6:00-20:00",
                text=token.text,
            )
        if self.period is not None and not self.period_used:
            raise HoursSyntaxError(
                token.text,
                "{text!r} follows {before!r}, which has no hours; write each part of the year "
                "with its own hours, e.g. 夏季 6:00-20:00，冬季 7:00-19:00",
                text=token.text.strip(),
                before=self.period_text,
            )
        self.period = period
        self.period_used = False
        self.period_text = token.text.strip()
        self.months_written = False

    def month(self, token: _Token, ranged: bool) -> None:
        """A month or date: a new period, the end of a range, or one more in a list."""
        value: tuple[int, int] = token.value  # type: ignore[assignment]
        text = token.text.strip()
        fresh = (
            self.period is not None
            and not self.period_used
            and not (self.has_days or self.spans or self.start is not None)
        )
        if fresh and self.months_written and self.period is not None:
            if ranged:  # 5月至9月: the last range of the list ends here
                *before, (start, _) = self.period.ranges
                self.period = Period(tuple(before)).and_(_period(start, value))
                self.period_text += f"{self.month_dash.strip()}{text}"
            else:  # 5月、7月
                self.period = self.period.and_(Period.between(value, value))
                self.period_text += f"、{text}"
            return
        if fresh:
            # 夏季(5.1-9.30): the dates say what this season means here.
            self.period = Period.between(value, value)
            self.period_text = text
        else:
            self.season(token, Period.between(value, value))
        self.months_written = True

    def end_period(self) -> None:
        """``；`` (``。``, a new line) ends a period: what follows applies all year."""
        if self.period is None:
            return
        if self.spans:
            self.flush()
        if self.period_used:
            self.period = None

    def time(self, token: _Token) -> None:
        q, hour, minute, dian = token.value  # type: ignore[misc]
        if self.start is None or not self.ranged and self.last_kind != "time":
            if self.start is not None:
                raise HoursSyntaxError(token.text, "a time span has no end")
            self.start = (self._clock(q, hour, minute, token), q, dian)
            self.ranged = False
            self.next_day = False
            return
        start, start_q, start_dian = self.start
        if q is None and start_q in _PM and hour < 12:
            hour += 12  # 下午2点-6点: the end inherits 下午
        end = self._clock(q, hour, minute, token)
        if self.next_day:
            end += 24 * 60
        elif (
            end < start and q is None and start_q is None and dian and start_dian and end <= 12 * 60
        ):
            end += 12 * 60  # 9点-5点: five in the afternoon
        if end <= start and end + 24 * 60 > start and not self.next_day:
            end += 24 * 60  # 22:00-6:00 runs past midnight
        if end == start or end - start > 24 * 60:
            raise HoursSyntaxError(token.text, "start and end time are equal or make no sense")
        self.spans.append(Span(start, end))
        self.start = None
        self.ranged = False
        self.next_day = False

    @staticmethod
    def _clock(q: str | None, hour: int, minute: int, token: _Token) -> int:
        if q in _PM and hour < 12:
            hour += 12
        elif q in _NOON and hour <= 5:
            hour += 12
        if not (0 <= hour <= 24 and 0 <= minute < 60) or (hour == 24 and minute):
            raise HoursSyntaxError(
                token.text, "{text!r} is not a valid time", text=token.text.strip()
            )
        return hour * 60 + minute


_GROUPS = {
    "每天": ALL_DAYS,
    "每日": ALL_DAYS,
    "天天": ALL_DAYS,
    "全年": ALL_DAYS,
    "全周": ALL_DAYS,
    "工作日": frozenset(range(5)),
    "周末": frozenset({5, 6}),
    "双休日": frozenset({5, 6}),
    "双休": frozenset({5, 6}),
    "周六日": frozenset({5, 6}),
    "礼拜天": frozenset({6}),
    "星期天": frozenset({6}),
}


def parse_chinese(text: str) -> ChineseHours:
    """Read Chinese opening hours; raises :class:`HoursSyntaxError` naming what was not read."""
    tokens = _tokens(_normalise(text))
    b = _Builder()
    for token in tokens:
        kind = token.kind
        if kind == "sep":
            if b.start is not None and b.last_kind == "time":
                pass  # 8:00 ，20:00 is odd but harmless: still waiting for the end
            b.day_range_from = None if b.last_kind != "day" else b.day_range_from
            if any(c in token.text for c in "；;。\n\r") and b.start is None:
                b.end_period()
        elif kind == "season":
            b.season(token, _SEASONS[token.text[0]])
        elif kind == "month":
            b.month(token, ranged=b.month_ranged)
        elif kind == "suspended":
            b.suspended = True
        elif kind == "usual":
            pass
        elif kind == "always":
            if b.spans == [Span(0, 24 * 60)]:
                pass  # 全天24小时开放 says it twice
            else:
                if b.spans:
                    b.flush()
                b.spans.append(Span(0, 24 * 60))
        elif kind == "holiday":
            b.add_days(set(), holidays=True)
        elif kind == "group":
            b.add_days(set(_GROUPS[token.text]))
        elif kind == "day":
            b.add_days({int(token.value)})  # type: ignore[call-overload]
        elif kind == "off":
            b.off(token)
        elif kind == "nextday":
            b.next_day = True
        elif kind == "range":
            if b.last_kind == "month":
                b.month_ranged = True
                b.month_dash = token.text
            elif b.last_kind == "day" and b.days:
                b.day_range_from = _last_day(tokens, token)
            elif b.start is not None:
                b.ranged = True
            else:
                raise HoursSyntaxError(
                    token.text, "{text!r} has no start before it", text=token.text
                )
        elif kind == "time":
            b.time(token)
        if kind != "range":
            b.month_ranged = False
        b.last_kind = kind if kind != "sep" or b.last_kind != "day" else "day"
    if b.start is not None:
        raise HoursSyntaxError("", "a time span has no end (e.g. 9:00-18:00)")
    b.flush()
    rules = tuple(b.rules + b.holiday_off)
    if not rules:
        if b.suspended:
            return ChineseHours(None, suspended=True)
        raise HoursSyntaxError(text, "no opening hours found")
    return ChineseHours(Schedule(rules), suspended=b.suspended)


def _last_day(tokens: list[_Token], before: _Token) -> int:
    k = next(i for i, t in enumerate(tokens) if t is before)
    for t in reversed(tokens[:k]):
        if t.kind == "day":
            return int(t.value)  # type: ignore[call-overload]
    raise AssertionError("range after a day without a day")
