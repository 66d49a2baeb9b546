"""The embed card's "我在这里" buttons in Debian's Chromium at 360×640, other hosts blocked.

A rider at the door taps 开着 and the next rider (another phone: another context, so another
device id) reads "刚刚有骑手确认开放"; three phones' 关着 make the station doubtful and put it
in the staff review queue; a phone 5 km away is told its tap is not on-site.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from api.app import create_app
from api.settings import Settings
from stations.store.reports import SqlReportStore
from stations.store.sql import SqlStationStore
from stations.trust.confirm import AUTO_REPORT_TEXT
from tests.conftest import make_station
from tests.maps.conftest import LiveServer, PageKit, start_server

pytestmark = pytest.mark.browser

DOOR = {"longitude": 116.5068, "latitude": 39.7954}  # the station, WGS-84 (OSM basemap)
FAR = {"longitude": 116.5068, "latitude": 39.7954 + 0.045}  # 5 km north
Open = Callable[..., PageKit]


@pytest.fixture
def live(tmp_path: Any) -> Iterator[LiveServer]:
    store = SqlStationStore("sqlite:///" + str(tmp_path / "trust.db"))
    store.create(
        make_station(
            name="荣华中路暖心驿站", opening_hours="24/7", entry="code_lock", phone="010-67859320"
        ),
        actor="t",
    )
    # 190 m east: "similar distance", where the page ranks a doubted station below it
    store.create(make_station(name="科创街暖心驿站", lon=116.5090, lat=39.7954), actor="t")
    server, stop = start_server(create_app(Settings(), store=store))
    try:
        yield server
    finally:
        stop()
        store.close()


def _card(open_page: Open, live: LiveServer, where: dict[str, float]) -> PageKit:
    """A rider's phone at ``where``: the page, located, then the first station's card."""
    kit = open_page(live.url + "/embed", mobile=True, geolocation=where)
    kit.page.wait_for_selector("html[data-list='located']", state="attached")
    kit.page.click("#list li[data-id='1'] .name")
    kit.page.wait_for_selector("#card .here button[data-state='open']")
    return kit


def _tap(kit: PageKit, state: str, outcome: str) -> str:
    kit.page.click(f"#card .here button[data-state='{state}']")
    kit.page.wait_for_selector(f"html[data-here='{outcome}']", state="attached")
    return kit.page.locator("#card .here-msg").inner_text()


def test_a_rider_confirms_open_and_the_next_rider_sees_it(
    live: LiveServer, open_page: Open
) -> None:
    first = _card(open_page, live, DOOR)
    assert first.page.locator("#card .here button").all_inner_texts() == [
        "开着",
        "关着",
        "进不去",
        "设施坏了",
    ]
    assert "密码锁" in first.page.locator("#card").inner_text()  # how to get in, in Chinese
    box = first.page.locator("#card .here").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360
    assert _tap(first, "open", "onsite").startswith("谢谢")
    first.page.wait_for_selector("#card .trust.ok")
    assert "刚刚有骑手确认开放" in first.page.locator("#card .trust").inner_text()
    first.screenshot("embed-here-confirmed-360x640")

    second = open_page(live.url + "/embed", mobile=True, geolocation=DOOR)
    second.page.wait_for_selector("#list li[data-id='1'] .trust.ok")
    assert "刚刚有骑手确认开放" in second.page.locator("#list li[data-id='1'] .trust").inner_text()
    # The same phone again within the hour (a double tap, a change of mind): the page knows
    # its tap was stored and says so, in green, not as an error that reads like a loss ...
    assert _tap(first, "closed", "refused").startswith("您刚才的反馈已记录")
    assert "ok" in (first.page.get_attribute("#card .here-msg", "class") or "").split()
    # ... and once reloaded it no longer knows: the server's words say when to vote again.
    first.page.reload()
    first.page.wait_for_selector("html[data-list='located']", state="attached")
    first.page.click("#list li[data-id='1'] .name")
    assert "分钟后再试" in _tap(first, "closed", "refused")
    for kit in (first, second):
        assert kit.blocked.non_tile() == []
        # Chromium logs every 4xx fetch; the 429 above is the only one expected
        assert [e for e in kit.console_errors if "429" not in e] == []


def test_three_phones_saying_closed_make_it_doubtful_and_queue_it(
    live: LiveServer, open_page: Open
) -> None:
    for _ in range(3):
        kit = _card(open_page, live, DOOR)
        _tap(kit, "closed", "onsite")
    kit.page.wait_for_selector("#card .trust.bad")
    assert "近 3 天 3 人反映关门" in kit.page.locator("#card .trust").inner_text()
    # open by its hours (24/7), but no longer a green 营业中 above the warning
    badge = kit.page.locator("#card .badge")
    assert badge.inner_text() == "按时间应营业" and badge.get_attribute("class") == "badge unknown"
    kit.screenshot("embed-here-doubtful-360x640")
    store = live.app.state.services.store
    pending, total = SqlReportStore.beside(store).list(status="pending")
    assert total == 1 and (pending[0].station_id, pending[0].text) == (1, AUTO_REPORT_TEXT)
    assert store.get(1).data.status == "open"  # staff decide; the record is unchanged
    # the next rider's list ranks the confirmed-or-scheduled neighbour first
    other = open_page(live.url + "/embed", mobile=True, geolocation=DOOR)
    other.page.wait_for_selector("#list li[data-id='1'] .trust.bad")
    ids = other.page.eval_on_selector_all("#list li[data-id]", "e => e.map(x => x.dataset.id)")
    assert ids == ["2", "1"]


def test_a_tap_from_5_km_is_not_on_site(live: LiveServer, open_page: Open) -> None:
    # a shared link to the station: the page has not located the phone; the tap does
    kit = open_page(live.url + "/embed?station=1", mobile=True, geolocation=FAR)
    kit.page.wait_for_selector("#card .here button[data-state='open']")
    # the map opens on the station: no "距地图中心 0 米", a distance only from the rider
    assert kit.page.locator("#card .dist").count() == 0
    message = _tap(kit, "open", "remote")
    assert "公里" in message and "不算现场确认" in message
    # said in amber, not in the card's body text colour (which hid the difference)
    colour = kit.page.eval_on_selector("#card .here-msg", "e => getComputedStyle(e).color")
    assert colour == "rgb(148, 104, 0)"
    assert kit.page.locator("#card .trust.ok").count() == 0


def test_the_tap_counts_where_the_phone_is_then_not_where_the_page_opened(
    live: LiveServer, open_page: Open
) -> None:
    # the rider opens the map 5 km away, rides to the station, then taps at its door
    kit = _card(open_page, live, FAR)
    assert kit.page.locator("#card .dist").inner_text().startswith("距您 ")  # not the map centre
    kit.page.context.set_geolocation(DOOR)
    assert _tap(kit, "open", "onsite").startswith("谢谢")


def test_a_tap_on_a_station_outside_the_list_keeps_its_card(
    live: LiveServer, open_page: Open
) -> None:
    # a closed station is not in the open-now list; the card opened from a shared link
    services = live.app.state.services
    closed = services.store.create(
        make_station(name="暂停开放的驿站", lon=116.5070, lat=39.7956, status="temporarily_closed"),
        actor="t",
    )
    services.catalog.refresh()
    kit = open_page(live.url + f"/embed?station={closed.id}", mobile=True, geolocation=DOOR)
    kit.page.wait_for_selector("#card .here button[data-state='closed']")
    assert _tap(kit, "closed", "onsite").startswith("谢谢")
    card = kit.page.locator("#card").inner_text()
    assert "暂停开放的驿站" in card and "谢谢" in card


def test_a_gloved_thumb_can_hit_every_control_of_the_card(
    live: LiveServer, open_page: Open
) -> None:
    """At 360×640 every control a rider taps on /embed is at least 40 px tall: the chips,
    导航 and the other apps' links, the phone number, 返回列表 and 报告问题, the zoom buttons.
    (They were 12–32 px: the other apps' links 22×12.)"""
    kit = _card(open_page, live, DOOR)
    page = kit.page
    controls = [
        "#bar .chip",
        "#card .top .go",
        "#card .top .alt a",
        "#card a[href^='tel:']",
        "#card .back",
        "#card .report",
        ".leaflet-control-zoom a",
    ]
    for selector in controls:
        found = page.locator(selector)
        assert found.count() > 0, selector
        for i in range(found.count()):
            box = found.nth(i).bounding_box()
            if box is None:  # a chip scrolled out of the bar's view is still a chip
                continue
            assert box["height"] >= 40, (selector, i, box)
    kit.screenshot("embed-card-targets-360x640")


def test_a_filter_on_a_weak_signal_says_it_is_loading_then_offers_to_retry(
    live: LiveServer, open_page: Open
) -> None:
    """A chip tapped on a weak signal: the list shows it is out of date while the answer
    comes; if none comes, the old list is not left under the new chip, and 重试 asks again."""
    kit = open_page(live.url + "/embed", mobile=True, geolocation=DOOR)
    page = kit.page
    page.wait_for_selector("html[data-list='located']", state="attached")
    held: list[Any] = []
    page.route("**/api/v1/nearest*", lambda route: held.append(route))
    page.click("#bar .chip[data-code='hot_water']")
    page.wait_for_function("() => document.getElementById('list').classList.contains('loading')")
    assert page.inner_text("#status") == "正在查找附近驿站…"
    for _ in range(100):  # the held request reaches this side a moment after it is sent
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the chip asked for no nearest answer"
    for route in held:
        route.abort()
    page.wait_for_selector("html[data-list='failed']", state="attached")
    assert "网络不好" in page.inner_text("#list")
    assert page.locator("#list li.item").count() == 0  # not the unfiltered list of before
    page.unroute("**/api/v1/nearest*")
    page.click("#list .retry")
    page.wait_for_selector("html[data-list='located']", state="attached")
    assert page.locator("#list li.item").count() >= 1
    assert page.inner_text("#status") == "按离您的距离排序"
