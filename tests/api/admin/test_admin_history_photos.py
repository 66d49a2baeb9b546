"""The console's history shows a photo change as pictures and "+1 / −1", never as digests."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from stations.store.sql import SqlStationStore
from tests.api.admin.test_admin_console import login
from tests.api.staff_kit import add_staff, test_settings
from tests.conftest import make_station

A, B, C = "a1" * 32, "b2" * 32, "c3" * 32


def _changes(html: str, version: int) -> str:
    row = re.search(rf'<tr data-version="{version}">(.*?)</tr>', html, re.S)
    assert row, version
    return row.group(1)


def test_photo_changes_read_as_counts_and_thumbnails(store_url: str, tmp_path: Path) -> None:
    store = SqlStationStore(store_url)
    staff = add_staff(store)
    station = store.create(make_station(name="荣华中路驿站"), actor="seed")
    for photos in ([A, B], [C, A], [A, C]):
        station = store.update(
            station.id, {"photos": photos}, actor="编辑", expected_version=station.version
        )
    app = create_app(test_settings(photo_dir=tmp_path / "photos"), store=store)
    with TestClient(app, follow_redirects=False) as client:
        login(client, staff.editor_name)
        page = client.get(f"/admin/stations/{station.id}/history")
    store.close()
    assert page.status_code == 200
    html = page.text
    assert not re.search(r"[0-9a-f]{64}(?!/thumb\.jpg)", html)  # digests only inside URLs
    two = _changes(html, 2)
    assert re.search(r'<span class="field">照片</span><span class="new">\+2</span>', two)
    assert re.findall(r'<img src="/photos/([0-9a-f]{64})/thumb.jpg"', two) == [A, B]
    three = _changes(html, 3)
    assert '<span class="new">+1 / −1</span>' in three
    assert re.findall(r'<img src="/photos/([0-9a-f]{64})/thumb.jpg"', three) == [C]
    four = _changes(html, 4)
    assert '<span class="new">顺序调整</span>' in four and "<img" not in four


def test_hours_read_in_chinese_and_a_check_says_when(store_url: str, tmp_path: Path) -> None:
    """Staff read every version's hours in Chinese, and a check or its undoing says what it
    changed (上次核查), where it used to say 无字段变化."""
    store = SqlStationStore(store_url)
    staff = add_staff(store)
    station = store.create(make_station(opening_hours="Mo-Fr 08:00-20:00"), actor="seed")
    checked = store.verify(station.id, actor="编辑")
    store.unverify(station.id, actor="编辑", version=checked.version)
    app = create_app(test_settings(photo_dir=tmp_path / "photos"), store=store)
    with TestClient(app, follow_redirects=False) as client:
        login(client, staff.editor_name)
        html = client.get(f"/admin/stations/{station.id}/history").text
    store.close()
    one = _changes(html, 1)
    assert "周一至周五 08:00–20:00" in one and "Mo-Fr" not in one
    check, undo = _changes(html, 2), _changes(html, 3)
    assert '<span class="field">上次核查</span>' in check and "从未" in check
    assert "无字段变化" not in check and "无字段变化" not in undo
    assert re.search(r'<span class="new">从未</span>', undo)
