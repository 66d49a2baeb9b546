"""``maps/static/common/crs.js``: the one JavaScript copy of ``geodata.crs``'s GCJ-02.

The module is checked in Debian's Chromium against the Python reference (forward, the
iterated inverse, the China box and its pass-through), and each page that converts
coordinates (the folium maps, ``/embed``, the staff editor) is checked to load it, from its
versioned ``/assets/`` URL, before its own script, and to carry no copy of the formula.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from geodata.crs import gcj02_to_wgs84, out_of_china, wgs84_to_gcj02
from maps.assets import asset_url
from stations.store.sql import SqlStationStore
from tests.api.staff_kit import PASSWORD, add_staff, test_settings
from tests.maps.conftest import script_page

CRS_JS = "app/common/crs.js"
STATIC = Path(__file__).resolve().parents[2] / "maps" / "static"

# Across the China box, E-Town, and just inside each edge of the box (where the inverse must
# still converge: it iterates without the box test, as geodata.crs does).
_rng = random.Random(7)
INSIDE = [(_rng.uniform(73.5, 134.5), _rng.uniform(18.2, 53.0)) for _ in range(40)]
INSIDE += [
    (116.5068, 39.7954),
    (72.0041, 30.0),
    (137.8346, 45.0),
    (100.0, 0.8294),
    (120.0, 55.8270),
    (72.004, 0.8293),
    (137.8347, 55.8271),
]
# Outside the box GCJ-02 leaves points alone, both ways.
OUTSIDE = [
    (2.35, 48.85),
    (151.21, -33.87),
    (-74.0, 40.7),
    (72.0039, 30.0),
    (137.8348, 45.0),
    (100.0, 0.8292),
    (120.0, 55.8272),
    (0.0, 0.0),
    (-180.0, -90.0),
]


# -- in the browser ------------------------------------------------------------------------


crs_page = script_page(CRS_JS, "crs_page")


@pytest.mark.browser
def test_forward_and_iterated_inverse_match_geodata_crs(crs_page: Any) -> None:
    got = crs_page.evaluate(
        "pts => pts.map(p => [WarmCRS.wgs84ToGcj02(p[0], p[1]), "
        "WarmCRS.gcj02ToWgs84(p[0], p[1]), "
        "WarmCRS.gcj02ToWgs84.apply(null, WarmCRS.wgs84ToGcj02(p[0], p[1]))])",
        INSIDE,
    )
    round_trips = 0
    for (lon, lat), (fwd, inv, back) in zip(INSIDE, got, strict=True):
        assert fwd == pytest.approx(list(wgs84_to_gcj02(lon, lat)), abs=1e-9)
        assert fwd != pytest.approx([lon, lat], abs=1e-4)  # shifted: by 100-700 m
        # The iterated inverse, not the one-step shortcut (1-2 m, ~1e-5 degrees, off).
        assert inv == pytest.approx(list(gcj02_to_wgs84(lon, lat)), abs=1e-11)
        if not out_of_china(*fwd):  # (a point shifted out of the box stays there, as in Python)
            assert back == pytest.approx([lon, lat], abs=1e-11)  # round trip, ~1 µm
            round_trips += 1
    assert round_trips >= 40


@pytest.mark.browser
def test_outside_china_passes_through_unchanged(crs_page: Any) -> None:
    got = crs_page.evaluate(
        "pts => pts.map(p => [WarmCRS.outOfChina(p[0], p[1]), "
        "WarmCRS.wgs84ToGcj02(p[0], p[1]), WarmCRS.gcj02ToWgs84(p[0], p[1])])",
        OUTSIDE,
    )
    for (lon, lat), (out, fwd, inv) in zip(OUTSIDE, got, strict=True):
        assert out is True and out_of_china(lon, lat)
        assert fwd == [lon, lat] and inv == [lon, lat]  # exactly
        assert list(wgs84_to_gcj02(lon, lat)) == [lon, lat]  # as the reference does
    inside = crs_page.evaluate("pts => pts.map(p => WarmCRS.outOfChina(p[0], p[1]))", INSIDE)
    assert inside == [out_of_china(lon, lat) for lon, lat in INSIDE] == [False] * len(INSIDE)
    assert crs_page.evaluate("WarmCRS.outOfChina(NaN, 39.8)") is out_of_china(math.nan, 39.8)


@pytest.mark.browser
def test_convert_between_named_crs(crs_page: Any) -> None:
    lon, lat = 116.5068, 39.7954
    got = crs_page.evaluate(
        "p => [WarmCRS.convert(p[0], p[1], 'wgs84', 'gcj02'), "
        "WarmCRS.convert(p[0], p[1], 'gcj02', 'wgs84'), "
        "WarmCRS.convert(p[0], p[1], 'wgs84', 'wgs84'), "
        "WarmCRS.convert(p[0], p[1], 'gcj02', 'gcj02'), WarmCRS.NAMES]",
        [lon, lat],
    )
    assert got[0] == pytest.approx(list(wgs84_to_gcj02(lon, lat)), abs=1e-9)
    assert got[1] == pytest.approx(list(gcj02_to_wgs84(lon, lat)), abs=1e-11)
    assert got[2] == got[3] == [lon, lat]
    assert got[4] == ["wgs84", "gcj02"]
    # BD-09 is not in the browser (no page needs it): asking for it is an error, not a no-op.
    error = crs_page.evaluate(
        "() => { try { WarmCRS.convert(116.5, 39.8, 'wgs84', 'bd09'); "
        "return null; } catch (e) { return e.message; } }"
    )
    assert error is not None and "bd09" in error


# -- the pages load it -----------------------------------------------------------------------


def _script_srcs(page: str) -> list[str]:
    return re.findall(r'<script src="([^"]+)"', page)


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The HTML of a folium map, ``/embed`` and the staff editor, on a small store."""
    store = SqlStationStore("sqlite:///" + str(tmp_path_factory.mktemp("crs") / "s.db"))
    staff = add_staff(store)
    with TestClient(create_app(test_settings(), store=store), follow_redirects=False) as client:
        out = {"map": client.get("/maps/stations").text, "embed": client.get("/embed").text}
        login = client.get("/admin/login").text
        token = re.search(r'name="login_token" value="([^"]+)"', login)
        assert token
        r = client.post(
            "/admin/login",
            data={
                "name": staff.editor_name,
                "password": PASSWORD,
                "login_token": token.group(1),
                "next": "/admin/stations/new",
            },
        )
        assert r.status_code in (302, 303)
        out["editor"] = client.get("/admin/stations/new").text
    store.close()
    yield out


@pytest.mark.parametrize(
    ("page", "own"),
    [("map", "app/map/core.js"), ("embed", "app/embed/embed.js"), ("editor", "app/admin/edit.js")],
)
def test_each_page_loads_crs_js_before_its_own_script(
    pages: dict[str, str], page: str, own: str
) -> None:
    srcs = _script_srcs(pages[page])
    assert re.fullmatch(r"/assets/[0-9a-f]{10}/app/common/crs\.js", asset_url(CRS_JS))
    assert srcs.count(asset_url(CRS_JS)) == 1, srcs
    assert srcs.index(asset_url(CRS_JS)) < srcs.index(asset_url(own)), srcs


def test_no_other_script_carries_the_gcj02_formula() -> None:
    """One copy of the formula: a second one would drift from geodata/crs.py unseen."""
    carriers = sorted(
        p.relative_to(STATIC).as_posix()
        for p in STATIC.rglob("*.js")
        if "6378245" in p.read_text(encoding="utf-8")
        or "outOfChina(" in p.read_text(encoding="utf-8")
    )
    assert carriers == ["common/crs.js"]
