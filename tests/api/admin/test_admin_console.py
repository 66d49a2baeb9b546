"""The staff console over HTTP: login and its CSRF, roles, headers, escaping, import and export.

The browser flows are in ``tests/maps/test_browser_admin.py``; these check what a browser
cannot show directly (cookies' flags, status codes, policies, files) and the edge cases.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from api.admin.render import json_script
from api.app import create_app
from geodata.crs import wgs84_to_gcj02
from stations.io.importing import plan_import
from stations.io.read import read_sheet
from stations.io.write import write_xlsx
from stations.store.sql import SqlStationStore
from tests.api.staff_kit import PASSWORD, Staff, add_staff, test_settings
from tests.conftest import make_station

XSS = '<script>window.__xss=1</script>"><img src=x onerror=alert(1)>'


class Env:
    def __init__(
        self, client: TestClient, staff: Staff, store: SqlStationStore, uploads: Path
    ) -> None:
        self.client = client
        self.staff = staff
        self.store = store
        self.uploads = uploads


@pytest.fixture
def env(store_url: str, tmp_path: Path) -> Iterator[Env]:
    """On SQLite and on PostgreSQL + PostGIS (``store_url`` runs each test on both)."""
    store = SqlStationStore(store_url)
    staff = add_staff(store)
    store.create(make_station(name="荣华中路驿站", external_id="YZ-001"), actor="seed")
    store.create(make_station(name=XSS, external_id="YZ-002", notes=XSS, lon=116.52), actor="seed")
    app = create_app(
        test_settings(max_body_bytes=200_000, upload_dir=tmp_path / "uploads"), store=store
    )
    with TestClient(app, follow_redirects=False) as client:
        yield Env(client, staff, store, tmp_path / "uploads")
    store.close()


def _login_token(client: TestClient, path: str = "/admin/login") -> str:
    page = client.get(path)
    assert page.status_code == 200
    found = re.search(r'name="login_token" value="([^"]+)"', page.text)
    assert found
    return found.group(1)


def login(
    client: TestClient, name: str, password: str = PASSWORD, next_path: str = "/admin"
) -> Any:
    token = _login_token(client)
    return client.post(
        "/admin/login",
        data={"name": name, "password": password, "login_token": token, "next": next_path},
    )


def csrf_of(client: TestClient, path: str = "/admin") -> str:
    found = re.search(r'<meta name="csrf-token" content="([^"]+)">', client.get(path).text)
    assert found
    return found.group(1)


# -- logging in ------------------------------------------------------------------------------


def test_pages_send_visitors_to_the_login_form_and_back(env: Env) -> None:
    for path in (
        "/admin",
        "/admin/stations/1",
        "/admin/import",
        "/admin/reports",
        "/admin/export?format=csv",
    ):
        r = env.client.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/admin/login?next=")
    r = login(env.client, env.staff.editor_name, next_path="/admin/stations/2")
    assert (r.status_code, r.headers["location"]) == (303, "/admin/stations/2")
    cookie = r.headers["set-cookie"]
    assert "stations_session=" in cookie and "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower() and "Secure" not in cookie
    assert env.client.get("/admin/stations/2").status_code == 200


def test_behind_https_the_session_cookie_is_secure(env: Env) -> None:
    token = _login_token(env.client)
    r = env.client.post(
        "/admin/login",
        headers={"X-Forwarded-Proto": "https"},
        data={"name": env.staff.editor_name, "password": PASSWORD, "login_token": token},
    )
    assert r.status_code == 303
    assert "Secure" in r.headers["set-cookie"]


def test_login_needs_the_forms_own_token(env: Env) -> None:
    """Login CSRF: a page elsewhere can post the form but cannot know the cookie's token."""
    _login_token(env.client)
    r = env.client.post(
        "/admin/login",
        data={"name": env.staff.editor_name, "password": PASSWORD, "login_token": "guess"},
    )
    assert r.status_code == 400 and "stations_session" not in r.headers.get("set-cookie", "")
    assert "已过期" in r.text
    fresh = TestClient(env.client.app, follow_redirects=False)
    r = fresh.post(
        "/admin/login",
        data={"name": env.staff.editor_name, "password": PASSWORD, "login_token": "x"},
    )
    assert r.status_code == 400


