"""The in-memory catalog: nearest with filters, listing, and following writes."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
from pyproj import Geod

from stations.errors import NotFound
from stations.search import ListQuery, NearestQuery, StationCatalog, StationFilter
from stations.store.sql import SqlStationStore
from tests.conftest import make_station

BEIJING = ZoneInfo("Asia/Shanghai")
NOON = datetime(2026, 11, 24, 12, 0, tzinfo=BEIJING)  # a Tuesday
NIGHT = datetime(2026, 11, 24, 23, 30, tzinfo=BEIJING)


def _fill(store: SqlStationStore) -> None:
    rng = np.random.default_rng(7)
    for i in range(60):
        store.create(
            make_station(
                name=f"驿站{i}",
                lon=116.45 + rng.random() * 0.15,
                lat=39.74 + rng.random() * 0.1,
                amenities=["hot_water", "toilet"] if i % 3 == 0 else ["charging"],
                opening_hours=["24/7", "Mo-Fr 08:00-20:00", ""][i % 3],
                status="temporarily_closed" if i % 10 == 9 else "open",
            ),
            actor="t",
        )


def test_nearest_matches_brute_force_geodesic_with_filters(store: SqlStationStore) -> None:
    _fill(store)
    catalog = StationCatalog(store)
    geod = Geod(ellps="WGS84")
    lon, lat = 116.51, 39.79
    flt = StationFilter(amenities=frozenset({"hot_water"}), open_now=True)
    hits = catalog.nearest(NearestQuery(lon, lat, k=5, filter=flt, at=NIGHT))
    expected = []
    for s in store.all():
        if "hot_water" in s.data.amenities and catalog.open_now(s, NIGHT) is True:
            _, _, d = geod.inv(lon, lat, s.data.lon, s.data.lat)
            expected.append((d, s.id))
    expected.sort()
    assert [h.station.id for h in hits] == [i for _, i in expected[:5]]
    assert all(h.open_now is True for h in hits)
    assert np.allclose([h.distance_m for h in hits], [d for d, _ in expected[:5]])


def test_open_now_never_counts_unknown_or_closed(store: SqlStationStore) -> None:
    _fill(store)
    catalog = StationCatalog(store)
    hits = catalog.nearest(
        NearestQuery(116.5, 39.8, k=50, filter=StationFilter(open_now=True), at=NOON)
    )
    for h in hits:
        assert h.station.data.opening_hours and h.station.data.status == "open"
    unfiltered = catalog.nearest(NearestQuery(116.5, 39.8, k=60, at=NOON))
    assert {h.open_now for h in unfiltered} == {True, False, None}


def test_catalog_follows_writes_of_another_store_instance(store_url: str) -> None:
    writer = SqlStationStore(store_url)
    reader_store = SqlStationStore(store_url)
    catalog = StationCatalog(reader_store)
    assert len(catalog) == 0
    s = writer.create(make_station(name="新站"), actor="w")
    assert catalog.refresh() is True
    assert catalog.get(s.id).data.name == "新站"
    writer.update(s.id, {"name": "改名"}, actor="w")
    catalog.refresh()
    assert catalog.nearest(NearestQuery(116.5, 39.8, k=1))[0].station.data.name == "改名"
    writer.delete(s.id, actor="w")
    catalog.refresh()
    assert len(catalog) == 0 and catalog.refresh() is False
    writer.close()
    reader_store.close()


def test_search_text_bbox_and_paging(store: SqlStationStore) -> None:
    _fill(store)
    store.create(make_station(name="北京银行亦庄支行暖心驿站", lon=116.52, lat=39.80), actor="t")
    catalog = StationCatalog(store)
    hits, total = catalog.search(ListQuery(q="北京银行"))
    assert total == 1 and hits[0].station.data.name.startswith("北京银行")
    page1, total_all = catalog.search(ListQuery(limit=25, offset=0))
    page3, _ = catalog.search(ListQuery(limit=25, offset=50))
    assert total_all == 61 and len(page1) == 25 and len(page3) == 11
    box = (116.45, 39.74, 116.50, 39.79)
    inside, n = catalog.search(ListQuery(bbox=box, limit=1000))
    assert n == sum(
        1 for s in store.all() if box[0] <= s.data.lon <= box[2] and box[1] <= s.data.lat <= box[3]
    )
    assert len(inside) == n


def test_patched_snapshot_equals_a_fresh_load(store: SqlStationStore) -> None:
    """Edits are patched into the arrays; the result must equal building from scratch."""
    _fill(store)
    catalog = StationCatalog(store)
    ids = [s.id for s in store.all()]
    store.update(ids[0], {"lon": 116.6, "lat": 39.83}, actor="t")  # moves: tree rebuilt
    store.update(ids[1], {"amenities": "微波炉、冰箱", "status": "closed"}, actor="t")
    store.update(ids[2], {"opening_hours": "Mo-Fr 09:00-10:00", "name": "改名驿站"}, actor="t")
    assert catalog.refresh()
    fresh = StationCatalog(store)
    # A moved station keeps its position in the patched snapshot (a fresh load puts it
    # where the Z-order says), so compare station by station, in id order.
    for name in ("ids", "lon", "lat", "amenity_bits", "status", "host_type", "text"):
        a, b = catalog._snap, fresh._snap
        assert np.array_equal(
            np.asarray(getattr(a, name))[a.id_order], np.asarray(getattr(b, name))[b.id_order]
        ), name
    for q in [(116.6, 39.83), (116.5, 39.78), (116.47, 39.81)]:
        for flt in (
            StationFilter(),
            StationFilter(amenities=frozenset({"microwave"})),
            StationFilter(open_now=True),
        ):
            a = catalog.nearest(NearestQuery(*q, k=5, filter=flt, at=NOON))
            b = fresh.nearest(NearestQuery(*q, k=5, filter=flt, at=NOON))
            assert [(h.station.id, h.open_now) for h in a] == [
                (h.station.id, h.open_now) for h in b
            ]
    assert catalog.search(ListQuery(q="改名"))[1] == 1


def test_loaded_stations_are_the_stores_in_id_order(store: SqlStationStore) -> None:
    """Laying stations out in spatial order re-creates them: equal values, same list order."""
    _fill(store)
    catalog = StationCatalog(store)
    assert list(catalog.all()) == store.all()
    assert [s.id for s in catalog.all()] == sorted(s.id for s in store.all())
    hits = catalog.nearest(NearestQuery(116.5, 39.78, k=3))
    assert all(catalog.get(h.station.id) is h.station for h in hits)


def test_pages_go_by_id_whether_few_or_most_stations_match(store: SqlStationStore) -> None:
    """Positions follow the map, pages follow ids: both ways of ordering a page agree."""
    _fill(store)
    catalog = StationCatalog(store)
    every = sorted(s.id for s in store.all())
    hits, total = catalog.search(ListQuery(limit=1000))  # most match: walked in id order
    assert total == len(every) and [h.station.id for h in hits] == every
    pages = [catalog.search(ListQuery(limit=7, offset=o))[0] for o in range(0, 70, 7)]
    assert [h.station.id for page in pages for h in page] == every
    s = catalog.get(every[5]).data
    box = (s.lon - 0.002, s.lat - 0.002, s.lon + 0.002, s.lat + 0.002)
    hits, total = catalog.search(ListQuery(bbox=box))  # a few match: sorted by id
    inside = sorted(
        t.id
        for t in store.all()
        if box[0] <= t.data.lon <= box[2] and box[1] <= t.data.lat <= box[3]
    )
    assert 1 <= total < len(every) / 16 and [h.station.id for h in hits] == inside


def test_refresh_follows_the_change_feed_while_writers_commit(store: SqlStationStore) -> None:
    """Writers in several threads create, edit and delete while the catalog refreshes: after
    the last refresh it holds exactly the store's stations, at the feed's head."""
    import threading

    _fill(store)
    catalog = StationCatalog(store)
    ids = [s.id for s in store.all()]
    stop = threading.Event()

    def write(w: int) -> None:
        rng = np.random.default_rng(w)
        for i in range(12):
            station_id = ids[int(rng.integers(len(ids)))]
            try:
                if i % 4 == 0:
                    store.create(make_station(name=f"并发{w}-{i}号驿站"), actor="test")
                elif i % 4 == 1:
                    store.update(station_id, {"name": f"改名{w}-{i}号驿站"}, actor="test")
                elif i % 4 == 2:
                    store.delete(station_id, actor="test")
                else:
                    store.update(station_id, {"lon": 116.4 + rng.random() / 5}, actor="test")
            except NotFound:  # deleted by another writer already
                pass

    def refresh() -> None:
        while not stop.is_set():
            catalog.refresh()

    reader = threading.Thread(target=refresh)
    writers = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    reader.start()
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    reader.join()
    catalog.refresh()
    assert catalog.counter == store.feed_head()
    assert list(catalog.all()) == store.all()
