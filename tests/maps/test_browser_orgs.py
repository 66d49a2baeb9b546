"""Two organisations' editors side by side in the staff console (``/admin``), in Chromium.

Yizhuang's editor and Shanghai's each log in (two browser contexts open at once), see only
their own organisation's stations in the list, save an edit to one of them, and get a clear
refusal — in Chinese, naming both organisations — when they open the other's station and
try to save; the refused station is left exactly as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from api.app import create_app
from stations.store.accounts import SqlAccountStore
from stations.store.orgs import SqlOrgStore
from stations.store.sql import SqlStationStore
from tests.api.staff_kit import PASSWORD, test_settings
from tests.conftest import make_station
from tests.maps.conftest import LiveServer, PageKit, start_server

pytestmark = pytest.mark.browser

Open = Callable[..., PageKit]


@dataclass
class Side:
    """One organisation: its editor and its stations."""

    org: str
    editor: str
    stations: dict[str, int]


@dataclass
class Network:
    live: LiveServer
    store: SqlStationStore
    sides: dict[str, Side]


@pytest.fixture(scope="module")
def network(module_store_url: str) -> Iterator[Network]:
    """全国 → {北京市 → 亦庄, 上海市}: an editor in 亦庄 and one in 上海市, two stations each."""
    store = SqlStationStore(module_store_url)
    orgs = SqlOrgStore.beside(store)
    accounts = SqlAccountStore.beside(store)
    nation = orgs.add("全国")
    etown = orgs.add("亦庄", parent=orgs.add("北京市", parent=nation.id).id)
    shanghai = orgs.add("上海市", parent=nation.id)
    sides = {}
    for key, org, names, lon, lat in (
        ("yz", etown, ("荣华中路驿站", "科创街快递驿站"), 116.5068, 39.7954),
        ("sh", shanghai, ("南京东路驿站", "陆家嘴快递驿站"), 121.4737, 31.2304),
    ):
        editor = f"{key}-编辑"
        accounts.add_user(editor, "editor", password=PASSWORD)
        orgs.assign_user(editor, org.id)
        made = {
            name: store.create(
                make_station(name=name, external_id=f"{key}-{k}", lon=lon + k / 100, lat=lat),
                actor="seed",
                org_id=org.id,
            ).id
            for k, name in enumerate(names)
        }
        sides[key] = Side(org.name, editor, made)
    live, stop = start_server(create_app(test_settings(), store=store))
    try:
        yield Network(live, store, sides)
    finally:
        stop()
        store.close()


def _login(open_page: Open, net: Network, side: Side) -> PageKit:
    kit = open_page(net.live.url + "/admin")
    page = kit.page
    assert "/admin/login" in page.url
    page.fill("input[name=name]", side.editor)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert page.url == net.live.url + "/admin"
    return kit


def _save_name(kit: PageKit, net: Network, station_id: int, name: str) -> None:
    page = kit.page
    page.goto(f"{net.live.url}/admin/stations/{station_id}")
    page.wait_for_selector("html[data-editor='ready']", state="attached")
    page.fill("input[name=name]", name)
    page.click("#save")


def test_two_organisations_edit_side_by_side_each_in_their_own_scope(
    network: Network, open_page: Open
) -> None:
    net = network
    kits = {key: _login(open_page, net, side) for key, side in net.sides.items()}
    for key, side in net.sides.items():
        page = kits[key].page
        listed = page.locator("#station-table td.name a").all_text_contents()
        assert sorted(listed) == sorted(side.stations), key  # only their own, by default
        assert page.inner_text("#scope-name") == f"{side.org}及下级"
        kits[key].screenshot(f"admin-orgs-list-{key}")

    # Each saves an edit to one of their own stations…
    for key, side in net.sides.items():
        own = next(iter(side.stations.values()))
        _save_name(kits[key], net, own, f"{side.org}改名驿站")
        kits[key].page.wait_for_selector("#editor-message .msg.ok")
        assert net.store.get(own).data.name == f"{side.org}改名驿站"

    # …and is refused, clearly, on the other's.
    for key, other in (("yz", "sh"), ("sh", "yz")):
        side, theirs = net.sides[key], net.sides[other]
        target = list(theirs.stations.values())[1]
        before = net.store.get(target)
        _save_name(kits[key], net, target, "越权改名")
        refusal = kits[key].page.locator("#editor-message .msg.error")
        refusal.wait_for()
        text = refusal.inner_text()
        assert "保存失败" in text and "管辖范围" in text, text
        assert theirs.org in text and side.org in text, text
        kits[key].screenshot(f"admin-orgs-refused-{key}")
        after = net.store.get(target)
        assert (after.version, after.data.name) == (before.version, before.data.name)

    for kit in kits.values():
        assert kit.blocked.non_tile() == []
        assert [e for e in kit.console_errors if "status of 403 " not in e] == []
