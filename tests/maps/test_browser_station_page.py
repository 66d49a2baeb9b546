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
