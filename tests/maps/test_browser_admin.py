"""The staff console (``/admin``) in Debian's Chromium: the flows union staff depend on.

Log in; add a station by clicking the map (and dragging the marker); two tabs editing the same
station — the stale one sees the conflict and overwrites nothing; a spreadsheet with a bad row
previewed and confirmed; a rider's report accepted. Every request to another host is aborted
(``tests/maps/conftest.py``): the console must work on the service's own assets alone.
Screenshots of each page are saved to ``test-artifacts/``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from geodata.crs import gcj02_to_wgs84, wgs84_to_gcj02
from stations.store.sql import SqlStationStore
from tests.api.staff_kit import PASSWORD, Staff, add_staff, test_settings
from tests.conftest import make_station
from tests.maps.conftest import LiveServer, PageKit, serving, start_server

pytestmark = pytest.mark.browser

Open = Callable[..., PageKit]


class Console:
    """A live server on a fresh store with staff, and what the tests need to reach it."""

    def __init__(self, live: LiveServer, store: SqlStationStore, staff: Staff) -> None:
        self.live = live
        self.store = store
        self.staff = staff

    @property
    def url(self) -> str:
        return self.live.url


@pytest.fixture(scope="module")
def console(module_store_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    """On SQLite and on PostgreSQL + PostGIS: the console is all writes, history and reports."""
    root = tmp_path_factory.mktemp("console")
    store = SqlStationStore(module_store_url)
    staff = add_staff(store)
    seeds: list[dict[str, Any]] = [
        {"name": "荣华中路驿站", "external_id": "YZ-001", "opening_hours": "24/7"},
        {
            "name": "科创街快递驿站",
            "external_id": "YZ-002",
            "lon": 116.5301,
            "lat": 39.7802,
            "host_type": "express_depot",
            "amenities": ["microwave"],
        },
        {
            "name": "博兴路工会驿站",
            "external_id": "YZ-003",
            "lon": 116.4899,
            "lat": 39.8101,
            "status": "temporarily_closed",
            "host_type": "union_office",
        },
    ]
    for k, spec in enumerate(seeds):
        store.create(make_station(**spec), actor=f"seed-{k}")
    app = create_app(test_settings(upload_dir=root / "uploads"), store=store)
    with serving(app, store) as live:
        yield Console(live, store, staff)


def _shot(kit: PageKit, name: str) -> Path:
    return kit.screenshot(name)


def _clean(kit: PageKit, *expected: int) -> None:
    """Nothing but map tiles was asked of another host, and no script failed (Chromium logs
    each 4xx answer as an error: the ``expected`` statuses are the test's own doing)."""
    assert kit.blocked.non_tile() == []
    allowed = tuple(f"status of {code} " for code in expected)
    assert [e for e in kit.console_errors if not any(a in e for a in allowed)] == []


def login(
    open_page: Open,
    console: Console,
    path: str = "/admin",
    *,
    name: str | None = None,
    mobile: bool = False,
) -> PageKit:
    """Open ``path`` (on a 360×640 phone with ``mobile``), get sent to the login form, sign
    in, land back on ``path``."""
    kit = open_page(console.url + path, mobile=mobile)
    page = kit.page
    assert "/admin/login" in page.url
    page.fill("input[name=name]", name or console.staff.editor_name)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert page.url == console.url + path
    return kit


def _editor_ready(kit: PageKit) -> None:
    kit.page.wait_for_selector("html[data-editor='ready']", state="attached")


# -- logging in ------------------------------------------------------------------------------


def test_login_list_filters_and_logout(console: Console, open_page: Open) -> None:
    kit = open_page(console.url + "/admin")
    page = kit.page
    assert "/admin/login" in page.url
    page.fill("input[name=name]", console.staff.editor_name)
    page.fill("input[name=password]", "wrong password!")
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert "用户名或密码错误" in page.inner_text(".msg.error")
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert "stations_session" not in cookies

    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert page.url == console.url + "/admin"
    session = {c["name"]: c for c in page.context.cookies()}["stations_session"]
    assert session["httpOnly"] and session["sameSite"] == "Lax"
    assert page.evaluate("document.cookie").find("stations_session") < 0  # not readable by JS
    assert page.inner_text(".user-name") == console.staff.editor_name
    names = page.locator("#station-table td.name a").all_text_contents()
    assert {"荣华中路驿站", "科创街快递驿站", "博兴路工会驿站"} <= set(names)

    page.select_option("select[name=status]", "temporarily_closed")
    with page.expect_navigation():
        page.click(".filters button[type=submit]")
    assert page.locator("#station-table td.name a").all_text_contents() == ["博兴路工会驿站"]
    page.goto(console.url + "/admin?amenity=microwave&host_type=express_depot")
    assert page.locator("#station-table td.name a").all_text_contents() == ["科创街快递驿站"]
    page.fill("input[name=q]", "工会驿站")
    for name in ("amenity", "host_type"):
        page.select_option(f"select[name={name}]", "")
    with page.expect_navigation():
        page.click(".filters button[type=submit]")
    assert page.locator("#station-table td.name a").all_text_contents() == ["博兴路工会驿站"]
    page.goto(console.url + "/admin")
    _shot(kit, "admin-list")

    with page.expect_navigation():
        page.click(".who button[type=submit]")
    assert "/admin/login" in page.url and "已退出" in page.inner_text("main")
    page.goto(console.url + "/admin")
    assert "/admin/login" in page.url  # the session is gone on the server too
    _clean(kit, 400)


# -- adding a station on the map ---------------------------------------------------------------


def test_add_a_station_by_clicking_and_dragging_on_the_map(
    console: Console, open_page: Open
) -> None:
    kit = login(open_page, console, "/admin/stations/new")
    page = kit.page
    _editor_ready(kit)
    page.fill("input[name=name]", "经海路新驿站")
    page.fill("input[name=address]", "经海路 66 号")
    page.check("input[name=amenities][value=hot_water]")
    page.check("input[name=amenities][value=charging]")
    page.select_option("select[name=host_type]", "convenience_store")

    hours = page.locator("#opening-hours")
    hours.fill("Mo-Fr 08:00-2")
    page.wait_for_selector("#hours-check.bad")
    check = page.inner_text("#hours-check")
    # The reason names the field and shows examples that work (Chinese forms are accepted).
    assert "开放时间无法识别" in check and "周一至周五 9:00-18:00" in check
    hours.fill("Mo-Fr 08:00-20:00; Sa,Su 09:00-17:00")
    page.wait_for_selector("#hours-check.good")

    box = page.locator("#map").bounding_box()
    click = (box["x"] + 320, box["y"] + 180)
    page.mouse.click(*click)
    icon = page.locator(".leaflet-marker-icon").bounding_box()
    # the marker's tip (bottom centre of the icon) is where the map was clicked
    assert icon["x"] + 12 == pytest.approx(click[0], abs=1.5)
    assert icon["y"] + 41 == pytest.approx(click[1], abs=1.5)
    clicked = [float(page.input_value("#wgs-lon")), float(page.input_value("#wgs-lat"))]

    page.mouse.move(click[0], click[1] - 20)  # grab the icon, drag it 60 px right, 40 down
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(click[0] + 6 * step, click[1] - 20 + 4 * step)
    page.mouse.up()
    lon, lat = float(page.input_value("#wgs-lon")), float(page.input_value("#wgs-lat"))
    assert lon > clicked[0] and lat < clicked[1]  # east and south of the click
    glon, glat = float(page.input_value("#gcj-lon")), float(page.input_value("#gcj-lat"))
    assert [glon, glat] == pytest.approx(list(wgs84_to_gcj02(lon, lat)), abs=2e-7)
    _shot(kit, "admin-edit-new")

    with page.expect_navigation():
        page.click("#save")
    assert "?created=1" in page.url
    page.wait_for_selector(".msg.ok")
    sid = int(page.url.split("/admin/stations/")[1].split("?")[0])
    stored = console.store.get(sid)
    assert stored.data.name == "经海路新驿站"
    assert (stored.data.lon, stored.data.lat) == pytest.approx((lon, lat), abs=1e-7)
    assert stored.data.amenities == ("hot_water", "charging")
    assert stored.data.opening_hours == "Mo-Fr 08:00-20:00; Sa,Su 09:00-17:00"
    assert console.store.history(sid)[0].actor == console.staff.editor_name

    api = httpx.get(console.url + "/api/v1/stations", params={"q": "经海路新"}).json()
    assert [f["id"] for f in api["features"]] == [sid]
    page.goto(console.url + "/admin?q=%E7%BB%8F%E6%B5%B7%E8%B7%AF")  # 经海路
    assert "经海路新驿站" in page.locator("#station-table td.name a").all_text_contents()
    _shot(kit, "admin-list-after-add")

    # delete it (after a confirm dialog), then bring it back from its history
    page.goto(f"{console.url}/admin/stations/{sid}")
    _editor_ready(kit)
    page.once("dialog", lambda d: d.accept())
    with page.expect_navigation():
        page.click("#delete")
    assert page.url == f"{console.url}/admin?deleted={sid}"
    assert "已删除" in page.inner_text(".msg.ok")
    assert "经海路新驿站" not in page.inner_text("#station-table")
    page.click(".msg.ok a")
    page.once("dialog", lambda d: d.accept())
    with page.expect_navigation():
        page.locator("button", has_text="恢复驿站").click()
    assert console.store.get(sid).data.name == "经海路新驿站"
    assert [e.action for e in console.store.history(sid)] == ["create", "delete", "restore"]
    _clean(kit)


# -- two tabs, one station ---------------------------------------------------------------------


def test_a_stale_tab_sees_the_conflict_and_overwrites_nothing(
    console: Console, open_page: Open
) -> None:
    station = console.store.create(
        make_station(name="双标签测试驿站", external_id="YZ-050", notes="原备注"), actor="seed"
    )
    path = f"/admin/stations/{station.id}"
    first = login(open_page, console, path)
    second = login(open_page, console, path)
    for kit in (first, second):
        _editor_ready(kit)
        assert kit.page.inner_text("#version") == "1"

    first.page.fill("input[name=name]", "双标签测试驿站（已改名）")
    first.page.click("#save")
    first.page.wait_for_selector("#editor-message .msg.ok")
    assert first.page.inner_text("#version") == "2"

    second.page.fill("textarea[name=notes]", "第二个标签页的备注")
    second.page.click("#save")
    conflict = second.page.locator("#conflict")
    conflict.wait_for()
    assert "已被其他人修改" in conflict.inner_text()
    assert "没有保存" in conflict.inner_text()
    second.page.locator("#conflict .sub", has_text="最近一次修改").wait_for()
    assert console.staff.editor_name in conflict.inner_text()
    _shot(second, "admin-edit-conflict")

    now = console.store.get(station.id)
    assert now.version == 2
    assert now.data.name == "双标签测试驿站（已改名）"
    assert now.data.notes == "原备注"  # the stale tab's edit was not written

    with second.page.expect_navigation():
        second.page.click("#reload-latest")
    _editor_ready(second)
    assert second.page.input_value("input[name=name]") == "双标签测试驿站（已改名）"
    second.page.fill("textarea[name=notes]", "第二个标签页的备注")
    second.page.click("#save")
    second.page.wait_for_selector("#editor-message .msg.ok")
    now = console.store.get(station.id)
    assert (now.version, now.data.notes) == (3, "第二个标签页的备注")
    assert now.data.name == "双标签测试驿站（已改名）"
    _clean(first)
    _clean(second, 412)


# -- spreadsheet import ------------------------------------------------------------------------


def test_import_preview_shows_the_bad_row_then_confirm_applies_the_rest(
    console: Console, open_page: Open, tmp_path: Path
) -> None:
    sheet = tmp_path / "亦庄驿站.csv"
    sheet.write_text(
        "外部编号,名称,地址,经度,纬度,服务设施,开放时间\n"
        "YZ-101,泰河路驿站,泰河路1号,116.5201,39.7901,热水；充电,24/7\n"
        "YZ-102,宏达路驿站,宏达路2号,116.5102,39.7993,饮用水,Mo-Fr 25:00-30:00\n"
        "YZ-001,荣华中路驿站,北京市大兴区荣华中路10号,116.5068,39.7954,热水、卫生间,24/7\n",
        encoding="utf-8",
    )
    before = console.store.get(console.store.by_external_ids(["YZ-001"])["YZ-001"].id)
    kit = login(open_page, console, "/admin/import")
    page = kit.page
    page.set_input_files("input[name=file]", str(sheet))
    with page.expect_navigation():
        page.click("#upload-form button[type=submit]")
    page.wait_for_selector("#import-preview")
    counts = {
        k: page.inner_text(f"#count-{k}") for k in ("added", "updated", "unchanged", "invalid")
    }
    assert counts == {"added": "1", "updated": "1", "unchanged": "0", "invalid": "1"}
    rows = page.locator("#import-problems tbody tr")
    assert rows.count() >= 1
    first = rows.first.locator("td").all_text_contents()
    assert first[0] == "3"  # the sheet's row number (header = row 1)
    assert "开放时间" in first[1] and "25:00" in first[2]
    assert console.store.by_external_ids(["YZ-101"]) == {}  # a preview writes nothing
    _shot(kit, "admin-import-preview")
    action = console.url + page.get_attribute("#confirm-form", "action")
    csrf = page.get_attribute("#confirm-form input[name=csrf_token]", "value")

    with page.expect_navigation():
        page.click("#confirm-import")
    page.wait_for_selector("#import-done")
    assert page.inner_text("#count-added") == "1" and page.inner_text("#count-updated") == "1"
    assert page.locator("a[href$='/rejected']").count() == 1
    _shot(kit, "admin-import-done")

    found = console.store.by_external_ids(["YZ-101", "YZ-102", "YZ-001"])
    assert set(found) == {"YZ-101", "YZ-001"}
    added = console.store.history(found["YZ-101"].id)
    assert (added[0].action, added[0].actor) == ("import", console.staff.editor_name)
    after = found["YZ-001"]
    assert after.version == before.version + 1 and "toilet" in after.data.amenities
    listed = httpx.get(console.url + "/api/v1/stations", params={"q": "泰河路"}).json()
    assert [f["properties"]["name"] for f in listed["features"]] == ["泰河路驿站"]

    rejected = page.request.get(console.url + page.get_attribute("a[href$='/rejected']", "href"))
    assert rejected.ok and "宏达路驿站" in rejected.text()
    # the same upload cannot be imported twice (a reload re-posting the form, a second tab)
    again = page.request.post(action, form={"csrf_token": csrf, "skip_invalid": "1"})
    assert again.status == 409 and "已失效" in again.text()
    assert len(console.store.history(found["YZ-101"].id)) == 1
    _clean(kit)


# -- rider reports -----------------------------------------------------------------------------


def test_accepting_a_closed_report_pauses_the_station_with_the_reviewer_in_history(
    console: Console, open_page: Open
) -> None:
    station = console.store.create(
        make_station(name="反馈测试驿站", external_id="YZ-077"), actor="seed"
    )
    sent = httpx.post(
        f"{console.url}/api/v1/stations/{station.id}/reports",
        json={"kind": "closed", "text": "下午三点来过，门锁着"},
    )
    assert sent.status_code == 201, sent.text
    other = httpx.post(
        f"{console.url}/api/v1/stations/{station.id}/reports",
        json={"kind": "other", "text": "热水器坏了"},
    )
    assert other.status_code == 201
    assert console.store.get(station.id).data.status == "open"  # a report alone changes nothing

    kit = login(open_page, console, "/admin/reports")
    page = kit.page
    assert page.inner_text(".main-nav .badge") == "2"
    row = page.locator(f"tr[data-report='{sent.json()['id']}']")
    assert "反馈测试驿站" in row.inner_text() and "门锁着" in row.inner_text()
    _shot(kit, "admin-reports")

    # accepting a 关门 report pauses the station: the console says so first, and what to do
    # instead when riders only could not get in
    asked: list[str] = []
    page.once("dialog", lambda d: (asked.append(d.message), d.accept()))
    row.locator("button", has_text="采纳").click()
    page.wait_for_selector("#flash .msg.ok")
    assert "暂停开放" in asked[0] and "进门方式" in asked[0]
    assert "暂停开放" in page.inner_text("#flash")
    assert "已采纳" in row.inner_text()
    page.locator(f"tr[data-report='{other.json()['id']}'] button", has_text="驳回").click()
    page.locator("#flash", has_text="已驳回").wait_for()

    now = console.store.get(station.id)
    assert (now.data.status, now.version) == ("temporarily_closed", 2)
    last = console.store.history(station.id)[-1]
    assert (last.action, last.actor) == ("update", console.staff.editor_name)

    page.goto(f"{console.url}/admin/stations/{station.id}/history")
    top = page.locator("#history-table tbody tr").first
    assert top.locator(".actor").inner_text() == console.staff.editor_name
    assert "暂停开放" in top.inner_text() and "正常开放" in top.inner_text()
    _shot(kit, "admin-history")

    # restore version 1 from the history page (a confirm dialog first)
    page.once("dialog", lambda d: d.accept())
    with page.expect_navigation():
        page.locator("tr[data-version='1'] button", has_text="恢复到此版本").click()
    assert console.store.get(station.id).data.status == "open"
    assert page.locator("#history-table tbody tr").first.locator(".action").inner_text() == "恢复"
    _clean(kit)


def test_the_report_queue_works_from_a_phone(console: Console, open_page: Open) -> None:
    station = console.store.create(make_station(name="手机审核驿站"), actor="seed")
    sent = httpx.post(
        f"{console.url}/api/v1/stations/{station.id}/reports",
        json={"kind": "closed", "text": "晚上八点来过，门锁着，保安说已经搬走了"},
    )
    assert sent.status_code == 201, sent.text
    kit = login(open_page, console, "/admin/reports", mobile=True)
    page = kit.page
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scroll
    row = page.locator(f"tr[data-report='{sent.json()['id']}']")
    first_sent = row.locator("td.time").first  # a card says what each time is
    label = first_sent.evaluate("e => getComputedStyle(e, '::before').content")
    assert label == '"首次提交："'
    button = row.locator("button", has_text="驳回")
    box = button.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 360 and box["height"] >= 44
    _shot(kit, "admin-reports-360x640")
    button.tap()
    page.locator("#flash", has_text="已驳回").wait_for()
    _clean(kit)


def test_a_viewer_can_look_but_not_edit(console: Console, open_page: Open) -> None:
    kit = login(open_page, console, "/admin/stations/1", name=console.staff.viewer_name)
    page = kit.page
    _editor_ready(kit)
    assert page.locator("input[name=name]").is_disabled() and page.locator("#save").is_disabled()
    assert page.locator(".main-nav a", has_text="导入导出").count() == 0
    page.goto(console.url + "/admin/import")
    assert "需要编辑权限" in page.inner_text("h1")
    _clean(kit, 403)


def test_on_the_amap_basemap_the_marker_is_drawn_and_read_in_gcj02(
    console: Console, open_page: Open
) -> None:
    """AMap tiles are GCJ-02: the point must be drawn shifted and read back unshifted, or
    every station placed on that basemap is stored 100–700 m off."""
    live, stop = start_server(create_app(test_settings(basemap="amap"), store=console.store))
    try:
        station = console.store.by_external_ids(["YZ-002"])["YZ-002"]
        kit = open_page(f"{live.url}/admin/stations/{station.id}")
        page = kit.page
        page.fill("input[name=name]", console.staff.editor_name)
        page.fill("input[name=password]", PASSWORD)
        with page.expect_navigation():
            page.click("button[type=submit]")
        _editor_ready(kit)
        assert page.evaluate("() => WarmAdmin.editor.crs") == "gcj02"
        drawn = page.evaluate(
            "() => { const p = WarmAdmin.editor.marker().getLatLng(); return [p.lng, p.lat]; }"
        )
        expected = wgs84_to_gcj02(station.data.lon, station.data.lat)
        assert drawn == pytest.approx(list(expected), abs=1e-9)

        box = page.locator("#map").bounding_box()
        page.mouse.click(box["x"] + 150, box["y"] + 120)
        clicked = page.evaluate(
            "() => { const p = WarmAdmin.editor.marker().getLatLng(); return [p.lng, p.lat]; }"
        )
        wgs = [float(page.input_value("#wgs-lon")), float(page.input_value("#wgs-lat"))]
        assert wgs == pytest.approx(list(gcj02_to_wgs84(*clicked)), abs=2e-7)
        assert [
            float(page.input_value("#gcj-lon")),
            float(page.input_value("#gcj-lat")),
        ] == pytest.approx(clicked, abs=2e-7)
        assert kit.blocked.non_tile() == []
        assert any("autonavi.com" in u for u in kit.blocked.urls)  # AMap tiles were asked for
    finally:
        stop()