def test_wrong_password_and_unknown_user_look_the_same(env: Env) -> None:
    wrong = login(env.client, env.staff.editor_name, "not the password")
    nobody = login(env.client, "nobody", "not the password")
    for r in (wrong, nobody):
        assert r.status_code == 400 and "用户名或密码错误" in r.text
        assert "stations_session" not in r.headers.get("set-cookie", "")
    assert env.staff.editor_name in wrong.text  # the name is kept in the form (escaped)


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/admin",
        "https://evil.example/",
        "/admin\\@evil",
        "/maps/stations",
        "/admin/login",
        "javascript:alert(1)",
    ],
)
def test_login_goes_only_to_console_pages(env: Env, target: str) -> None:
    r = login(env.client, env.staff.editor_name, next_path=target)
    assert (r.status_code, r.headers["location"]) == (303, "/admin")


def test_logout_needs_the_csrf_token_and_ends_the_session(env: Env) -> None:
    login(env.client, env.staff.editor_name)
    assert env.client.post("/admin/logout").status_code == 403
    r = env.client.post("/admin/logout", data={"csrf_token": csrf_of(env.client)})
    assert (r.status_code, r.headers["location"]) == (303, "/admin/login?bye=1")
    assert env.client.get("/admin").status_code == 303


# -- roles ---------------------------------------------------------------------------------------


def test_the_console_is_chinese_whatever_the_browser_and_may_be_switched(env: Env) -> None:
    """Chinese first, even for a browser that asks for English; the switch in the header
    sets the staff member's choice and comes back to the same page; the page words come
    from the catalogs in either language, the union's 编号 and the store's 系统ID apart."""
    login(env.client, env.staff.admin_name)
    sid = env.store.by_external_ids(["YZ-001"])["YZ-001"].id
    english_browser = {"Accept-Language": "en-US,en;q=0.9"}
    page = env.client.get("/admin", headers=english_browser).text
    assert '<html lang="zh-CN">' in page and "<th>系统ID</th><th>编号</th>" in page
    assert 'href="/admin/language?to=en&amp;next=/admin"' in page
    switched = env.client.get("/admin/language", params={"to": "en", "next": "/admin/import"})
    assert switched.status_code == 303 and switched.headers["location"] == "/admin/import"
    assert "console_lang=en" in switched.headers["set-cookie"]
    assert "HttpOnly" in switched.headers["set-cookie"]
    english = {
        "/admin": ["<th>System ID</th><th>Number</th>", "2 stations in all"],
        "/admin/import": ["Import a sheet", "Download the blank template (with instructions)"],
        f"/admin/stations/{sid}": [f"System ID {sid}", "Usable without a smartphone"],
        f"/admin/stations/{sid}/history": ["Change history", "current version 1"],
        "/admin/reports": ["<th>Report ID</th>", "No reports: "],
        "/admin/recheck": ["Recheck route", "stations to check"],
        "/admin/visits": ["Station system ID", "QR posters"],
        "/admin/webhooks": ["<th>Receiver ID</th>", "No receiver yet."],
    }
    for path, words in english.items():
        page = env.client.get(path).text
        assert '<html lang="en">' in page and ">中文</a>" in page, path
        for word in words:
            assert word in page, (path, word)
        assert "驿站列表" not in page and "<th>系统ID" not in page, path
    # A choice that is not a catalog language changes nothing; a foreign target goes home.
    env.client.get("/admin/language", params={"to": "fr"})
    assert '<html lang="en">' in env.client.get("/admin").text
    back = env.client.get(
        "/admin/language", params={"to": "zh-CN", "next": "https://evil.example/"}
    )
    assert back.headers["location"] == "/admin"
    page = env.client.get("/admin/webhooks").text
    assert "<th>接收方ID</th>" in page and "docs/" not in page


