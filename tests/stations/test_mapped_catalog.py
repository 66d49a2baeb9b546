"""The shared (memory-mapped) catalog answers exactly as the in-memory reference catalog.

``StationCatalog(store, shared=SnapshotFiles(dir))`` keeps its arrays in one snapshot per
host and decodes stations on demand; ``StationCatalog(store)`` holds every station as an
object. For random queries — nearest with every filter, caps and instants, list pages with
boxes, text and organisations — both give the same hits, and the same bytes on the nearest
route's fast path, on SQLite and PostgreSQL, before and after writes. A reader never sees a
snapshot torn between two versions, within a process (the catalog's swap) or across
processes (a version opened while another is published and the old one removed).
"""

from __future__ import annotations

import mmap
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stations.errors import NotFound
from stations.mapped import SnapshotFiles
from stations.mapped.records import build_columns, decode_record, encode_record
from stations.model import Station
from stations.nearest import nearest_json
from stations.search import ListQuery, NearestQuery, StationCatalog, StationFilter
from stations.store.sql import SqlStationStore
from tests.conftest import fresh_database, make_station

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 1, tzinfo=UTC)
BOX = (116.45, 39.75, 116.60, 39.85)
AMENITIES = ["hot_water", "charging", "toilet", "microwave", "wifi"]
STATUSES = ["open", "open", "temporarily_closed", "closed"]
HOSTS = ["bank", "express_depot", "union_office", "convenience_store"]
HOURS = ["24/7", "Mo-Fr 08:00-20:00", "Mo-Su 08:00-22:00", "Sa,Su 09:00-17:00", ""]
ENTRIES = ["", "open_door", "scan"]
N = 150


def _fill(store: SqlStationStore, n: int = N, seed: int = 5) -> None:
    rng = np.random.default_rng(seed)
    lon = rng.uniform(BOX[0], BOX[2], n)
    lat = rng.uniform(BOX[1], BOX[3], n)
    lon[:4], lat[:4] = lon[4], lat[4]  # stacked: ties broken by id
    for i in range(n):
        store.create(
            make_station(
                name=f'驿站"{i}"\\🚴' if i % 7 == 0 else f"荣华{i}号暖心驿站",
                address=f"北京市大兴区荣华中路{i}号",
                lon=float(lon[i]),
                lat=float(lat[i]),
                amenities=[a for a in AMENITIES if rng.random() < 0.5] or ["drinking_water"],
                status=STATUSES[i % len(STATUSES)],
                host_type=HOSTS[i % len(HOSTS)],
                opening_hours=HOURS[(i // 2) % len(HOURS)],
                entry=ENTRIES[i % len(ENTRIES)],
                no_smartphone_ok=[None, True, False][i % 3],
                phone=f"010-{60000000 + i}" if i % 3 else "",
            ),
            actor="test",
        )


@pytest.fixture(scope="module")
def pair(
    engine: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[SqlStationStore, StationCatalog, StationCatalog]]:
    """A store of N stations, its reference catalog and a shared one (few kept decoded, so
    answers go through decoding and eviction all the time)."""
    folder = tmp_path_factory.mktemp("mapped")
    with fresh_database(engine, folder) as url:
        store = SqlStationStore(url)
        try:
            _fill(store)
            shared = StationCatalog(store, shared=SnapshotFiles(folder / "snap"), keep_decoded=8)
            yield store, StationCatalog(store), shared
        finally:
            store.close()


def _rows(hits: list) -> list[tuple[object, ...]]:
    return [(h.station, h.distance_m, h.open_now) for h in hits]


filters = st.builds(
    StationFilter,
    amenities=st.frozensets(st.sampled_from(AMENITIES), max_size=2),
    status=st.frozensets(st.sampled_from(STATUSES), max_size=2),
    host_types=st.frozensets(st.sampled_from(HOSTS), max_size=2),
    open_now=st.booleans(),
    entries=st.frozensets(st.sampled_from(ENTRIES[1:]), max_size=1),
    no_smartphone_ok=st.booleans(),
)
instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(SHANGHAI)
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    lon=st.floats(BOX[0] - 0.05, BOX[2] + 0.05),
    lat=st.floats(BOX[1] - 0.05, BOX[3] + 0.05),
    k=st.integers(1, 40),
    cap=st.one_of(st.none(), st.floats(10, 20_000)),
    flt=filters,
    at=instants,
    crs=st.sampled_from(["wgs84", "gcj02", "bd09"]),
)
def test_nearest_equals_the_reference(
    pair: tuple[SqlStationStore, StationCatalog, StationCatalog],
    lon: float,
    lat: float,
    k: int,
    cap: float | None,
    flt: StationFilter,
    at: datetime,
    crs: str,
) -> None:
    _, reference, shared = pair
    query = NearestQuery(lon, lat, k=k, max_distance_m=cap, filter=flt, at=at)
    assert _rows(shared.nearest(query)) == _rows(reference.nearest(query))
    assert nearest_json(shared, query, crs) == nearest_json(reference, query, crs)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    box=st.one_of(
        st.none(),
        st.tuples(st.floats(BOX[0], BOX[2]), st.floats(BOX[1], BOX[3]), st.floats(0.001, 0.2)).map(
            lambda t: (t[0], t[1], t[0] + t[2], t[1] + t[2])
        ),
    ),
    q=st.sampled_from([None, "荣华1", "驿站", "🚴", "nothing"]),
    flt=filters,
    at=instants,
    limit=st.integers(1, 60),
    offset=st.integers(0, 100),
    orgs=st.one_of(st.none(), st.just(frozenset({1})), st.just(frozenset({2}))),
)
def test_list_pages_equal_the_reference(
    pair: tuple[SqlStationStore, StationCatalog, StationCatalog],
    box: tuple[float, float, float, float] | None,
    q: str | None,
    flt: StationFilter,
    at: datetime,
    limit: int,
    offset: int,
    orgs: frozenset[int] | None,
) -> None:
    _, reference, shared = pair
    query = ListQuery(bbox=box, q=q, filter=flt, at=at, limit=limit, offset=offset, orgs=orgs)
    hits, total = shared.search(query)
    ref_hits, ref_total = reference.search(query)
    assert total == ref_total and _rows(hits) == _rows(ref_hits)


