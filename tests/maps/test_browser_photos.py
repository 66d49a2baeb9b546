"""Door photos in Debian's Chromium at 360×640: staff review riders' photos on a phone, and
the rider's card shows the door photo first, lazily, within the page's weight.

On SQLite only: what these pages add is the page itself; the store's side of every step
(accept in one transaction with its history, reject, the confirmation link) is tested on
SQLite and PostgreSQL in ``tests/stations/photos`` and ``tests/api/rest/test_photos_api.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from api.app import create_app
from stations.photos.process import THUMB_MAX_BYTES
from stations.store.photos import SqlPhotoStore
from stations.store.schema import confirmations_table, photos_table
from stations.store.sql import SqlStationStore
from tests.api.staff_kit import PASSWORD, Staff, add_staff, test_settings
from tests.conftest import make_station
from tests.maps.conftest import LiveServer, PageKit, serving
from tests.stations.photos.test_process import busy_photo, jpeg_with_gps

pytestmark = pytest.mark.browser

Open = Callable[..., PageKit]
DOOR = {"longitude": 116.5068, "latitude": 39.7954}


@dataclass
class Site:
    live: LiveServer
    store: SqlStationStore
    staff: Staff


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    store = SqlStationStore("sqlite:///" + str(tmp_path / "photos.db"))
    store.create(make_station(name="荣华中路暖心驿站", opening_hours="24/7"), actor="t")
    staff = add_staff(store)
    app = create_app(test_settings(photo_dir=tmp_path / "photos"), store=store)
    with serving(app, store) as live:
        yield Site(live, store, staff)


def _rider_photo(site: Site, device: str, size: tuple[int, int], state: str) -> int:
    """A rider's photo over HTTP, after their 我在这里 tap with ``state`` at the door."""
    headers = {"X-Device-Id": device}
    said = httpx.post(
        f"{site.live.url}/api/v1/stations/1/confirmations",
        json={"state": state, "lat": DOOR["latitude"], "lon": DOOR["longitude"]},
        headers=headers,
    )
    assert said.status_code == 201, said.text
    sent = httpx.post(
        f"{site.live.url}/api/v1/stations/1/photos/rider",
        files={"file": ("door.jpg", jpeg_with_gps(size), "image/jpeg")},
        data={"confirmation_id": str(said.json()["id"])},
        headers=headers,
        timeout=120,
    )
    assert sent.status_code == 202, sent.text
    return int(sent.json()["id"])


def _as_before_the_rule(site: Site, photo_id: int, *, distance_m: float | None = None) -> None:
    """Make a queued photo look like one sent before a photo needed a tap at the door (an
    upgrade keeps those in the queue): with no confirmation, or, given ``distance_m``, with
    one counted as remote, cast that far away."""
    with site.store.engine.begin() as conn:
        if distance_m is None:
            conn.execute(
                update(photos_table)
                .where(photos_table.c.id == photo_id)
                .values(confirmation_id=None)
            )
            return
        said = conn.execute(
            select(photos_table.c.confirmation_id).where(photos_table.c.id == photo_id)
        ).scalar_one()
        conn.execute(
            update(confirmations_table)
            .where(confirmations_table.c.id == said)
            .values(onsite=False, distance_m=distance_m)
        )


def _login_on_phone(open_page: Open, site: Site, path: str) -> PageKit:
    kit = open_page(site.live.url + path, mobile=True)
    page = kit.page
    assert "/admin/login" in page.url
    page.fill("input[name=name]", site.staff.editor_name)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert page.url == site.live.url + path
    return kit


def _fits(page: Any, selector: str) -> None:
    box = page.locator(selector).bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360, box
    assert box["height"] >= 44, box  # a thumb's tap target