def test_the_list_finds_a_station_by_its_id_or_external_id(env: Env) -> None:
    login(env.client, env.staff.viewer_name)
    sid = env.store.by_external_ids(["YZ-001"])["YZ-001"].id
    for q in ("YZ-001", str(sid)):
        page = env.client.get("/admin", params={"q": q}).text
        assert re.search(rf'id="exact-match">.*href="/admin/stations/{sid}">荣华中路驿站<', page)
    assert 'id="exact-match"' not in env.client.get("/admin", params={"q": "YZ-999"}).text


def test_a_viewer_reads_but_cannot_import_or_review(env: Env) -> None:
    login(env.client, env.staff.viewer_name)
    home = env.client.get("/admin")
    assert home.status_code == 200
    # every reader can take the coverage report to a meeting
    links = {
        "覆盖报告（PDF）": ("/api/v1/coverage/report?format=pdf", "application/pdf"),
        "覆盖报告（Excel）": (
            "/api/v1/coverage/report?format=xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
    }
    for label, (href, media) in links.items():
        anchor = re.search(rf'<a href="([^"]+)"[^>]*>{label}</a>', home.text)
        assert anchor is not None, label
        assert anchor.group(1).replace("&amp;", "&") == href
        report = env.client.get(href)
        assert report.status_code == 200, report.text[:200]
        assert report.headers["content-type"] == media
        assert report.content[:4] == (b"%PDF" if media == "application/pdf" else b"PK\x03\x04")
    page = env.client.get("/admin/stations/1")
    assert page.status_code == 200 and "<fieldset disabled>" in page.text
    # the station's own page, as riders see it from the poster, one tap away
    rider = re.search(r'<a href="(/s/[^"]+)" id="rider-page-link"', page.text)
    assert rider is not None and env.client.get(rider.group(1)).status_code == 200
    for path in ("/admin/import", "/admin/reports", "/admin/stations/new"):
        r = env.client.get(path)
        assert r.status_code == 403 and "需要编辑权限" in r.text
    r = env.client.post(
        "/admin/import",
        data={"csrf_token": csrf_of(env.client)},
        files={"file": ("a.csv", b"name,lon,lat\nx,116.5,39.8\n")},
    )
    assert r.status_code == 403
    assert env.client.get("/admin/export?format=csv").status_code == 200


# -- what every page is made of ----------------------------------------------------------------

_SCRIPT = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)


def test_console_pages_have_no_inline_script_and_may_not_be_framed(env: Env) -> None:
    pages = [env.client.get("/admin/login")]
    login(env.client, env.staff.editor_name)
    sid = env.store.by_external_ids(["YZ-002"])["YZ-002"].id
    for path in (
        "/admin",
        "/admin/stations/new",
        f"/admin/stations/{sid}",
        f"/admin/stations/{sid}/history",
        "/admin/reports",
        "/admin/import",
    ):
        pages.append(env.client.get(path))
    for r in pages:
        path = r.url.path
        assert r.status_code == 200, path
        csp = dict(
            part.strip().split(" ", 1) for part in r.headers["content-security-policy"].split(";")
        )
        assert csp["script-src"] == "'self'" and csp["frame-ancestors"] == "'none'"
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["cache-control"] == "no-store"
        for attrs in _SCRIPT.findall(r.text):
            assert "src=" in attrs or 'type="application/json"' in attrs, (path, attrs)
        # A CDN would be a src/href (a random token in the page may spell "cdn" by chance).
        for url in re.findall(r'(?:src|href)="([^"]*)"', r.text):
            assert "cdn" not in url.lower() and not url.startswith("//"), (path, url)
        assert "https://" not in re.sub(
            r'"url":"https://[^"]+"|https://www\.openstreetmap\.org|https://www\.amap\.com',
            "",
            r.text,
        ), path
    edit = env.client.get(f"/admin/stations/{sid}")
    assert "https://tile.openstreetmap.org" in edit.headers["content-security-policy"]