def test_all_get_and_states_equal_the_reference(
    pair: tuple[SqlStationStore, StationCatalog, StationCatalog],
) -> None:
    store, reference, shared = pair
    assert list(shared.all()) == list(reference.all()) == store.all()
    assert len(shared) == len(reference) == N
    for a, b in zip(shared.points(), reference.points(), strict=True):
        assert np.array_equal(a, b)
    assert np.array_equal(shared.points()[0], [s.data.lon for s in store.all()])
    for station in store.all()[::17]:
        assert shared.get(station.id) == station
    with pytest.raises(NotFound):
        shared.get(10**9)
    at = datetime(2026, 11, 24, 12, 0, tzinfo=SHANGHAI)
    flt = StationFilter(open_now=True, amenities=frozenset({"toilet"}))
    for a, b in zip(shared.states_by_id(flt, at), reference.states_by_id(flt, at), strict=True):
        assert np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b


def test_writes_reach_both_and_a_new_worker_opens_the_version(engine: str, tmp_path: Path) -> None:
    """Create, edit (moving, renaming, refiltering), delete and restore: after a refresh the
    shared catalog equals the reference and the store; a second process-like catalog opens
    the version the first one wrote instead of loading the store again."""
    with fresh_database(engine, tmp_path) as url:
        store = SqlStationStore(url)
        try:
            _fill(store, 40, seed=9)
            files = SnapshotFiles(tmp_path / "snap")
            reference = StationCatalog(store)
            shared = StationCatalog(store, shared=files, keep_decoded=4)
            ids = [s.id for s in store.all()]
            store.update(ids[0], {"lon": 116.59, "lat": 39.84, "name": "搬家驿站"}, actor="t")
            store.update(ids[1], {"status": "closed", "amenities": "微波炉"}, actor="t")
            store.delete(ids[2], actor="t")
            store.create(make_station(name="新驿站", lon=116.5, lat=39.8), actor="t")
            assert shared.refresh() and reference.refresh()
            assert shared.counter == reference.counter == store.feed_head()
            assert list(shared.all()) == list(reference.all()) == store.all()
            [version] = files.versions()  # the old version was removed
            assert version.counter == store.feed_head()
            second = StationCatalog(store, shared=files)
            assert second.counter == shared.counter
            assert list(second.all()) == store.all()
            store.restore(ids[2], actor="t")
            assert second.refresh()  # writes the next version ...
            assert shared.refresh()  # ... which the first one adopts
            assert files.versions()[-1].counter == store.feed_head() == shared.counter
            for q in [(116.59, 39.84), (116.5, 39.8), (116.55, 39.77)]:
                query = NearestQuery(*q, k=6, filter=StationFilter(status=frozenset({"open"})))
                reference.refresh()
                expected = _rows(reference.nearest(query))
                assert _rows(shared.nearest(query)) == expected
                assert _rows(second.nearest(query)) == expected
        finally:
            store.close()