def test_staff_accept_and_reject_riders_photos_on_a_phone(site: Site, open_page: Open) -> None:
    kept = _rider_photo(site, "rider-phone-1", (640, 480), "locked")
    refused = _rider_photo(site, "rider-phone-2", (480, 640), "open")
    _as_before_the_rule(site, refused)
    far = _rider_photo(site, "rider-phone-3", (640, 480), "closed")
    _as_before_the_rule(site, far, distance_m=1_400.0)
    kit = _login_on_phone(open_page, site, "/admin/photos")
    page = kit.page
    badge = ".main-nav a[href='/admin/photos'] .badge"
    assert page.inner_text(badge) == "3"
    kept_card = page.locator(f".photo-card[data-photo='{kept}']")
    refused_card = page.locator(f".photo-card[data-photo='{refused}']")
    assert "骑手反馈：进不去" in kept_card.inner_text()  # what the rider said, beside the photo
    assert "在现场" in kept_card.inner_text()
    assert "未附确认" in refused_card.inner_text()
    # how far away a rider not at the door was, for the reviewer to weigh
    far_card = page.locator(f".photo-card[data-photo='{far}']")
    assert "不在现场（距驿站约 1.4 公里）" in far_card.inner_text()
    # an upright photo is shown whole, not cropped to its middle
    thumb = refused_card.locator(".photo-thumb img")
    assert thumb.evaluate("i => getComputedStyle(i).objectFit") == "contain"
    nav = page.locator(".main-nav").bounding_box()
    assert nav is not None and nav["height"] < 60  # the menu on one sideways-scrolling row
    page.wait_for_function(
        "() => [...document.querySelectorAll('.photo-thumb img')]"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 360  # no sideways scroll
    _fits(page, f".photo-card[data-photo='{kept}'] button:has-text('采用')")
    _fits(page, f".photo-card[data-photo='{refused}'] button:has-text('拒绝')")
    kit.screenshot("admin-photos-360x640")

    # The console's write needs its CSRF header: the same POST without it is refused.
    no_csrf = page.evaluate(
        f"fetch('/api/v1/photos/{kept}/accept', {{method: 'POST', credentials: 'same-origin'}})"
        ".then(r => r.status)"
    )
    assert no_csrf == 403

    kept_card.locator("button", has_text="采用").click()
    page.wait_for_selector(f".photo-card[data-photo='{kept}'][data-status='published']")
    said = kept_card.locator(".photo-msg").inner_text()  # on the card, where the thumb is
    assert "已采用" in said and "修改历史" in said
    assert page.inner_text(badge) == "2"  # the menu's count follows
    refused_card.locator("button", has_text="拒绝").click()
    page.wait_for_selector(f".photo-card[data-photo='{refused}'][data-status='rejected']")
    assert "已拒绝" in refused_card.inner_text()
    assert "不会显示给骑手" in refused_card.locator(".photo-msg").inner_text()
    assert page.inner_text(badge) == "1"
    # reviewed meanwhile by someone else (another phone): the refusal is said on the card
    other = httpx.post(
        f"{site.live.url}/api/v1/photos/{far}/reject", headers=site.staff.as_editor, timeout=30
    )
    assert other.status_code == 200, other.text
    far_card.locator("button", has_text="拒绝").click()
    far_card.locator(".row-msg.error").wait_for()
    assert "刷新页面" in far_card.locator(".row-msg").inner_text()
    assert page.locator(".photo-actions").count() == 1  # only that card's, until a reload
    kit.screenshot("admin-photos-reviewed-360x640")

    records = SqlPhotoStore.beside(site.store)
    accepted, rejected = records.get(kept), records.get(refused)
    assert (accepted.status, accepted.reviewed_by) == ("published", site.staff.editor_name)
    assert (rejected.status, rejected.reviewed_by) == ("rejected", site.staff.editor_name)
    station = site.store.get(1)
    assert list(station.data.photos) == [accepted.digest]  # the rejected one is nowhere
    last = site.store.history(1)[-1]
    assert (last.actor, last.after["photos"]) == (site.staff.editor_name, [accepted.digest])

    page.goto(site.live.url + "/admin/photos?status=published")
    assert page.locator(".photo-card").count() == 1
    assert page.locator(f".photo-card[data-photo='{kept}']").count() == 1
    assert page.locator(".main-nav a[href='/admin/photos'] .badge").count() == 0
    assert kit.blocked.non_tile() == []
    assert [e for e in kit.console_errors if not re.search("status of (403|409)", e)] == []


def test_the_card_shows_the_door_photo_first_and_only_its_thumbnail(
    site: Site, open_page: Open
) -> None:
    sent = httpx.post(
        f"{site.live.url}/api/v1/stations/1/photos",
        files={"file": ("door.jpg", busy_photo(), "image/jpeg")},
        headers=site.staff.as_editor,
        timeout=120,  # re-encoding a camera-sized photo on a busy CI machine
    )
    assert sent.status_code == 201, sent.text
    urls = sent.json()["urls"]
    kit = open_page(site.live.url + "/embed", mobile=True, geolocation=DOOR)
    page = kit.page
    photos: list[Any] = []
    page.on("response", lambda r: photos.append(r) if "/photos/" in r.url else None)
    page.wait_for_selector("html[data-list='located']", state="attached")
    kit.settle()
    assert photos == []  # the list and the map fetch no photo: only an opened card does

    page.click("#list li[data-id='1'] .name")
    page.wait_for_function(
        "() => { const i = document.querySelector('#card picture.door img');"
        " return i && i.complete && i.naturalWidth > 0; }"
    )
    first = page.evaluate(
        "() => [...document.querySelector('#card').children]"
        ".filter(e => !e.classList.contains('bar'))[0].tagName"
    )
    assert first == "A"  # the door photo before the name, hours and buttons
    link = page.locator("#card > a.door-link")
    assert link.get_attribute("href") == urls["url"]  # a tap opens it full size
    img = link.locator("picture.door img")
    assert img.get_attribute("loading") == "lazy" and img.get_attribute("alt") == "驿站门口照片"
    box = img.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360
    # the whole photo within the strip, not a fifth of it
    assert img.evaluate("i => getComputedStyle(i).objectFit") == "contain"
    # the photo leads, but the station's name and its 导航 stay in sight without scrolling
    for what in ("#card .top .name", "#card .top .nav"):
        shown = page.locator(what).first.bounding_box()
        assert shown is not None and shown["y"] + shown["height"] <= 640, what
    kit.settle()
    assert [r.url.split(site.live.url)[1] for r in photos] == [urls["thumb_webp"]]
    assert len(photos[0].body()) <= THUMB_MAX_BYTES  # the only photo bytes a rider pays for
    kit.screenshot("embed-door-photo-360x640")
    assert kit.blocked.non_tile() == []


def test_a_rider_at_the_door_sends_a_photo_with_their_confirmation(
    site: Site, open_page: Open
) -> None:
    kit = open_page(site.live.url + "/embed", mobile=True, geolocation=DOOR)
    page = kit.page
    page.wait_for_selector("html[data-list='located']", state="attached")
    page.click("#list li[data-id='1'] .name")
    page.click("#card .here button[data-state='locked']")
    page.wait_for_selector("html[data-here='onsite']", state="attached")
    offer = page.locator("#card .here-photo-btn")
    assert "拍一张门口照片" in offer.inner_text()
    box = offer.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 360 and box["height"] >= 44
    page.set_input_files(
        "#card .here-photo-file",
        files=[{"name": "door.jpg", "mimeType": "image/jpeg", "buffer": jpeg_with_gps()}],
    )
    page.wait_for_selector("html[data-photo='sent']", state="attached")
    assert "审核" in page.inner_text("#card .here-photo-msg")
    assert page.locator("#card .here-photo-btn").count() == 0  # one photo per confirmation
    kit.screenshot("embed-photo-sent-360x640")

    (held,) = SqlPhotoStore.beside(site.store).list(status="pending")
    assert held.confirmation is not None and held.confirmation.state == "locked"
    assert held.confirmation.onsite and held.source == "rider"
    assert not site.store.get(1).data.photos  # held for review, not shown
    assert kit.blocked.non_tile() == []


def test_staff_upload_a_door_photo_from_the_station_editor(
    site: Site, open_page: Open, tmp_path: Path
) -> None:
    kit = open_page(site.live.url + "/admin/stations/1")  # the editor is a desktop page
    page = kit.page
    page.fill("input[name=name]", site.staff.editor_name)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.wait_for_selector("html[data-editor='ready']", state="attached")
    assert "还没有门口照片" in page.inner_text("#door-photos")
    camera = tmp_path / "door.jpg"
    camera.write_bytes(jpeg_with_gps((1200, 900)))
    page.set_input_files("#door-photo-file", str(camera))
    page.locator("#door-photo-msg.ok").wait_for(timeout=120_000)  # re-encoding on a busy CI
    assert "骑手页面会先显示" in page.inner_text("#door-photo-msg")
    thumb = page.locator("#door-photo-strip img").first
    assert thumb.evaluate("i => i.complete && i.naturalWidth > 0") or thumb.wait_for()
    station = site.store.get(1)
    assert len(station.data.photos) == 1 and page.inner_text("#version") == str(station.version)
    # the form follows the photo's version: an edit saved afterwards is not a conflict
    page.fill("textarea[name=notes]", "门口有台阶")
    page.click("#save")
    page.locator("#editor-message", has_text="已保存").wait_for()
    assert site.store.get(1).data.notes == "门口有台阶"
    assert site.store.get(1).data.photos == station.data.photos
    # a file that is not a picture is refused in words, nothing added
    page.set_input_files(
        "#door-photo-file", files=[{"name": "x.jpg", "mimeType": "image/jpeg", "buffer": b"no"}]
    )
    page.locator("#door-photo-msg.error").wait_for()
    assert "不是可识别的图片" in page.inner_text("#door-photo-msg")  # the server's reason
    assert len(site.store.get(1).data.photos) == 1
    kit.screenshot("admin-editor-door-photo")

    # the wrong photo comes off again: asked first, then a new version the form follows
    asked: list[str] = []
    page.once("dialog", lambda d: (asked.append(d.message), d.accept()))
    page.click("#door-photo-strip .remove-photo")
    page.locator("#door-photo-msg.ok", has_text="已移除").wait_for()
    assert "骑手将不再看到它" in asked[0]
    assert site.store.get(1).data.photos == ()
    assert page.inner_text("#version") == str(site.store.get(1).version)
    assert "还没有门口照片" in page.inner_text("#door-photos")
    page.fill("textarea[name=notes]", "门口有台阶，照片待补")
    page.click("#save")
    page.locator("#editor-message", has_text="已保存").wait_for()  # not a conflict
    assert kit.blocked.non_tile() == []
