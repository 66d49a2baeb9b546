"""The fast nearest answer and the plain reference give the same bytes, for random queries.

The fence around the speed work: whatever the compiled search, the row building, the
fragment cache or the splice do, ``nearest_json`` must equal ``reference_json`` (a
geodesic scan, the single formatter and ``json``) byte for byte — over random points, k,
distance caps, amenity/status/host-type filters, open-now at random instants and the three
output coordinate systems, with and without riders' confirmations (the trust overlay), on
a real SQLite store's catalog.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stations.nearest import nearest_json, reference_json
from stations.search import NO_FILTER, NearestQuery, StationCatalog, StationFilter
from stations.store.sql import SqlStationStore
from stations.trust.board import TrustBoard
from stations.trust.rules import STATES, Vote
from tests.conftest import make_station

SHANGHAI = ZoneInfo("Asia/Shanghai")
BOX = (116.45, 39.75, 116.60, 39.85)  # lon_min, lat_min, lon_max, lat_max: E-Town
AMENITIES = ["hot_water", "charging", "toilet", "microwave", "wifi"]
STATUSES = ["open", "open", "open", "temporarily_closed", "closed"]
HOSTS = ["bank", "express_depot", "union_office", "convenience_store"]
HOURS = ["24/7", "Mo-Fr 08:00-20:00", "Mo-Su 08:00-22:00", "Sa,Su 09:00-17:00", ""]
N = 160


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StationCatalog]:
    """A catalog over N stations in E-Town: some stacked on one spot, awkward text, every
    amenity, status, host type and kind of hours."""
    rng = np.random.default_rng(13)
    path: Path = tmp_path_factory.mktemp("nearest") / "stations.db"
    store = SqlStationStore(f"sqlite:///{path}")
    lon = rng.uniform(BOX[0], BOX[2], N)
    lat = rng.uniform(BOX[1], BOX[3], N)
    lon[:6], lat[:6] = lon[6], lat[6]  # seven stations on one spot: ties broken by id
    for i in range(N):
        amenities = [a for a in AMENITIES if rng.random() < 0.5] or ["drinking_water"]
        store.create(
            make_station(
                name=f'驿站"{i}"\\🚴' if i % 7 == 0 else f"荣华{i}号暖心驿站",
                address=f"北京市大兴区荣华中路{i}号 <b>&</b>",
                lon=float(lon[i]),
                lat=float(lat[i]),
                amenities=amenities,
                status=STATUSES[i % len(STATUSES)],
                host_type=HOSTS[i % len(HOSTS)],
                opening_hours=HOURS[(i // 2) % len(HOURS)],
                phone=f"010-{60000000 + i}" if i % 3 else "",
            ),
            actor="test",
        )
    try:
        yield StationCatalog(store)
    finally:
        store.close()


@pytest.fixture(scope="module")
def board(catalog: StationCatalog) -> TrustBoard:
    """Riders' taps on a third of the stations, of every state, some hours old, on site or
    not: each station's trust members then differ from the schedule-only defaults."""
    rng = np.random.default_rng(17)
    states = sorted(STATES)
    now = time.time()
    rows = []
    for cid, station in enumerate(catalog.all()[::3]):
        for j in range(int(rng.integers(1, 4))):
            vote = Vote(
                now - float(rng.uniform(60, 30 * 3600)),
                states[int(rng.integers(len(states)))],
                f"device-{cid}-{j}",
                bool(rng.random() < 0.7),
                [True, False, None][int(rng.integers(3))],
            )
            rows.append((cid * 10 + j, station.id, vote))
    board = TrustBoard()
    board.add(rows)
    return board


def subsets(items: list[str]) -> st.SearchStrategy[frozenset[str]]:
    return st.frozensets(st.sampled_from(items), max_size=2)


@st.composite
def queries(draw: st.DrawFn) -> tuple[NearestQuery, str]:
    lon = draw(st.floats(BOX[0] - 0.05, BOX[2] + 0.05))
    lat = draw(st.floats(BOX[1] - 0.05, BOX[3] + 0.05))
    k = draw(st.one_of(st.integers(1, 12), st.sampled_from([64, 65, 200])))
    max_d = draw(
        st.one_of(st.none(), st.sampled_from([0.0, 50.0, 1_500.0]), st.floats(1.0, 20_000.0))
    )
    flt = StationFilter(
        amenities=draw(subsets(AMENITIES)),
        status=draw(subsets(["open", "temporarily_closed", "closed"])),
        host_types=draw(subsets(HOSTS)),
        open_now=draw(st.booleans()),
    )
    if flt.is_empty() and draw(st.booleans()):
        flt = NO_FILTER
    week = datetime(2026, 11, 23, tzinfo=SHANGHAI)  # a Monday
    at = week + timedelta(seconds=draw(st.integers(0, 7 * 24 * 3600 - 1)))
    crs = draw(st.sampled_from(["wgs84", "gcj02", "bd09"]))
    return NearestQuery(lon, lat, k, max_d, flt, at), crs


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(queries(), st.booleans())
def test_fast_answer_equals_the_reference(
    catalog: StationCatalog, board: TrustBoard, case, with_trust: bool
) -> None:
    query, crs = case
    trust = board if with_trust else None
    want = reference_json(catalog.all(), query, crs, tz=catalog.tz, trust=trust)
    assert nearest_json(catalog, query, crs, trust=trust) == want
    assert nearest_json(catalog, query, crs, trust=trust) == want  # from cached fragments


def test_on_a_station_ties_break_by_id_in_both(catalog: StationCatalog) -> None:
    stacked = catalog.all()[0].data  # the lowest id is one of the seven on one spot
    query = NearestQuery(
        stacked.lon, stacked.lat, 7, at=datetime(2026, 11, 24, 12, tzinfo=SHANGHAI)
    )
    got = nearest_json(catalog, query)
    assert got == reference_json(catalog.all(), query, tz=catalog.tz)
    assert got.count(b'"distance_m":0.0') == 7


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(queries())
def test_every_station_rendered_anew_equals_the_reference(catalog: StationCatalog, case) -> None:
    """With no fragment kept, every answer is rendered from the catalog's converted
    navigation points: the bytes still equal the reference's."""
    from stations.nearest import fragments

    query, crs = case
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fragments, "_FRAGMENTS_MAX", 0)
        want = reference_json(catalog.all(), query, crs, tz=catalog.tz)
        assert nearest_json(catalog, query, crs) == want


def test_a_station_moved_after_the_query_read_it_keeps_its_own_links(tmp_path: Path) -> None:
    """A hit read from the snapshot before an edit moved its station is rendered with the
    point it was found at, and the edited station with its new one."""
    store = SqlStationStore(f"sqlite:///{tmp_path / 'moved.db'}")
    try:
        created = store.create(make_station(lon=116.5, lat=39.8), actor="test")
        catalog = StationCatalog(store)
        before = catalog.get(created.id)
        store.update(created.id, {"lon": 116.7, "lat": 39.9}, actor="test")
        assert catalog.refresh()
        after = catalog.get(created.id)
        assert after is not before
        got_before, got_after = catalog.app_coords([before, after])
        from stations.navigation import navigation_coords

        assert got_before == tuple(navigation_coords([116.5], [39.8])[0].tolist())
        assert got_after == tuple(navigation_coords([116.7], [39.9])[0].tolist())
    finally:
        store.close()
