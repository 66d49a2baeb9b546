"""The /s/{code} page in Chromium on a phone-sized screen, other hosts unreachable:
choose a worker type, tap 签到, see it counted; tap again, see it not counted twice."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from api.app import create_app
from stations.store.sql import SqlStationStore
from stations.store.visit_stats import VisitStats
from stations.store.visits import SqlVisitStore
from tests.api.staff_kit import test_settings
from tests.conftest import make_station
from tests.maps.conftest import LiveServer, start_server

pytestmark = pytest.mark.browser


@pytest.fixture
def served(sqlite_url: str) -> Iterator[tuple[LiveServer, SqlStationStore, str]]:
    """SQLite only: the page and its script are what is tested here; the store is tested on
    both engines elsewhere."""
    store = SqlStationStore(sqlite_url)
    store.create(make_station(name="荣华中路<b>驿站</b>"), actor="t")
    code = SqlVisitStore.beside(store).code_for(1)
    live, stop = start_server(create_app(test_settings(), store=store))
    try:
        yield live, store, code
    finally:
        stop()
        store.close()


def test_check_in_from_the_station_page(served: Any, open_page: Callable[..., Any]) -> None:
    live, store, code = served
    kit = open_page(f"{live.url}/s/{code}", mobile=True)
    page = kit.page
    assert page.inner_text("h1") == "荣华中路<b>驿站</b>"
    assert "不收集姓名、手机号和位置" in page.inner_text("#privacy")
    page.click("button[data-worker=courier]")
    page.click("#checkin")
    page.wait_for_selector("#result.ok")
    assert "签到成功" in page.inner_text("#result")
    page.click("#checkin")
    page.wait_for_selector("#result.again")
    assert "不重复计数" in page.inner_text("#result")
    page.reload()
    assert page.get_attribute("button[data-worker=courier]", "aria-pressed") == "true"
    from datetime import date, timedelta

    rows = VisitStats(store.engine).visits(
        "worker_type", "all", date.today() - timedelta(days=2), date.today() + timedelta(days=2)
    )
    assert [(r.key, r.scans) for r in rows] == [("courier", 1)]
    assert kit.blocked.urls == [] and kit.console_errors == []
    kit.screenshot("station-page-checked-in")


DOOR = {"longitude": 116.5068, "latitude": 39.7954}  # make_station's position, WGS-84


def test_here_from_the_station_page(served: Any, open_page: Callable[..., Any]) -> None:
    """The poster's page has the /embed card's 我在这里 control (the same script): a tap at
    the door is stored as on-site, 设施坏了 asks which amenity, and a second tap from the same
    phone within the hour is told the first one is recorded."""
    import httpx

    live, _store, code = served
    kit = open_page(f"{live.url}/s/{code}", mobile=True, geolocation=DOOR)
    page = kit.page
    page.wait_for_selector("#here .here button[data-state='open']")
    assert page.locator("#here .here button").all_inner_texts() == [
        "开着",
        "关着",
        "进不去",
        "设施坏了",
    ]
    box = page.locator("#here .here").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360
    page.click("#here button[data-state='open']")
    page.wait_for_selector("html[data-here='onsite']", state="attached")
    assert page.locator("#here .here-msg").inner_text().startswith("谢谢")
    assert "只保存与驿站的距离" in page.locator("#here").inner_text()
    station = httpx.get(f"{live.url}/api/v1/stations/1", timeout=10).json()["properties"]
    assert station["last_confirmed_open_at"] is not None
    # the test runs at any hour: outside the station's hours the 开着 is told as such (rule 10)
    said = (
        "刚刚有骑手确认开放"
        if station["open_now"] is not False
        else "刚刚有骑手说开着（不在登记的开放时间内）"
    )
    assert said in [r["message_zh"] for r in station["confidence_reasons"]]
    # the card says it at once, without a reload, as the station's answer now does
    assert page.locator("#trust").inner_text().startswith(said)
    # in the level's colour (confirmed only within the hours: the test runs at any hour)
    level = {"confirmed": "trust ok", "doubtful": "trust bad"}.get(station["confidence"], "trust")
    assert page.locator("#trust").get_attribute("class") == level
    kit.screenshot("station-page-here-360x640")

    page.click("#here button[data-state='broken']")
    page.wait_for_selector("#here .here-amen button")
    assert page.locator("#here .here-amen button").all_inner_texts() == [
        "热水",
        "手机充电",
        "卫生间",
    ]
    page.locator("#here .here-amen button").first.click()
    page.wait_for_selector("html[data-here='refused']", state="attached")
    # this page stored the first tap, so it says that one is recorded, not a bare refusal
    assert page.locator("#here .here-msg").inner_text().startswith("您刚才的反馈已记录")
    assert kit.blocked.urls == []
    assert [e for e in kit.console_errors if "429" not in e] == []
