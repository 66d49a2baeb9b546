"""The station editor's 骑手反馈与核查 in Debian's Chromium: staff read what each rider said,
mark the station checked from there, and the doubt riders are shown is settled at once —
and the form, one version behind after the check, still saves."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from stations.store.sql import SqlStationStore
from tests.api.staff_kit import PASSWORD, Staff, add_staff, test_settings
from tests.conftest import make_station
from tests.maps.conftest import LiveServer, PageKit, serving

pytestmark = pytest.mark.browser
Open = Callable[..., PageKit]
DOOR = (116.5068, 39.7954)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[LiveServer, Staff]]:
    store = SqlStationStore("sqlite:///" + str(tmp_path / "evidence.db"))
    store.create(make_station(name="荣华中路暖心驿站", opening_hours="24/7"), actor="t")
    staff = add_staff(store)
    app = create_app(test_settings(photo_dir=tmp_path / "photos"), store=store)
    with serving(app, store) as live:
        yield live, staff


def _three_riders_say_closed(live: LiveServer) -> None:
    for i in range(3):
        said = httpx.post(
            f"{live.url}/api/v1/stations/1/confirmations",
            json={"state": "closed", "lon": DOOR[0], "lat": DOOR[1]},
            headers={"X-Device-Id": f"rider-phone-{i}"},
        )
        assert said.status_code == 201, said.text


def _sign_in(page: Any, staff: Staff) -> None:
    """The console's login form, which any page sends a signed-out visitor to first."""
    page.fill("input[name=name]", staff.editor_name)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")


def test_staff_read_the_votes_and_settle_the_doubt_from_the_editor(
    site: tuple[LiveServer, Staff], open_page: Open
) -> None:
    live, staff = site
    _three_riders_say_closed(live)
    kit = open_page(live.url + "/admin/stations/1")
    page = kit.page
    _sign_in(page, staff)
    page.wait_for_selector("html[data-editor='ready']", state="attached")
    # said at the top of the form, with a link down to the votes
    assert "骑手反映可能不开放：近 3 天 3 人反映关门" in page.inner_text("#doubt-note")
    assert page.inner_text("#evidence-link") == "骑手反馈（3）"
    page.click("#doubt-note a")
    page.wait_for_function("() => location.hash === '#evidence'")
    assert page.inner_text("#trust-now").startswith("可能不开放")
    assert page.locator("#votes tbody tr").count() == 3
    assert "共 3 部手机" in page.inner_text("#votes caption")
    version = int(page.inner_text("#version"))
    kit.screenshot("admin-editor-evidence-1366")

    page.click("#mark-checked")
    page.wait_for_function(
        "() => document.getElementById('last-checked').textContent.startsWith('今天 ')"
    )
    page.wait_for_function(
        "() => !document.getElementById('trust-now').textContent.includes('可能不开放')"
    )
    assert int(page.inner_text("#version")) == version + 1  # the form follows the check
    assert "已记录核查" in page.inner_text("#evidence .row-msg")
    riders = httpx.get(f"{live.url}/api/v1/stations/1").json()["properties"]
    assert riders["confidence"] != "doubtful" and riders["verified_at"] is not None

    page.fill("textarea[name=notes]", "核查后补充：门口有密码锁")
    page.click("#save")
    page.wait_for_function(
        "() => document.getElementById('editor-message').textContent.includes('已保存')"
    )
    assert int(page.inner_text("#version")) == version + 2  # saved, not refused as stale
    kit.screenshot("admin-editor-evidence-checked-1366")


def test_the_station_maps_popup_shows_the_door_the_entry_and_the_doubt(
    site: tuple[LiveServer, Staff], open_page: Open
) -> None:
    """The full map's popup says what the riders' card says: the door photo first, how to
    get in, and that riders doubt a station the hours call open (not a green 开放中)."""
    from tests.stations.photos.test_process import jpeg_with_gps

    live, staff = site
    sent = httpx.post(
        f"{live.url}/api/v1/stations/1/photos",
        files={"file": ("door.jpg", jpeg_with_gps(), "image/jpeg")},
        headers=staff.as_editor,
        timeout=60,
    )
    assert sent.status_code == 201, sent.text
    version = sent.json()["station_version"]
    edited = httpx.patch(
        f"{live.url}/api/v1/stations/1",
        json={"entry": "code_lock", "no_smartphone_ok": True},
        headers={**staff.as_editor, "If-Match": f'"{version}"'},
    )
    assert edited.status_code == 200, edited.text
    _three_riders_say_closed(live)
    kit = open_page(live.url + "/maps/stations")
    kit.page.wait_for_selector(".leaflet-marker-icon")
    popup = kit.click_marker("荣华中路暖心驿站")
    assert popup.locator(".ws-badge").text_content() == "按时间应营业"
    assert "可能不开放 · 近 3 天 3 人反映关门" in popup.locator(".ws-trust").text_content()
    assert popup.locator(".ws-entry .ws-val").text_content() == "密码锁，不用智能手机也能进"
    door = popup.locator("a.ws-door img")
    assert door.get_attribute("src") == sent.json()["urls"]["thumb"]
    kit.page.wait_for_function("() => document.querySelector('a.ws-door img').naturalWidth > 0")
    kit.screenshot("maps-stations-popup-evidence")


@pytest.mark.parametrize(
    "path", ["/admin", "/admin/stations/1", "/admin/stations/1/history", "/admin/import"]
)
def test_every_console_page_fits_a_staff_phone(
    site: tuple[LiveServer, Staff], open_page: Open, path: str
) -> None:
    """At 360×640 the list, the editor, the history and the import page fit the screen (a
    wide table scrolls inside itself), the menu is one row, and the editor's links and
    checkboxes are a thumb's size. (They were laid out 960 px wide: the table cut off,
    退出 off-screen, 修改历史 one character per line.)"""
    live, staff = site
    kit = open_page(live.url + path, mobile=True)
    page = kit.page
    _sign_in(page, staff)
    page.wait_for_load_state("load")
    wide = page.evaluate(
        "() => [...document.querySelectorAll('body *')].filter(e => !e.closest('.main-nav')"
        " && e.getBoundingClientRect().right > 361)"
        ".map(e => e.tagName + '.' + e.className + '#' + e.id).slice(0, 8)"
    )
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 360, wide
    nav = page.locator(".main-nav").bounding_box()
    assert nav is not None and nav["height"] < 60
    logout = page.locator(".top form button, .top a[href*='logout']").first
    box = logout.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 360  # 退出 in reach
    if path == "/admin/stations/1":
        page.wait_for_selector("html[data-editor='ready']", state="attached")
        for link in page.locator(".title-row .actions a").all():
            b = link.bounding_box()
            assert b is not None and b["height"] >= 40 and b["x"] + b["width"] <= 360, b
        check = page.locator(".editor label.check").first.bounding_box()
        assert check is not None and check["height"] >= 40
        form = page.locator(".col-form").bounding_box()
        assert form is not None and form["width"] <= 360
    kit.screenshot("admin-360" + path.replace("/", "-"))
