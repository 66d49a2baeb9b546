"""The re-check round in Debian's Chromium: a staff member's phone at 360×640 taps 已核查 from
the worklist, and the round, leaving from the union office, prints on A4 in round order
without the console around it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pypdfium2 as pdfium
import pytest

from api.app import create_app
from stations.store.sql import SqlStationStore
from tests.api.staff_kit import PASSWORD, Staff, add_staff, test_settings
from tests.conftest import make_station
from tests.maps.conftest import LiveServer, PageKit, start_server
from tests.stations.photos.test_process import jpeg_with_gps

pytestmark = pytest.mark.browser
Open = Callable[..., PageKit]

# Stops on a line west → east (created out of order), and the union office at the west end:
# a round from the office goes out along the line and comes back.
STOPS = {"A01": 116.51, "A04": 116.54, "A02": 116.52, "A03": 116.53}
OFFICE = 116.495


@pytest.fixture
def live(tmp_path: Any) -> Iterator[tuple[LiveServer, SqlStationStore, Staff, int]]:
    store = SqlStationStore("sqlite:///" + str(tmp_path / "recheck.db"))
    for name, lon in STOPS.items():
        store.create(make_station(name=f"驿站 {name}", lon=lon, lat=39.80), actor="t")
    office = store.create(
        make_station(
            name="亦庄工会服务站",
            lon=OFFICE,
            lat=39.80,
            host_type="union_office",
            phone="010-67856789",
        ),
        actor="t",
    )
    staff = add_staff(store)
    server, stop = start_server(create_app(test_settings(photo_dir=tmp_path), store=store))
    try:
        yield server, store, staff, office.id
    finally:
        stop()
        store.close()


def _login(open_page: Open, base: str, staff: Staff, path: str, **kw: Any) -> PageKit:
    kit = open_page(base + path, **kw)
    page = kit.page
    page.fill("input[name=name]", staff.editor_name)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert page.url == base + path
    return kit


def _order(kit: PageKit) -> list[str]:
    names = kit.page.locator("#recheck li a").all_inner_texts()
    return [n.removeprefix("驿站 ") for n in names if n.startswith("驿站 ")]


def test_a_phone_taps_checked_from_the_worklist(live: Any, open_page: Open) -> None:
    server, store, staff, office = live
    path = f"/admin/recheck?start_station={office}"
    kit = _login(open_page, server.url, staff, path, mobile=True)
    page = kit.page
    assert _order(kit) == ["A01", "A02", "A03", "A04"]  # out from the office, along the line
    assert "起点和终点：亦庄工会服务站" in page.inner_text("main")
    item = page.locator("#recheck li[data-station='3']")  # A02
    button = item.locator("button.checked-btn")
    box = button.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 360 and box["height"] >= 44
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scroll
    assert "从未核查" in item.inner_text()
    assert button.inner_text() == "标记已核查"
    button.tap()
    # The stop stays in place (the round is not re-solved), shows the check, and keeps only
    # what a visit does not settle (a photo to upload).
    item.locator(".checked-mark").wait_for()
    assert item.locator(".checked-mark").inner_text().startswith("✓ 已核查")
    assert item.locator(".reason-no_photo").count() == 1
    assert item.locator(".reason-never_verified").is_hidden()
    assert "上次核查：从未" not in item.inner_text()
    # said on the stop itself: on a phone the page's message area is far above
    said = item.locator(".row-msg").inner_text()
    assert "已记录核查：驿站 A02。仍需处理：缺少门口照片" in said
    assert _order(kit) == ["A01", "A02", "A03", "A04"]
    station = store.get(3)
    assert station.verified_at is not None
    # the time of the check in the stations' time zone (Beijing), whatever the phone's says
    beijing = station.verified_at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%H:%M")
    assert item.locator(".checked-mark > span").inner_text() == f"✓ 已核查 {beijing}"
    assert store.history(3)[-1].action == "verify"
    # a tap by mistake on the next stop is taken back with 撤销: the stop is as it was
    other = page.locator("#recheck li[data-station='4']")  # A03
    other.locator("button.checked-btn").tap()
    other.locator(".checked-mark").wait_for()
    assert store.get(4).verified_at is not None
    undo = other.locator("button.undo-check")
    box = undo.bounding_box()
    assert box is not None and box["height"] >= 44 and box["x"] + box["width"] <= 360
    other.scroll_into_view_if_needed()
    kit.screenshot("recheck-undo-360x640")
    undo.tap()
    other.locator(".checked-mark").wait_for(state="detached")
    assert "已撤销核查：驿站 A03。" in other.locator(".row-msg").inner_text()
    assert other.locator("button.checked-btn").is_visible()
    assert other.locator(".reason-never_verified").is_visible()
    assert "上次核查：从未" in other.inner_text()
    assert store.get(4).verified_at is None
    assert [e.action for e in store.history(4)[-2:]] == ["verify", "unverify"]
    # someone else checks a stop after this phone did: this phone's 撤销 is refused, on the
    # stop, and the other check stands
    office_stop = page.locator(f"#recheck li[data-station='{office}']")
    office_stop.locator("button.checked-btn").tap()
    office_stop.locator(".checked-mark").wait_for()
    theirs = store.verify(office, actor="其他核查员")
    office_stop.locator("button.undo-check").tap()
    office_stop.locator(".row-msg.error").wait_for()
    said = office_stop.locator(".row-msg").inner_text()
    assert "没有撤销：" in said and "又被核查或撤销过" in said
    assert store.get(office).verified_at == theirs.verified_at
    # someone else checked a stop after this page was loaded, then this phone checks it too:
    # 撤销 gives back their check, and the page shows it (read again), not "从未"
    a04 = page.locator("#recheck li[data-station='2']")
    first = store.verify(2, actor="其他核查员")
    a04.locator("button.checked-btn").tap()
    a04.locator(".checked-mark").wait_for()
    with page.expect_navigation():
        a04.locator("button.undo-check").tap()
    assert store.get(2).verified_at == first.verified_at
    shown = first.verified_at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    a04 = page.locator("#recheck li[data-station='2']")
    assert f"上次核查：{shown}" in a04.inner_text() and "从未核查" not in a04.inner_text()
    page.reload()  # after a reload the check holds: the worklist says the same
    assert "从未核查" not in page.locator("#recheck li[data-station='3']").inner_text()
    # the browser logs the refused 撤销's 412 itself; nothing else went wrong
    assert [e for e in kit.console_errors if "status of 412" not in e] == []
    assert kit.blocked.non_tile() == []
    kit.screenshot("recheck-checked-360x640")


def test_a_missing_door_photo_is_taken_from_the_round(
    live: Any, open_page: Open, tmp_path: Path
) -> None:
    server, store, staff, office = live
    kit = _login(
        open_page, server.url, staff, f"/admin/recheck?start_station={office}", mobile=True
    )
    page = kit.page
    # on a phone the console's links stay on one sideways-scrolling row above the round,
    # scrolled so that the current page's entry is in view
    nav = page.locator(".main-nav").bounding_box()
    assert nav is not None and nav["height"] < 60
    here = page.locator(".main-nav a.active").bounding_box()
    assert here is not None and here["x"] >= 0 and here["x"] + here["width"] <= 360
    item = page.locator("#recheck li[data-station='4']")  # A03
    assert item.locator(".reason-no_photo").count() == 1
    button = item.locator("label.stop-photo")
    box = button.bounding_box()
    assert box is not None and box["height"] >= 44 and box["x"] + box["width"] <= 360
    assert button.inner_text() == "拍门口照片"
    # too small to show the door: refused, with the reason, and the stop keeps its button
    tiny = tmp_path / "tiny.jpg"
    tiny.write_bytes(jpeg_with_gps((8, 8)))
    item.locator("input[data-upload]").set_input_files(str(tiny))
    item.locator(".row-msg.error").wait_for()
    said = item.locator(".row-msg").inner_text()
    assert said.startswith("照片没有上传：照片太小（8×8 像素）")  # its own reason, said once
    assert "照片：照片" not in said
    assert store.get(4).photos == ()
    camera = tmp_path / "door.jpg"
    camera.write_bytes(jpeg_with_gps((1200, 900)))
    item.locator("input[data-upload]").set_input_files(str(camera))
    item.locator(".row-msg.ok").wait_for()
    assert item.locator(".reason-no_photo").count() == 0
    assert item.locator("label.stop-photo").count() == 0
    assert "已上传门口照片（1200×900）" in item.inner_text()
    assert len(store.get(4).photos) == 1  # published, as from the station editor
    page.reload()  # the worklist no longer asks for it
    assert page.locator("#recheck li[data-station='4'] .reason-no_photo").count() == 0
    assert page.locator("#recheck li[data-station='3'] .reason-no_photo").count() == 1
    # the browser logs the refused upload's 422 itself; nothing else went wrong
    assert [e for e in kit.console_errors if "status of 422" not in e] == []
    assert kit.blocked.non_tile() == []
    kit.screenshot("recheck-door-photo-360x640")


def test_the_district_filter_works_with_no_start_chosen(live: Any, open_page: Open) -> None:
    server, store, staff, _office = live
    store.update(2, {"district": "通州区"}, actor="t", expected_version=1)
    kit = _login(open_page, server.url, staff, "/admin/recheck", mobile=True)
    page = kit.page
    page.select_option("select[name=district]", "通州区")
    with page.expect_navigation():
        page.click(".recheck-filter button[type=submit]")  # sends start_station= (不指定起点)
    assert "start_station=" in page.url
    assert _order(kit) == ["A04"]
    assert "1 个驿站待核查" in page.inner_text("main")


def test_the_round_prints_on_a4_in_round_order(live: Any, open_page: Open) -> None:
    server, _store, staff, office = live
    kit = _login(open_page, server.url, staff, f"/admin/recheck?start_station={office}")
    page = kit.page
    page.emulate_media(media="print")
    # Print rules apply: no buttons, filters or navigation; a tick box per stop instead.
    assert not page.locator("#recheck button.checked-btn").first.is_visible()
    assert not page.locator("form.recheck-filter").is_visible()
    assert not page.locator("header.top").is_visible()
    assert page.locator("#recheck .print-only").first.is_visible()
    printed = page.pdf(prefer_css_page_size=True)
    kit.screenshot("recheck-a4-screen").with_name("recheck-a4.pdf").write_bytes(printed)
    pdf = pdfium.PdfDocument(printed)
    width, height = pdf[0].get_size()
    assert (round(width), round(height)) == (595, 842)  # A4 portrait, in points
    text = "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    found = re.findall(r"A0[1-4]", text)
    assert found == ["A01", "A02", "A03", "A04"]  # the stops, in round order
    for chrome in ("管理后台", "驿站列表", "退出", "筛选", "导出 Excel", "打印路线单"):
        assert chrome not in text
    assert text.count("□ 已核查") == 5  # the four stops and the office itself
    # each sheet says what it is and which page it is; each stop, when it opens and its phone
    pages = len(pdf)
    for i in range(pages):
        sheet = pdf[i].get_textpage().get_text_range()
        assert "暖心驿站 · 核查路线单" in sheet and f"第 {i + 1} 页，共 {pages} 页" in sheet
    assert text.count("开放时间：") == 5 and "电话：010-67856789" in text
    assert re.search(r"打印时间：\d{4}-\d{2}-\d{2} \d{2}:\d{2}", text)
    assert "标记已核查" not in text and "拍照上传" not in text  # the screen's instructions
    # the route sheet's title is its own: another console page prints without it
    page.goto(server.url + "/admin/photos")
    page.emulate_media(media="print")
    other = pdfium.PdfDocument(page.pdf(prefer_css_page_size=True))
    printed = "".join(other[i].get_textpage().get_text_range() for i in range(len(other)))
    assert "核查路线单" not in printed and "第 1 页" in printed
    assert kit.console_errors == []
