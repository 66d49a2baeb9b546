"""The console's 服务人次 dashboard in Chromium: charts drawn by the vendored Chart.js,
busiest and idle stations, a hand tally saved through the API; nothing from another host."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from api.app import create_app
from stations.store.sql import SqlStationStore
from stations.store.visits import SqlVisitStore
from tests.api.staff_kit import PASSWORD, add_staff, test_settings
from tests.conftest import make_station
from tests.maps.conftest import LiveServer, start_server

pytestmark = pytest.mark.browser


@pytest.fixture
def console(sqlite_url: str) -> Iterator[tuple[LiveServer, SqlStationStore, Any]]:
    """SQLite only: the page is what is tested; the queries run on both engines elsewhere."""
    store = SqlStationStore(sqlite_url)
    store.create(make_station(name="荣华中路驿站"), actor="t")
    store.create(make_station(name="<img src=x onerror=alert(1)>", lon=116.52), actor="t")
    staff = add_staff(store)
    visits = SqlVisitStore.beside(store)
    code = visits.code_for(1)
    for n in range(3):
        visits.check_in(code, f"phone-dash-{n:03d}", "delivery")
    live, stop = start_server(create_app(test_settings(), store=store))
    try:
        yield live, store, staff
    finally:
        stop()
        store.close()


def test_dashboard_draws_and_takes_a_tally(console: Any, open_page: Callable[..., Any]) -> None:
    live, store, staff = console
    kit = open_page(live.url + "/admin/visits")
    page = kit.page
    page.fill("input[name=name]", staff.editor_name)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.wait_for_selector("body[data-dashboard=ready]", state="attached")
    assert page.inner_text("#t-scans") == "3"
    assert page.inner_text("#busiest tbody").startswith("荣华中路驿站")
    assert "<img src=x onerror=alert(1)>" in page.inner_text("#idle tbody")
    drawn = page.evaluate(
        "() => ['chart-daily','chart-workers','chart-hours']"
        ".map(id => !!window.Chart.getChart(document.getElementById(id)))"
    )
    assert drawn == [True, True, True]
    page.fill("#tally-form input[name=station]", "2")
    page.fill("#tally-form input[name=count]", "12")
    with page.expect_navigation():
        page.click("#tally-form button[type=submit]")
    page.wait_for_selector("body[data-dashboard=ready]", state="attached")
    page.wait_for_function("() => document.getElementById('t-tallied').textContent === '12'")
    assert page.inner_text("#t-total") == "15"
    assert kit.blocked.urls == [] and kit.console_errors == []
    assert [t.count for t in SqlVisitStore.beside(store).tallies()] == [12]
    kit.screenshot("visits-dashboard")
