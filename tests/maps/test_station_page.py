"""The /s/{code} page's HTML: a poster's page tells how to get in and shows the door photo
first, as the embed card does (the page in a browser: test_browser_station_page.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from maps.station_page import dial_uri, render_station_page
from stations.model import Station
from tests.conftest import make_station

DIGEST = "ab" * 32


def _page(**changes: object) -> str:
    data = replace(make_station(name="荣华中路驿站"), **changes)  # type: ignore[arg-type]
    now = datetime(2026, 12, 7, 10, tzinfo=UTC)
    return render_station_page(Station(1, data, 1, now, now), "GZDS0YMY", at=now)


def test_the_poster_page_says_how_to_get_in_and_shows_the_door_first() -> None:
    page = _page(entry="scan", no_smartphone_ok=False, photos=(DIGEST,))
    assert "扫码进门，需要智能手机" in page
    door = page.index('<picture class="door">')
    assert door < page.index('<h1 class="name">')  # the photo before the name, as on the card
    # a tap opens it full size
    assert f'<a class="door-link" href="/photos/{DIGEST}/full.jpg" target="_blank"' in page
    assert f'src="/photos/{DIGEST}/thumb.jpg" loading="lazy"' in page
    assert f'srcset="/photos/{DIGEST}/thumb.webp"' in page
    assert "不用智能手机也能进" in _page(entry="staffed", no_smartphone_ok=True)


def test_nothing_recorded_says_nothing() -> None:
    page = _page(entry=None, no_smartphone_ok=None, photos=())
    assert "进门" not in page and "<picture" not in page


@pytest.mark.parametrize(
    ("phone", "uri"),
    [
        ("010-67859320", "tel:010-67859320"),
        ("010-67870686 转 8001；13800138000", "tel:010-67870686,8001"),
        ("13800138000, 010-1234", "tel:13800138000"),
        ("+86 10 6785 9320", "tel:+861067859320"),
        ("值班室", None),
        ("010-6785 ext. 12", "tel:010-6785,12"),
        ("13800138000 xiao wang", "tel:13800138000"),  # an x in a word is no extension
    ],
)
def test_a_phone_field_dials_its_first_number(phone: str, uri: str | None) -> None:
    assert dial_uri(phone) == uri


def test_the_page_words_the_station_as_the_embed_card_does() -> None:
    page = _page(
        phone="010-67870686 转 8001",
        notes="用餐高峰请错峰使用微波炉",
        host_org="北京银行亦庄支行",
        opening_hours="Mo-Fr 09:00-17:00",
        opening_hours_text="",
    )
    assert '<a href="tel:010-67870686,8001">010-67870686 转 8001</a>' in page  # a tap calls
    assert '<span class="label">备注</span>用餐高峰请错峰使用微波炉' in page
    assert '<span class="label">提供单位</span>北京银行亦庄支行' in page
    assert "周一至周五 09:00–17:00" in page  # the API's opening_hours_text, as the card shows it
    assert '<span class="label">开放时间</span>以现场公示为准' in _page(
        opening_hours="", opening_hours_text=""
    )