def test_station_text_is_escaped_in_pages_and_in_the_editor_data(env: Env) -> None:
    login(env.client, env.staff.editor_name)
    sid = env.store.by_external_ids(["YZ-002"])["YZ-002"].id
    for path in ("/admin", f"/admin/stations/{sid}", f"/admin/stations/{sid}/history"):
        text = env.client.get(path).text
        assert "<script>window.__xss" not in text and "<img src=x" not in text, path
        assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in text, path
    edit = env.client.get(f"/admin/stations/{sid}").text
    block = re.search(
        r'<script type="application/json" id="editor-config">(.*?)</script>', edit, re.S
    )
    assert block and json.loads(block.group(1))["id"] == sid


def test_json_script_cannot_close_its_element() -> None:
    text = str(json_script({"a": "</script><!--<script>", "b": "&amp;"}))
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"a": "</script><!--<script>", "b": "&amp;"}


# -- the opening-hours check -------------------------------------------------------------------


def test_check_hours_answers_signed_in_staff_in_chinese(env: Env) -> None:
    assert env.client.get("/admin/api/check-hours", params={"value": "24/7"}).status_code == 401
    login(env.client, env.staff.editor_name)
    ok = env.client.get("/admin/api/check-hours", params={"value": "Mo-Fr 08:00-20:00"}).json()
    assert ok == {"ok": True, "message": None, "message_zh": None, "osm": "Mo-Fr 08:00-20:00"}
    zh = env.client.get("/admin/api/check-hours", params={"value": "工作日 8:30-17:30"}).json()
    assert zh["ok"] is True and zh["osm"] == "Mo-Fr 08:30-17:30"
    bad = env.client.get("/admin/api/check-hours", params={"value": "Mo-Fr 08:00-2"}).json()
    assert bad["ok"] is False and "character 13" in bad["message"]
    assert bad["message_zh"].startswith("开放时间无法识别")
    assert "第 13 个字符" in bad["message_zh"] and "每天 8:00-20:00" in bad["message_zh"]
    odd = env.client.get("/admin/api/check-hours", params={"value": "营业到很晚"}).json()
    assert odd["ok"] is False and "很晚" in odd["message_zh"]
    assert env.client.get("/admin/api/check-hours", params={"value": "x" * 501}).status_code == 422


# -- import ----------------------------------------------------------------------------------------

SHEET = (
    "外部编号,名称,经度,纬度,开放时间\n"
    "YZ-101,泰河路驿站,116.5201,39.7901,24/7\n"
    "YZ-102,宏达路驿站,116.5102,abc,24/7\n"
)


def _upload(env: Env, content: bytes, name: str = "sheet.csv", **data: str) -> Any:
    return env.client.post(
        "/admin/import",
        data={"csrf_token": csrf_of(env.client), **data},
        files={"file": (name, content)},
    )


def _confirm_url(page: str) -> str:
    found = re.search(r'action="(/admin/import/[^/"]+/confirm)"', page)
    assert found
    return found.group(1)