def test_a_snapshot_of_another_database_is_not_opened(engine: str, tmp_path: Path) -> None:
    """A folder left by an earlier database under the same name (recreated, restored from
    an older backup) is ignored: the catalog holds this store's stations."""
    files = SnapshotFiles(tmp_path / "snap")
    with fresh_database(engine, tmp_path) as url:
        store = SqlStationStore(url)
        try:
            _fill(store, 30, seed=1)
            StationCatalog(store, shared=files)
        finally:
            store.close()
    with fresh_database(engine, tmp_path) as url:
        store = SqlStationStore(url)
        try:
            _fill(store, 12, seed=2)
            catalog = StationCatalog(store, shared=files)
            assert list(catalog.all()) == store.all()
        finally:
            store.close()


def test_records_round_trip_every_field() -> None:
    """A decoded station equals the encoded one — floats to the bit, times with their zone
    (UTC ones stored as microseconds), amenities in any order — read back from its record
    and its row of the arrays."""
    from dataclasses import replace

    data = make_station(
        name='引号"与\\反斜杠🚴',
        lon=116.123456789012345,
        lat=39.98765432101234,
        amenities=["hot_water", "wifi"],
        no_smartphone_ok=False,
        photos=["a" * 64],
        external_id="X-1",
        entry="scan",
        opening_hours="Mo-Fr 08:00-20:00",
    )
    odd = replace(data, amenities=("wifi", "hot_water"), no_smartphone_ok=None, lon=-0.0)
    stations = []
    for i, zone in enumerate((UTC, SHANGHAI, UTC)):
        at = datetime(2026, 3, 1, 8, 30, 1, 123456 + i, tzinfo=zone)
        for j, verified in enumerate((None, at - timedelta(days=3))):
            sid = 10 * i + j + 1
            stations.append(
                Station(sid, odd if j else data, 3, at, at + timedelta(hours=1), False, 4, verified)
            )
    columns = build_columns(stations)
    back = [decode_record(columns, p) for p in range(len(columns))]
    assert sorted(back, key=lambda s: s.id) == stations
    for b in back:
        original = next(s for s in stations if s.id == b.id)
        assert b.created_at.isoformat() == original.created_at.isoformat()
        assert b.created_at.utcoffset() == original.created_at.utcoffset()  # a zone: its offset
    record = encode_record(stations[0])  # what the arrays hold is not repeated
    assert b"116.12" not in record and b"hot_water" not in record and b"scan" not in record


def test_a_reader_never_sees_a_torn_swap(engine: str, tmp_path: Path) -> None:
    """While one catalog writes version after version (each write moves one station and
    renames it after its generation), readers in other threads query a second catalog and
    open versions from disk directly. Every snapshot they get is one version: its arrays
    and its records agree station by station."""
    with fresh_database(engine, tmp_path) as url:
        store = SqlStationStore(url)
        try:
            _fill(store, 30, seed=3)
            files = SnapshotFiles(tmp_path / "snap")
            writer = StationCatalog(store, shared=files, keep_decoded=4)
            reader = StationCatalog(store, shared=files, keep_decoded=4)
            target = store.all()[0].id
            stop = threading.Event()
            problems: list[str] = []
            seen: set[int] = set()

            def check_catalog() -> None:
                while not stop.is_set():
                    reader.refresh()
                    snap = reader._snap
                    seen.add(snap.counter)  # type: ignore[attr-defined]
                    for pos in range(len(snap.stations)):
                        s = snap.stations[pos]
                        if (s.id, s.data.lon) != (int(snap.ids[pos]), float(snap.lon[pos])):
                            problems.append(f"catalog: position {pos} torn")
                        lon = float(snap.lon[pos])
                        if s.id == target and s.version > 1 and s.data.name != f"第{lon:.6f}代":
                            problems.append(f"catalog: {s.data.name} at {lon}")

            def check_files() -> None:
                while not stop.is_set():
                    newest = files.newest()
                    if newest is None:
                        continue
                    try:
                        columns, meta = SnapshotFiles.open(newest)
                    except FileNotFoundError:  # removed between listing and opening
                        continue
                    if meta["counter"] != newest.counter:
                        problems.append("files: meta of another version")
                    lon = columns.arrays["lon"]
                    for pos in range(len(columns)):
                        s = decode_record(columns, pos)
                        if s.data.lon != lon[pos] or s.id != columns.arrays["ids"][pos]:
                            problems.append(f"files: position {pos} torn")

            threads = [threading.Thread(target=check_catalog), threading.Thread(target=check_files)]
            for t in threads:
                t.start()
            try:
                for generation in range(1, 25):
                    lon = round(116.46 + generation * 0.001, 6)
                    store.update(target, {"lon": lon, "name": f"第{lon:.6f}代"}, actor="t")
                    writer.refresh()
            finally:
                stop.set()
                for t in threads:
                    t.join()
            assert not problems, problems[:5]
            reader.refresh()
            assert reader.get(target).data.name == store.get(target).data.name
            assert len(seen) > 1  # the reader did swap while the writer wrote
        finally:
            store.close()


