"""The hours table: real-world Chinese forms, the OSM rule each becomes, and open/closed.

Each row: what a clerk typed, the OSM ``opening_hours`` it must be stored as, instants at
which the station is open, and instants at which it is not (station-local time, Asia/Shanghai,
given as aware datetimes so the UTC conversion is exercised too). The week is Monday
2026-12-07 … Sunday 2026-12-13; ``NatDay`` is 2026-10-01 (a Thursday, 国庆节, a public holiday).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from stations.hours import normalise_hours, same_hours
from stations.hours.chinese import parse_chinese
from stations.hours.evaluate import is_open

SHANGHAI = ZoneInfo("Asia/Shanghai")
_DAY = {"Mo": 0, "Tu": 1, "We": 2, "Th": 3, "Fr": 4, "Sa": 5, "Su": 6}


def at(spec: str) -> datetime:
    """``"Mo 08:59"`` → that minute in the test week, Beijing time."""
    day, clock = spec.split()
    hour, minute = (int(x) for x in clock.split(":"))
    if day == "NatDay":
        base = datetime(2026, 10, 1, tzinfo=SHANGHAI)
    else:
        base = datetime(2026, 12, 7, tzinfo=SHANGHAI) + timedelta(days=_DAY[day])
    return base + timedelta(hours=hour, minutes=minute)


# (written, OSM, open at, closed at)
FORMS: list[tuple[str, str, list[str], list[str]]] = [
    # all day
    ("全天", "24/7", ["Mo 03:00", "Su 23:59"], []),
    ("24小时", "24/7", ["We 00:00", "Sa 12:00"], []),
    ("全天候", "24/7", ["Tu 02:30"], []),
    ("24h", "24/7", ["Fr 04:00"], []),
    ("24H", "24/7", ["Fr 04:00"], []),
    ("24小时开放", "24/7", ["Su 03:00"], []),
    ("全天开放", "24/7", ["Th 01:00"], []),
    ("二十四小时", "24/7", ["Mo 05:00"], []),
    ("7×24小时", "24/7", ["Sa 05:00"], []),
    ("24/7", "24/7", ["Su 05:00"], []),
    ("全天24小时开放", "24/7", ["Mo 01:00"], []),
    ("周一至周五全天", "Mo-Fr 00:00-24:00", ["Mo 00:30", "Fr 23:30"], ["Sa 12:00"]),
    # every day
    ("每天 7:00-21:00", "07:00-21:00", ["Mo 07:00", "Su 20:59"], ["Mo 06:59", "Su 21:00"]),
    ("每日8:00-20:00", "08:00-20:00", ["Sa 08:00"], ["Sa 20:00"]),
    ("每天8:00—20:00", "08:00-20:00", ["Tu 12:00"], ["Tu 07:00"]),
    ("周一至周日 8:00-18:00", "08:00-18:00", ["Su 09:00"], ["Su 18:30"]),
    ("周一到周日8:30-17:30", "08:30-17:30", ["Sa 08:30"], ["Sa 08:29"]),
    ("8:00-20:00", "08:00-20:00", ["We 19:59"], ["We 20:01"]),
    ("08:00-20:00", "08:00-20:00", ["We 08:00"], ["We 07:59"]),
    ("8:00-24:00", "08:00-24:00", ["Th 23:59"], ["Th 00:30", "Th 07:00"]),
    ("全年无休 8:00-20:00", "08:00-20:00", ["Su 10:00"], ["Su 21:00"]),
    ("天天 9:00-21:00", "09:00-21:00", ["Mo 09:00"], ["Mo 21:30"]),
    # weekdays and weekends
    (
        "周一至周五 9:00-18:00",
        "Mo-Fr 09:00-18:00",
        ["Mo 09:00", "Fr 17:59"],
        ["Sa 10:00", "Mo 18:00"],
    ),
    ("周一到周五 9:00-18:00", "Mo-Fr 09:00-18:00", ["Tu 12:00"], ["Su 12:00"]),
    ("工作日 8:30-17:30", "Mo-Fr 08:30-17:30", ["We 08:30"], ["We 17:30", "Sa 09:00"]),
    ("工作日8:30-17:30", "Mo-Fr 08:30-17:30", ["Th 09:00"], ["Su 09:00"]),
    ("周末 10:00-16:00", "Sa,Su 10:00-16:00", ["Sa 10:00", "Su 15:59"], ["Fr 12:00", "Sa 16:00"]),
    ("双休日 9:00-17:00", "Sa,Su 09:00-17:00", ["Su 09:30"], ["Mo 09:30"]),
    ("双休日9点-5点", "Sa,Su 09:00-17:00", ["Sa 16:59"], ["Sa 17:00"]),
    ("周六日 9:00-12:00", "Sa,Su 09:00-12:00", ["Su 11:00"], ["Fr 11:00"]),
    ("周一至周五：9:00-18:00", "Mo-Fr 09:00-18:00", ["Mo 10:00"], ["Sa 10:00"]),
    ("周一至周五: 9:00-18:00", "Mo-Fr 09:00-18:00", ["Mo 10:00"], ["Sa 10:00"]),
    ("周二至周日 9:00-17:00", "Tu-Su 09:00-17:00", ["Tu 09:00", "Su 16:00"], ["Mo 12:00"]),
    ("周二到周日9:00-17:00", "Tu-Su 09:00-17:00", ["Sa 09:00"], ["Mo 09:00"]),
    ("周三 9:00-17:00", "We 09:00-17:00", ["We 09:00"], ["Th 09:00", "Tu 09:00"]),
    ("星期一 8:00-12:00", "Mo 08:00-12:00", ["Mo 11:00"], ["Tu 11:00"]),
    ("星期一至星期五 8:00-17:00", "Mo-Fr 08:00-17:00", ["Fr 08:00"], ["Sa 08:00"]),
    ("星期六、星期日 9:00-15:00", "Sa,Su 09:00-15:00", ["Sa 09:00"], ["Fr 09:00"]),
    ("礼拜一至礼拜五 8点-17点", "Mo-Fr 08:00-17:00", ["Mo 08:00"], ["Mo 17:00"]),
    ("礼拜天 10:00-14:00", "Su 10:00-14:00", ["Su 10:00"], ["Sa 10:00"]),
    ("周日 10:00-14:00", "Su 10:00-14:00", ["Su 13:00"], ["Mo 13:00"]),
    ("周天 10:00-14:00", "Su 10:00-14:00", ["Su 13:00"], ["Mo 13:00"]),
    (
        "周一、三、五 9:00-12:00",
        "Mo,We,Fr 09:00-12:00",
        ["Mo 09:00", "We 11:00", "Fr 11:59"],
        ["Tu 10:00", "Th 10:00"],
    ),
    ("周一、周三、周五 9:00-12:00", "Mo,We,Fr 09:00-12:00", ["We 10:00"], ["Tu 10:00"]),
    ("周二、四 14:00-17:00", "Tu,Th 14:00-17:00", ["Th 15:00"], ["We 15:00"]),
    ("周一至五 8:00-18:00", "Mo-Fr 08:00-18:00", ["Th 08:00"], ["Sa 08:00"]),
    ("周一，周三 9:00-11:00", "Mo,We 09:00-11:00", ["We 10:00"], ["Tu 10:00"]),
    ("周五至周一 10:00-22:00", "Mo,Fr-Su 10:00-22:00", ["Fr 10:00", "Mo 21:00"], ["Tu 12:00"]),
    # times written many ways
    ("8点-20点", "08:00-20:00", ["Mo 08:00"], ["Mo 20:00"]),
    ("8点半-17点半", "08:30-17:30", ["Mo 08:30"], ["Mo 08:29", "Mo 17:30"]),
    ("8点30分-17点30分", "08:30-17:30", ["Mo 17:29"], ["Mo 17:31"]),
    ("早8点-晚8点", "08:00-20:00", ["Mo 19:00"], ["Mo 20:30"]),
    ("早8点到晚8点", "08:00-20:00", ["Tu 08:00"], ["Tu 07:00"]),
    ("早八晚八", "08:00-20:00", ["We 12:00"], ["We 21:00"]),
    ("早上7点到晚上9点", "07:00-21:00", ["Mo 20:59"], ["Mo 21:00"]),
    ("每天早上7点到晚上9点", "07:00-21:00", ["Su 07:00"], ["Su 06:59"]),
    ("上午9点-下午5点", "09:00-17:00", ["Mo 16:59"], ["Mo 17:00"]),
    ("上午9:00-下午5:00", "09:00-17:00", ["Mo 09:00"], ["Mo 08:59"]),
    ("下午2点-6点", "14:00-18:00", ["Mo 17:00"], ["Mo 13:00", "Mo 18:00"]),
    ("中午12点-下午2点", "12:00-14:00", ["Mo 13:00"], ["Mo 14:00"]),
    ("9点-5点", "09:00-17:00", ["Mo 16:00"], ["Mo 17:30"]),
    ("9-18", "09:00-18:00", ["Mo 09:00"], ["Mo 18:00"]),
    ("9:00-17:00", "09:00-17:00", ["Mo 09:00"], ["Mo 17:00"]),
    ("8.30-17.30", "08:30-17:30", ["Mo 08:30"], ["Mo 17:30"]),
    ("8：00—20：00", "08:00-20:00", ["Mo 08:00"], ["Mo 20:00"]),
    ("８：００～２０：００", "08:00-20:00", ["Mo 08:00"], ["Mo 20:00"]),
    ("8:00至20:00", "08:00-20:00", ["Mo 08:00"], ["Mo 20:00"]),
    ("8:00到20:00", "08:00-20:00", ["Mo 08:00"], ["Mo 20:00"]),
    ("8:00~20:00", "08:00-20:00", ["Mo 08:00"], ["Mo 20:00"]),
    ("8:00～20:00", "08:00-20:00", ["Mo 08:00"], ["Mo 20:00"]),
    ("8:00–20:00", "08:00-20:00", ["Mo 08:00"], ["Mo 20:00"]),
    ("8:00－20:00", "08:00-20:00", ["Mo 08:00"], ["Mo 20:00"]),
    ("8:00一20:00", "08:00-20:00", ["Mo 08:00"], ["Mo 20:00"]),
    ("8:00 - 20:00", "08:00-20:00", ["Mo 08:00"], ["Mo 20:00"]),
    ("8时-20时", "08:00-20:00", ["Mo 08:00"], ["Mo 20:00"]),
    ("从8:00至20:00", "08:00-20:00", ["Mo 08:00"], ["Mo 20:00"]),
    # split days
    (
        "上午8:30-12:00 下午14:30-18:00",
        "08:30-12:00,14:30-18:00",
        ["Mo 08:30", "Mo 15:00"],
        ["Mo 13:00", "Mo 18:00"],
    ),
    ("上午8:30-12:00，下午2:30-6:00", "08:30-12:00,14:30-18:00", ["Tu 17:59"], ["Tu 14:29"]),
    ("8:00-12:00，14:00-18:00", "08:00-12:00,14:00-18:00", ["Mo 14:00"], ["Mo 12:30"]),
    ("8:00-12:00、14:00-18:00", "08:00-12:00,14:00-18:00", ["Mo 14:00"], ["Mo 12:30"]),
    (
        "周一至周五 8:00-12:00 14:00-18:00",
        "Mo-Fr 08:00-12:00,14:00-18:00",
        ["Fr 17:00"],
        ["Fr 13:00", "Sa 09:00"],
    ),
    # several rules
    (
        "周一至周五 9:00-18:00，周六 10:00-16:00",
        "Mo-Fr 09:00-18:00; Sa 10:00-16:00",
        ["Sa 10:00", "Fr 17:00"],
        ["Su 12:00", "Sa 17:00"],
    ),
    (
        "周一至周五 9:00-18:00；周末 10:00-16:00",
        "Mo-Fr 09:00-18:00; Sa,Su 10:00-16:00",
        ["Su 11:00"],
        ["Su 17:00"],
    ),
    (
        "周一至周五 9:00-18:00。周六 10:00-16:00",
        "Mo-Fr 09:00-18:00; Sa 10:00-16:00",
        ["Sa 11:00"],
        ["Su 11:00"],
    ),
    (
        "周一至周五 9:00-18:00\n周六 10:00-16:00",
        "Mo-Fr 09:00-18:00; Sa 10:00-16:00",
        ["Sa 11:00"],
        ["Su 11:00"],
    ),
    (
        "工作日8:00-18:00,周末9:00-17:00",
        "Mo-Fr 08:00-18:00; Sa,Su 09:00-17:00",
        ["Sa 09:00", "Mo 08:00"],
        ["Sa 08:30"],
    ),
    (
        "周一至周五 8:00-12:00，14:00-18:00；周末休息",
        "Mo-Fr 08:00-12:00,14:00-18:00; Sa,Su off",
        ["Mo 09:00"],
        ["Sa 09:00", "Mo 13:00"],
    ),
    ("每天 8:00-20:00，周一休息", "08:00-20:00; Mo off", ["Tu 09:00"], ["Mo 09:00"]),
    ("周一闭馆，周二至周日 9:00-17:00", "Mo off; Tu-Su 09:00-17:00", ["Tu 09:00"], ["Mo 09:00"]),
    # past midnight
    ("18:00-次日2:00", "18:00-02:00", ["Mo 18:00", "Tu 01:59"], ["Mo 17:59", "Tu 02:00"]),
    ("18:00-次日02:00", "18:00-02:00", ["Mo 23:00"], ["Mo 12:00"]),
    ("晚上6点-次日凌晨2点", "18:00-02:00", ["We 01:00"], ["We 03:00"]),
    ("22:00-6:00", "22:00-06:00", ["Mo 23:00", "Tu 05:00"], ["Mo 12:00"]),
    ("周五 20:00-次日3:00", "Fr 20:00-03:00", ["Sa 02:00"], ["Su 02:00"]),
    # public holidays
    ("节假日 10:00-16:00", "PH 10:00-16:00", ["NatDay 10:00"], ["NatDay 17:00"]),
    ("法定节假日休息", "PH off", [], ["NatDay 10:00", "Mo 10:00"]),
    ("9:00-17:00（节假日休息）", "09:00-17:00; PH off", ["Mo 09:00"], ["NatDay 10:00", "Mo 18:00"]),
    ("9:00-17:00(节假日休息)", "09:00-17:00; PH off", ["Su 09:00"], ["NatDay 10:00"]),
    (
        "周一至周五 9:00-18:00，节假日不开放",
        "Mo-Fr 09:00-18:00; PH off",
        ["Mo 09:00"],
        ["NatDay 10:00"],
    ),
    (
        "周一至周五 9:00-18:00，法定节假日休息",
        "Mo-Fr 09:00-18:00; PH off",
        ["Tu 09:00"],
        ["NatDay 12:00"],
    ),
    (
        "周一至周五 9:00-18:00 节假日除外",
        "Mo-Fr 09:00-18:00; PH off",
        ["Tu 09:00"],
        ["NatDay 12:00"],
    ),
    (
        "周末及节假日 10:00-16:00",
        "Sa,Su,PH 10:00-16:00",
        ["Sa 10:00", "NatDay 10:00"],
        ["Mo 10:00"],
    ),
    ("每天 8:00-20:00（含节假日）", "08:00-20:00", ["NatDay 10:00"], ["NatDay 21:00"]),
    ("8:00-20:00，节假日照常开放", "08:00-20:00", ["NatDay 10:00"], ["NatDay 21:00"]),
    # OSM written directly (stored as given)
    (
        "Mo-Fr 08:00-20:00; PH off",
        "Mo-Fr 08:00-20:00; PH off",
        ["Mo 08:00"],
        ["NatDay 09:00", "Sa 09:00"],
    ),
    ("Mo,Tu,We,Th,Fr 8:00-20:00", "Mo,Tu,We,Th,Fr 8:00-20:00", ["Th 09:00"], ["Sa 09:00"]),
    (
        "Mo-Fr 08:30-17:30; Sa,Su 09:00-16:00",
        "Mo-Fr 08:30-17:30; Sa,Su 09:00-16:00",
        ["Su 09:00"],
        ["Su 08:00"],
    ),
]


def test_the_table_is_large_enough() -> None:
    assert len(FORMS) >= 80


@pytest.mark.parametrize(
    ("written", "osm", "open_at", "closed_at"), FORMS, ids=[f[0] for f in FORMS]
)
def test_form(written: str, osm: str, open_at: list[str], closed_at: list[str]) -> None:
    hours = normalise_hours(written)
    assert hours.osm == osm
    assert not hours.suspended
    for spec in open_at:
        assert is_open(hours.osm, "open", at(spec)) is True, spec
    for spec in closed_at:
        assert is_open(hours.osm, "open", at(spec)) is False, spec


@pytest.mark.parametrize(
    ("written", "osm", "open_at", "closed_at"), FORMS, ids=[f[0] for f in FORMS]
)
def test_the_chinese_rendering_reads_back_the_same(
    written: str, osm: str, open_at: list[str], closed_at: list[str]
) -> None:
    """What riders see, typed into a sheet again, is stored as the same rule."""
    hours = normalise_hours(written)
    schedule = parse_chinese(hours.text).schedule if not hours.text.isascii() else None
    rendered = schedule.zh() if schedule is not None else hours.text
    assert same_hours(normalise_hours(rendered).osm, osm)


def test_text_is_kept_as_written_and_osm_input_is_rendered() -> None:
    assert normalise_hours(" 周一至周五 9:00-18:00 ").text == "周一至周五 9:00-18:00"
    rendered = normalise_hours("Mo-Fr 08:00-20:00; PH off").text
    assert rendered == "周一至周五 08:00–20:00，节假日休息"
    # OSM's round-the-clock form has no letters, but is OSM all the same (the demo's hours).
    hours = normalise_hours("24/7")
    assert (hours.osm, hours.text) == ("24/7", "24小时开放")


@pytest.mark.parametrize(
    "written", ["暂停开放", "停用", "暂停营业", "暂停开放（原周一至周五 9:00-17:00）"]
)
def test_suspended(written: str) -> None:
    hours = normalise_hours(written)
    assert hours.suspended
    assert hours.text == written