def test_import_preview_then_confirm_without_skipping_refuses_then_with_skipping_applies(
    env: Env,
) -> None:
    login(env.client, env.staff.editor_name)
    assert (
        env.client.post("/admin/import", files={"file": ("a.csv", SHEET.encode())}).status_code
        == 403
    )  # no CSRF token
    preview = _upload(env, SHEET.encode())
    assert preview.status_code == 200
    assert re.search(r'id="count-added">1<', preview.text)
    assert re.search(r'id="count-invalid">1<', preview.text)
    assert re.search(r"<td class=\"num\">3</td>\s*<td>纬度", preview.text)
    assert env.store.by_external_ids(["YZ-101"]) == {}
    url = _confirm_url(preview.text)
    csrf = csrf_of(env.client)

    refused = env.client.post(url, data={"csrf_token": csrf})
    assert refused.status_code == 422 and "未写入任何数据" in refused.text
    assert env.store.by_external_ids(["YZ-101"]) == {}

    done = env.client.post(url, data={"csrf_token": csrf, "skip_invalid": "1"})
    assert done.status_code == 200 and 'id="import-done"' in done.text
    added = env.store.by_external_ids(["YZ-101"])["YZ-101"]
    assert env.store.history(added.id)[0].actor == env.staff.editor_name
    rejected = env.client.get(url.replace("/confirm", "/rejected"))
    assert rejected.status_code == 200 and "宏达路驿站" in rejected.text
    assert "sheet.rejected.csv" in rejected.headers["content-disposition"]
    again = env.client.post(url, data={"csrf_token": csrf, "skip_invalid": "1"})
    assert again.status_code == 409


def test_an_upload_belongs_to_the_session_that_sent_it(env: Env) -> None:
    login(env.client, env.staff.editor_name)
    url = _confirm_url(_upload(env, SHEET.encode()).text)
    other = TestClient(env.client.app, follow_redirects=False)
    login(other, env.staff.admin_name)
    r = other.post(url, data={"csrf_token": csrf_of(other), "skip_invalid": "1"})
    assert r.status_code == 409 and "已失效" in r.text
    assert env.store.by_external_ids(["YZ-101"]) == {}


def test_bad_uploads_are_refused_with_a_reason_and_leave_nothing(env: Env) -> None:
    login(env.client, env.staff.editor_name)
    r = _upload(env, b"hello", name="notes.txt")
    assert r.status_code == 400 and "不支持的文件类型" in r.text
    r = _upload(env, b"", name="empty.csv")
    assert r.status_code == 400 and "文件是空的" in r.text
    r = _upload(env, "名字,颜色\n甲,红\n".encode(), name="nonsense.csv")
    assert r.status_code == 400 and "文件无法读取" in r.text
    r = _upload(env, b"x" * 300_000, name="big.csv")
    assert r.status_code == 413
    r = env.client.post("/admin/import", data={"csrf_token": csrf_of(env.client)})
    assert r.status_code == 400 and "请选择" in r.text
    leftovers = [p for p in env.uploads.iterdir()] if env.uploads.exists() else []
    assert leftovers == []


def test_xlsx_upload_in_gcj02_is_converted(env: Env, tmp_path: Path) -> None:
    glon, glat = wgs84_to_gcj02(116.5301, 39.7802)
    book = tmp_path / "高德坐标.xlsx"
    write_xlsx(
        book,
        ["外部编号", "名称", "经度", "纬度"],
        [["YZ-201", "GCJ 驿站", float(glon), float(glat)]],
    )
    login(env.client, env.staff.editor_name)
    preview = _upload(env, book.read_bytes(), name=book.name, crs="gcj02")
    assert preview.status_code == 200 and re.search(r'id="count-added">1<', preview.text)
    done = env.client.post(_confirm_url(preview.text), data={"csrf_token": csrf_of(env.client)})
    assert done.status_code == 200
    stored = env.store.by_external_ids(["YZ-201"])["YZ-201"].data
    assert (stored.lon, stored.lat) == pytest.approx((116.5301, 39.7802), abs=1e-7)


def test_an_upload_in_an_unknown_crs_is_refused_not_read_as_wgs84(env: Env) -> None:
    login(env.client, env.staff.editor_name)
    r = _upload(env, SHEET.encode(), crs="epsg:3857")
    assert r.status_code == 400
    assert "未知坐标系" in r.text and "gcj02" in r.text
    assert not env.uploads.exists() or list(env.uploads.iterdir()) == []
    assert _upload(env, SHEET.encode(), crs=" GCJ02 ").status_code == 200