def test_columns_follow_the_catalogs_space_order(engine: str, tmp_path: Path) -> None:
    """The snapshot's positions are the in-memory catalog's (a Z-order curve, ties by id)."""
    with fresh_database(engine, tmp_path) as url:
        store = SqlStationStore(url)
        try:
            _fill(store, 50, seed=4)
            columns = build_columns(store.all())
            reference = StationCatalog(store)
            assert columns.arrays["ids"].tolist() == [s.id for s in reference._snap.stations]
        finally:
            store.close()


def _from_a_mapped_file(array: np.ndarray) -> bool:
    """Whether ``array``'s memory is a file mapped read-only (``mmap``), not the heap."""
    base: object = array
    while isinstance(base, np.ndarray):
        base = base.base
    if isinstance(base, memoryview):
        base = base.obj
    return isinstance(base, mmap.mmap)


def test_the_nearest_index_is_searched_in_the_shared_file(
    pair: tuple[SqlStationStore, StationCatalog, StationCatalog],
) -> None:
    """A worker builds no index of its own: the tree the writer built (the very tree the
    in-memory catalog builds over the same positions) is searched where it is mapped,
    read-only, with no copy."""
    _, reference, shared = pair
    index = shared._snap.index  # noqa: SLF001
    built = index.built()
    columns = shared._snap.columns  # type: ignore[attr-defined]  # noqa: SLF001
    for name, array in {**built, "ids": index.ids}.items():
        assert not array.flags.writeable, name
        assert _from_a_mapped_file(array), name
        assert np.shares_memory(array, columns.arrays[name]), name
        with pytest.raises(ValueError):
            array.flat[0] = 0
    for name, array in reference._snap.index.built().items():  # noqa: SLF001
        assert np.array_equal(array, built[name]), name
        assert not _from_a_mapped_file(array)


def test_text_search_reads_the_shared_text(
    pair: tuple[SqlStationStore, StationCatalog, StationCatalog],
) -> None:
    """A ``q`` search answers from the mapped text, building no per-worker list of it."""
    _, reference, shared = pair
    for q in ("荣华1", ' 驿站"1 ', "大兴区荣华中路12号", "暖心驿站\n北京", "nothing"):
        query = ListQuery(q=q, limit=500)
        hits, total = shared.search(query)
        assert (_rows(hits), total) == (
            _rows(reference.search(query)[0]),
            reference.search(query)[1],
        )
    assert "text" not in shared._snap.__dict__  # noqa: SLF001
    assert _from_a_mapped_file(shared._snap.columns.arrays["text"])  # type: ignore[attr-defined]  # noqa: SLF001


words = st.text(st.sampled_from("aAßsSİi̇ﬁ荣华驿站\n🚴 "), max_size=4)


@settings(max_examples=300, deadline=None)
@given(
    names=st.lists(st.tuples(words, words), max_size=12),
    word=words,
    picked=st.lists(st.integers(0, 11), max_size=12, unique=True),
)
def test_compiled_text_search_equals_the_plain_one(
    names: list[tuple[str, str]], word: str, picked: list[int]
) -> None:
    """Station texts' UTF-8 ranges searched for a word's UTF-8 bytes give the stations
    whose text contains the word — case-folding that changes lengths (ß → ss), a word
    across the name/address line, or one that would span two stations' bytes included."""
    from dataclasses import replace

    from stations.mapped.records import search_text
    from stations.mapped.text import containing, containing_reference

    base = make_station(name="x", address="y")
    texts = [
        search_text(Station(i + 1, replace(base, name=n, address=a), 1, NOW, NOW, False, 1))
        for i, (n, a) in enumerate(names)
    ]
    offsets = np.zeros(len(texts) + 1, np.int64)
    np.cumsum([len(t) for t in texts], out=offsets[1:])
    blob = np.frombuffer(b"".join(texts) or b"\0", np.uint8)[: offsets[-1]]
    positions = np.array([p for p in picked if p < len(texts)], np.intp)
    needle = word.strip().casefold()
    plain = [f"{n}\n{a}".casefold() for n, a in names]
    assert containing(blob, offsets, positions, needle).tolist() == containing_reference(
        plain, positions.tolist(), needle
    )
