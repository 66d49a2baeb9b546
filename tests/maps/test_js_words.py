"""``maps/static/common/words.js``: the one JavaScript copy of how a station's phone, entry
and rider evidence are said, checked in Debian's Chromium against the Python that says the
same on the pages the server renders (``maps.station_page.dial_uri``,
``stations.vocabulary.entry_words``); and the pages that build cards in the browser load
it, before their own script, and carry no copy of the rules.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from maps.assets import asset_url
from maps.station_page import dial_uri
from stations.vocabulary import ENTRY_METHODS, entry_words
from tests.maps.conftest import script_page
from tests.maps.test_js_crs import pages  # noqa: F401 - a fixture: the pages' HTML

WORDS_JS = "app/common/words.js"
STATIC = Path(__file__).resolve().parents[2] / "maps" / "static"

PHONES = [
    "010-67870686",
    "010-67870686 转 8001；13800138000",
    "010-67870686转8001",
    "(010) 6787 0686 分机 12",
    "010-67870686 ext. 5, 13800138000",
    "+86 10 6787 0686 x 9",
    "13800138000/13900139000",
    "13800138000、010-1234",
    "热线：12351",
    "转 8001",  # no number before the extension: the words are dropped, the digits kept
    "暂无",
    "",
    "x",
    "<script>alert(1)</script>",
]


words_page = script_page(WORDS_JS, "words_page")


@pytest.mark.browser
def test_dial_matches_the_server_s_dial_uri(words_page: Any) -> None:
    got = words_page.evaluate("phones => phones.map(p => WarmWords.dial(p))", PHONES)
    assert got == [dial_uri(p) for p in PHONES]
    assert got[1] == "tel:010-67870686,8001"  # the first number, its extension after a pause
    assert words_page.evaluate("WarmWords.dial(null)") is None


@pytest.mark.browser
def test_entry_text_matches_the_server_s_entry_words(words_page: Any) -> None:
    cases = [
        (entry, flag)
        for entry in [*ENTRY_METHODS, None, "no_such_code"]
        for flag in (True, False, None)
    ]
    got = words_page.evaluate(
        "a => a.cases.map(c => WarmWords.entryText({entry: c[0], no_smartphone_ok: c[1]}, "
        "a.entries))",
        {"cases": cases, "entries": dict(ENTRY_METHODS)},
    )
    assert got == [entry_words(entry, flag) for entry, flag in cases]
    assert "扫码进门，需要智能手机" in got


@pytest.mark.browser
def test_rider_reasons_leave_the_schedule_to_the_badge(words_page: Any) -> None:
    reasons = [
        {"code": "reported_closed", "message_zh": "近 3 天 2 人反映关门"},
        {"code": "confirmed_open", "message_zh": "3 小时前有骑手确认开放"},
        {"code": "schedule", "message_zh": "依据登记的开放时间"},
        {"code": "no_hours", "message_zh": "开放时间未知"},
    ]
    got = words_page.evaluate(
        "r => [WarmWords.riderReasons({confidence_reasons: r}), WarmWords.riderReasons({})]",
        reasons,
    )
    assert got == [["近 3 天 2 人反映关门", "3 小时前有骑手确认开放"], []]


# -- the pages load it -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("page", "own"), [("map", "app/map/stations.js"), ("embed", "app/embed/embed.js")]
)
def test_each_page_loads_words_js_before_its_own_script(
    pages: dict[str, str],  # noqa: F811 - the fixture imported above
    page: str,
    own: str,
) -> None:
    srcs = re.findall(r'<script src="([^"]+)"', pages[page])
    assert srcs.count(asset_url(WORDS_JS)) == 1, srcs
    assert srcs.index(asset_url(WORDS_JS)) < srcs.index(asset_url(own)), srcs


def test_no_other_script_carries_the_rules() -> None:
    """One copy in the browser: a second would drift from the server's words unseen."""
    carriers = sorted(
        p.relative_to(STATIC).as_posix()
        for p in STATIC.rglob("*.js")
        if "'需要智能手机'" in (text := p.read_text(encoding="utf-8"))
        or "分机" in text
        or "!== 'schedule'" in text
    )
    assert carriers == ["common/words.js"]