# -- export ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "geojson", "gpkg"])
def test_export_downloads_every_live_station(env: Env, fmt: str, tmp_path: Path) -> None:
    login(env.client, env.staff.viewer_name)
    r = env.client.get("/admin/export", params={"format": fmt})
    assert r.status_code == 200
    disposition = r.headers["content-disposition"]
    assert re.fullmatch(
        rf'attachment; filename="warm-stations-\d{{8}}-\d{{4}}\.{fmt}"', disposition
    )
    path = tmp_path / f"out.{fmt}"
    path.write_bytes(r.content)
    sheet = read_sheet(path)
    names = sorted(str(rec.get("name")) for _, rec in sheet.records())
    assert names == sorted(["荣华中路驿站", XSS])


def test_export_in_gcj02_and_refusals(env: Env) -> None:
    login(env.client, env.staff.editor_name)
    r = env.client.get("/admin/export", params={"format": "csv", "crs": "gcj02"})
    assert r.status_code == 200 and "-gcj02.csv" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    first = next(row for row in rows if row["external_id"] == "YZ-001")
    assert (float(first["lon"]), float(first["lat"])) == pytest.approx(
        wgs84_to_gcj02(116.5068, 39.7954), abs=1e-9
    )
    assert (
        env.client.get("/admin/export", params={"format": "gpkg", "crs": "gcj02"}).status_code
        == 422
    )
    assert env.client.get("/admin/export", params={"format": "shp"}).status_code == 422


def _count(page: str, name: str) -> int:
    found = re.search(rf'id="count-{name}">(\d+)<', page)
    assert found, name
    return int(found.group(1))


def test_the_clerk_sheet_and_the_staff_export_preview_as_the_command_line_reads_them(
    env: Env, tmp_path: Path
) -> None:
    """A staff-layout workbook (title row, 编号/驿站名称/开放时间… headers, AMap coordinates)
    previews with the same counts and the same column names as ``stations import``; the
    console's own staff export uploaded again changes nothing."""
    book = Path(__file__).resolve().parents[2] / "stations/io/data/clerk_sheet.xlsx"
    cli = plan_import(env.store, book, crs="gcj02")
    login(env.client, env.staff.editor_name)
    preview = _upload(env, book.read_bytes(), name=book.name, crs="gcj02")
    assert preview.status_code == 200
    counts = {k: _count(preview.text, k) for k in ("added", "updated", "unchanged", "invalid")}
    assert counts == {
        "added": cli.added,
        "updated": cli.updated,
        "unchanged": cli.unchanged,
        "invalid": cli.invalid,
    }
    assert (cli.added + cli.updated, cli.invalid) == (26, 4)
    # Each problem names the sheet's own header, as the command line does.
    for e in cli.errors:
        header = cli.headers[e.field]
        assert re.search(rf'<td class="num">{e.row}</td>\s*<td>{header} ', preview.text), e
    assert "驿站名称" in cli.headers.values()
    done = env.client.post(
        _confirm_url(preview.text), data={"csrf_token": csrf_of(env.client), "skip_invalid": "1"}
    )
    assert done.status_code == 200 and 'id="import-done"' in done.text
    total = len(env.store.all())
    assert total == 2 + cli.added

    export = env.client.get(
        "/admin/export", params={"format": "xlsx", "layout": "staff", "crs": "gcj02"}
    )
    assert export.status_code == 200
    headers = [c.value for c in load_workbook(io.BytesIO(export.content)).active[1]]
    assert headers[:2] == ["编号", "驿站名称"] and "开放时间" in headers
    again = _upload(env, export.content, name="staff.xlsx", crs="gcj02")
    assert again.status_code == 200
    assert {k: _count(again.text, k) for k in ("added", "updated", "unchanged", "invalid")} == {
        "added": 0,
        "updated": 0,
        "unchanged": total,
        "invalid": 0,
    }
    assert "没有需要写入的变更" in again.text
