"""Hostile text in every text field, then every page that shows it, in Chromium: no script runs.

The payloads are classic filter-evasion examples (OWASP XSS Filter Evasion Cheat Sheet and
friends): tags, event handlers, ``javascript:`` URLs, breaking out of attributes, of
``<script>`` blocks and of JavaScript strings, template-injection, entity- and escape-encoded
variants. Each station carries one payload in *every* free-text field (name, address,
district, host organisation, phone, notes, external id; opening hours must parse, so it keeps
valid hours) and rider reports and an import preview carry them too. Then the staff console
(list, edit pages, history, report queue, import preview), ``/maps/stations`` (each marker's
popup opened by a click), ``/embed`` (the list and each station's card) and the OGC items
page are opened.

A payload "runs" if it sets ``window.__xss``, opens a dialog (``alert``) — or, since the
service's Content-Security-Policy would block an injected inline script even where escaping
failed, if the page's DOM holds an element the payload created (an event-handler attribute,
a ``javascript:`` URL, an ``iframe``/``object``/``embed``/``math`` element) or the browser
reports a ``script-src`` policy violation. So the test fails on an escaping bug even when CSP
would have saved the day.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from api.app import create_app
from stations.model import Station
from stations.store.reports import SqlReportStore
from stations.store.sql import SqlStationStore
from tests.api.staff_kit import PASSWORD, Staff, add_staff, test_settings
from tests.conftest import make_station
from tests.maps.conftest import LiveServer, PageKit, start_server

pytestmark = pytest.mark.browser

Open = Callable[..., PageKit]

#: At most 60 characters each (the shortest text limits: district, phone).
PAYLOADS: list[str] = [
    "<script>window.__xss=1</script>",
    "<img src=x onerror=window.__xss=1>",
    "<svg/onload=window.__xss=1>",
    '"><script>window.__xss=1</script>',
    "javascript:window.__xss=1",
    "<iframe src=javascript:window.__xss=1>",
    "<body onload=window.__xss=1>",
    "'-window.__xss=1-'",
    "</script><script>window.__xss=1</script>",
    '<a href="javascript:window.__xss=1">点我</a>',
    "{{constructor.constructor('window.__xss=1')()}}",
    "{{7*7}}${7*7}#{7*7}{% raw %}",
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    "&lt;script&gt;window.__xss=1&lt;/script&gt;",
    "\\u003cscript\\u003ewindow.__xss=1\\u003c/script\\u003e",
    '<IMG SRC="jav&#x09;ascript:window.__xss=1">',
    "<details open ontoggle=window.__xss=1>",
    "<input autofocus onfocus=window.__xss=1>",
    '" onmouseover="window.__xss=1" x="',
    "' onfocus='window.__xss=1' autofocus '",
    "<scr<script>ipt>window.__xss=1</scr</script>ipt>",
    "%3Cscript%3Ewindow.__xss=1%3C/script%3E",
    "<img src=x onerror=alert(1)>",
    "${alert(1)}`;alert(1);`",
    "]]><script>alert(1)</script><![CDATA[",
    '<!--<img src="--><img src=x onerror=alert(1)//">',
    "<object data=javascript:alert(1)>",
    '";alert(1);//',
]

#: Collects script-src violations (an injected inline script or handler that CSP stopped).
WATCH = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sample || ''));
});
"""

#: Elements and attributes no page of ours creates and every payload above tries to.
INJECTED = """() => {
  const bad = [];
  for (const el of document.querySelectorAll('*')) {
    for (const a of el.attributes) {
      const v = a.value.replace(/[\\s\\u0000-\\u001f]/g, '').toLowerCase();
      if (a.name.toLowerCase().startsWith('on')) bad.push(el.tagName + '[' + a.name + ']');
      if (['href', 'src', 'data', 'action', 'formaction', 'xlink:href'].includes(a.name.toLowerCase())
          && v.startsWith('javascript:')) bad.push(el.tagName + '[' + a.name + '=js]');
    }
  }
  for (const el of document.querySelectorAll('iframe, object, embed, math, frame')) {
    bad.push(el.tagName);
  }
  return bad;
}"""


