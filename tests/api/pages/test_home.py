"""``/``: the address ``stations serve`` prints opens a page that points the way, and every
place it points to answers."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

from fastapi.testclient import TestClient

from api.app import create_app
from api.pages.home import LINKS
from stations.store.sql import SqlStationStore
from tests.api.staff_kit import test_settings
from tests.conftest import make_station


class _Hrefs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs.append(str(dict(attrs)["href"]))
        self.scripts += tag == "script"


def test_the_home_page_links_every_page_and_each_answers(tmp_path: Any) -> None:
    store = SqlStationStore("sqlite:///" + str(tmp_path / "home.db"))
    store.create(make_station(), actor="t")
    with TestClient(create_app(test_settings(photo_dir=tmp_path), store=store)) as client:
        page = client.get("/")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "default-src 'none'" in page.headers["content-security-policy"]
        assert page.text.index("暖心驿站地图") < page.text.index("Warm Stations")  # Chinese first
        links = _Hrefs()
        links.feed(page.text)
        assert links.hrefs == [path for path, _zh, _en in LINKS] and links.scripts == 0
        for href in links.hrefs:
            answer = client.get(href, follow_redirects=False)
            # the console sends a visitor without a session to its sign-in page
            assert answer.status_code == (303 if href == "/admin" else 200), href
    store.close()