class Hostile:
    def __init__(
        self, live: LiveServer, stations: list[Station], staff: Staff, sheet: Path
    ) -> None:
        self.live = live
        self.stations = stations
        self.staff = staff
        self.sheet = sheet


def _external_id(k: int, payload: str) -> str:
    return f"{payload[:58]}#{k}"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hostile]:
    root = tmp_path_factory.mktemp("xss")
    # SQLite only: what is tested is escaping, done by the pages and templates on the same
    # Python values whichever engine stored them (the stored text round-trips byte for byte
    # on both: tests/stations, tests/api); the console's store-backed flows run on both
    # engines in test_browser_admin.py.
    store = SqlStationStore("sqlite:///" + str(root / "stations.db"))
    staff = add_staff(store)
    stations = []
    for k, payload in enumerate(PAYLOADS):
        data = make_station(
            name=payload,
            address=payload,
            district=payload,
            host_org=payload,
            phone=payload,
            notes=payload,
            external_id=_external_id(k, payload),
            lon=116.49 + (k % 6) * 0.004,
            lat=39.78 + (k // 6) * 0.003,
        )
        stations.append(store.create(data, actor=payload[:100]))
    reports = SqlReportStore.beside(store)
    for k, s in enumerate(stations):
        reports.submit(s.id, ("closed", "other", "moved", "amenity_missing")[k % 4], PAYLOADS[k])
    sheet = root / "hostile.csv"
    rows = ["名称,地址,备注,经度,纬度,开放时间"]
    for k, payload in enumerate(PAYLOADS[:8]):
        cell = '"' + payload.replace('"', '""') + '"'
        # every other row has broken hours: the preview shows the row with its values
        rows.append(f"{cell},{cell},{cell},116.5{k},39.7{k},{'24/7' if k % 2 else cell}")
    sheet.write_text("\n".join(rows) + "\n", encoding="utf-8")
    app = create_app(test_settings(upload_dir=root / "uploads"), store=store)
    live, stop = start_server(app)
    try:
        yield Hostile(live, [store.get(s.id) for s in stations], staff, sheet)
    finally:
        stop()
        store.close()


class Watched:
    """A page with dialogs recorded (and dismissed) and CSP violations collected."""

    def __init__(self, kit: PageKit) -> None:
        self.kit = kit
        self.page = kit.page
        self.dialogs: list[str] = []

        def on_dialog(dialog: Any) -> None:
            self.dialogs.append(dialog.message)
            dialog.dismiss()

        self.page.on("dialog", on_dialog)
        self.page.add_init_script(WATCH)

    def goto(self, url: str) -> None:
        response = self.page.goto(url)
        # A 500 here has meant a station name evaluated as a server-side (Jinja) template.
        assert response is not None and response.status == 200, (url, response and response.status)

    def check(self, where: str) -> None:
        page = self.page
        assert page.evaluate("() => window.__xss") is None, where
        assert self.dialogs == [], where
        assert page.evaluate(INJECTED) == [], where
        violations = page.evaluate("() => window.__cspViolations || []")
        assert [v for v in violations if v.startswith("script-src")] == [], where


def _watched(open_page: Open, url: str) -> Watched:
    return Watched(open_page(url))


def _login(w: Watched, live: LiveServer, staff: Staff) -> None:
    w.goto(live.url + "/admin/login")
    w.page.fill("input[name=name]", staff.editor_name)
    w.page.fill("input[name=password]", PASSWORD)
    with w.page.expect_navigation():
        w.page.click("button[type=submit]")


def test_console_pages_show_hostile_text_as_text(hostile: Hostile, open_page: Open) -> None:
    live = hostile.live
    w = _watched(open_page, live.url + "/healthz")
    _login(w, live, hostile.staff)
    w.goto(live.url + "/admin?page=1")
    w.check("console list")
    table = w.page.inner_text("#station-table")
    for s in hostile.stations:
        assert s.data.name in table

    for s in hostile.stations:
        w.goto(f"{live.url}/admin/stations/{s.id}")
        w.page.wait_for_selector("html[data-editor='ready']", state="attached")
        w.check(f"edit page of {s.data.name!r}")
        for name in ("name", "address", "district", "host_org", "phone", "external_id"):
            assert w.page.input_value(f"[name={name}]") == getattr(s.data, name)
        assert w.page.input_value("[name=notes]") == s.data.notes
        assert w.page.title().startswith("编辑驿站 · ")
    w.kit.screenshot("admin-xss-edit")

    for s in hostile.stations[:6]:
        w.goto(f"{live.url}/admin/stations/{s.id}/history")
        w.check(f"history of {s.data.name!r}")
        assert s.data.notes in w.page.inner_text("#history-table")

    w.goto(live.url + "/admin/reports?status=all")
    w.check("report queue")
    queue = w.page.inner_text("#report-table")
    for payload in PAYLOADS:
        assert payload.strip() in queue

    w.goto(live.url + "/admin/import")
    w.page.set_input_files("input[name=file]", str(hostile.sheet))
    with w.page.expect_navigation():
        w.page.click("#upload-form button[type=submit]")
    w.page.wait_for_selector("#import-preview")
    w.check("import preview")
    shown = w.page.inner_text("#import-problems")
    assert PAYLOADS[0] in shown and PAYLOADS[2] in shown
    w.kit.screenshot("admin-xss-import-preview")


def test_station_map_popups_show_hostile_text_as_text(hostile: Hostile, open_page: Open) -> None:
    w = _watched(open_page, hostile.live.url + "/healthz")
    w.goto(hostile.live.url + "/maps/stations")
    w.page.wait_for_selector(".leaflet-marker-icon, .marker-cluster")
    w.check("station map")
    names = w.page.evaluate("() => WarmMap.current.entries.map(x => x.name)")
    assert sorted(names) == sorted(s.data.name for s in hostile.stations)  # as stored
    for s in hostile.stations:
        popup = w.kit.click_marker(s.data.name)
        assert popup.get_attribute("data-station-id") == str(s.id)
        assert popup.locator(".ws-title").text_content() == s.data.name
        assert s.data.notes in popup.text_content()
        w.check(f"popup of {s.data.name!r}")
    w.kit.screenshot("maps-xss-popup")


def test_embed_list_and_cards_show_hostile_text_as_text(hostile: Hostile, open_page: Open) -> None:
    w = _watched(open_page, hostile.live.url + "/healthz")
    w.goto(hostile.live.url + "/embed?lat=39.786&lon=116.5&zoom=15")
    w.page.wait_for_selector("html[data-list='center']", state="attached")
    w.check("embed list")
    listed = w.page.eval_on_selector_all("#list .name", "els => els.map(e => e.textContent)")
    assert listed and set(listed) <= {s.data.name for s in hostile.stations}
    for s in hostile.stations:
        w.page.locator(f"path.sid-{s.id}").click(force=True)
        w.page.wait_for_function(
            """name => {
            const n = document.querySelector('#card .name');
            return n && n.textContent === name; }""",
            arg=s.data.name,
        )
        assert s.data.notes in w.page.inner_text("#card")
        w.check(f"embed card of {s.data.name!r}")
        w.page.click("#card .back")
    w.kit.screenshot("embed-xss")


def test_ogc_items_page_shows_hostile_text_as_text(hostile: Hostile, open_page: Open) -> None:
    w = _watched(open_page, hostile.live.url + "/healthz")
    w.goto(hostile.live.url + "/ogc/collections/stations/items?f=html&limit=100")
    w.check("OGC items page")
    text = w.page.inner_text("body")
    for s in hostile.stations:
        assert s.data.name in text
