"""The hot routes' cached GeoJSON bytes equal the single formatter's dicts, byte for byte."""

from __future__ import annotations

import dataclasses
import json
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stations.features import feature_collection, json_bytes
from stations.model import Station
from stations.nearest import fragments as fragments_mod
from stations.nearest._splice import splice
from stations.nearest.fragments import feature_collection_json
from stations.search import Hit, ListQuery, NearestQuery, StationCatalog
from stations.store.sql import SqlStationStore
from tests.conftest import make_station

NOON = datetime(2026, 11, 24, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))

# Text that has broken hand-made JSON before: quotes, backslashes, HTML, the placeholder's
# words, non-BMP characters and Chinese punctuation.
AWKWARD = [
    ('北京银行"亦庄"支行\\驿站', "荣华中路 <b>10</b> 号 & 楼"),
    ("open_now distance_m", "\u2028 separators \u2029"),
    ("驿站 🚴 骑手之家", "“引号”，顿号、"),
]


@pytest.fixture
def catalog(store: SqlStationStore) -> StationCatalog:
    for i, (name, address) in enumerate(AWKWARD):
        store.create(make_station(name=name, address=address, lon=116.50 + i * 0.01), actor="t")
    store.create(make_station(name="无时间", opening_hours="", lat=39.80), actor="t")
    store.create(make_station(name="暂停", status="temporarily_closed", lat=39.81), actor="t")
    return StationCatalog(store)


@pytest.mark.parametrize("crs", ["wgs84", "gcj02", "bd09"])
@pytest.mark.parametrize("navigation", [True, False])
def test_nearest_bytes_equal_the_dicts(catalog: StationCatalog, crs: str, navigation: bool) -> None:
    hits = catalog.nearest(NearestQuery(116.51, 39.79, k=10, at=NOON))
    assert {h.open_now for h in hits} == {True, False, None}
    for _ in range(2):  # the first call renders the fragments, the second reuses them
        got = feature_collection_json(hits, crs, navigation=navigation, numberReturned=len(hits))
        want = json_bytes(
            feature_collection(hits, crs, navigation=navigation, numberReturned=len(hits))
        )
        assert got == want
    assert json.loads(got)["features"][0]["properties"]["distance_m"] == round(
        hits[0].distance_m, 2
    )


def test_list_bytes_equal_the_dicts_with_members(catalog: StationCatalog) -> None:
    hits, total = catalog.search(ListQuery(at=NOON))
    members = {
        "numberMatched": total,
        "numberReturned": len(hits),
        "links": [{"href": "http://x/?a=1&b=<2>", "rel": "self"}],
    }
    assert feature_collection_json(hits, **members) == json_bytes(
        feature_collection(hits, **members)
    )
    assert feature_collection_json([]) == json_bytes(feature_collection([]))


def test_an_edit_is_never_served_from_stale_bytes(store: SqlStationStore) -> None:
    station = store.create(make_station(name="旧名"), actor="t")
    catalog = StationCatalog(store)
    before = feature_collection_json(catalog.nearest(NearestQuery(116.5, 39.8, k=1, at=NOON)))
    store.update(station.id, {"name": "新名"}, actor="t")
    catalog.refresh()
    after = feature_collection_json(catalog.nearest(NearestQuery(116.5, 39.8, k=1, at=NOON)))
    assert "旧名" in before.decode() and "新名" in after.decode() and "旧名" not in after.decode()


def test_the_cache_is_bounded(catalog: StationCatalog, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fragments_mod, "_FRAGMENTS_MAX", 3)
    hits = catalog.nearest(NearestQuery(116.51, 39.79, k=5, at=NOON))
    feature_collection_json(hits, navigation=True)
    assert len(fragments_mod._FRAGMENTS) <= 3  # noqa: SLF001


def test_the_bound_is_a_setting_that_trims_at_once(catalog: StationCatalog) -> None:
    """``keep_features`` (``STATIONS_NEAREST_CACHED_FEATURES``; smaller by default with a
    mapped catalog) drops the oldest features beyond the new bound, and answers stay the
    same bytes when the cache keeps nothing."""
    query = NearestQuery(116.51, 39.79, k=5, at=NOON)
    try:
        fragments_mod.keep_features(100)
        cached = feature_collection_json(catalog.nearest(query), navigation=True)
        assert len(fragments_mod._FRAGMENTS) >= 5  # noqa: SLF001
        fragments_mod.keep_features(2)
        assert len(fragments_mod._FRAGMENTS) == 2  # noqa: SLF001
        fragments_mod.keep_features(0)
        assert not fragments_mod._FRAGMENTS  # noqa: SLF001
        assert feature_collection_json(catalog.nearest(query), navigation=True) == cached
        assert not fragments_mod._FRAGMENTS  # noqa: SLF001
        with pytest.raises(ValueError):
            fragments_mod.keep_features(-1)
    finally:
        fragments_mod.keep_features(fragments_mod.DEFAULT_KEPT)


def test_a_placeholder_in_station_text_cannot_be_spliced() -> None:
    """Control characters never reach a station (validation refuses them); if one did, the
    split refuses to guess instead of writing a broken document."""
    forged = Station(
        id=1,
        data=dataclasses.replace(make_station(), name="\x01open_now\x01"),
        version=1,
        created_at=NOON,
        updated_at=NOON,
    )
    with pytest.raises(ValueError, match="exactly once"):
        feature_collection_json([Hit(forged, 12.0, True)])


@given(
    st.one_of(
        st.floats(min_value=0, max_value=2.1e7),
        st.floats(min_value=0, max_value=1e300),  # past the fast path's bound
        st.integers(0, 10**12).map(lambda c: c / 100 + 0.005),  # half-way cases
        st.sampled_from([0.0, 0.004, 0.005, 0.015, 9.995, 1e13 - 0.01, 1e13, 5e-324]),
    )
)
def test_a_spliced_distance_is_written_as_json_writes_it(distance: float) -> None:
    """The C splice formats ``distance_m`` itself; it must be ``json_bytes(round(d, 2))``."""
    got = splice(b"[", [(b"{", b",", b"}")], [(None, distance, None)], b"]")
    assert got == b"[{null," + json_bytes(round(distance, 2)) + b"}]"


def test_splice_refuses_pages_it_cannot_write() -> None:
    with pytest.raises(ValueError, match="1 hits but 2 parts"):
        splice(b"", [(b"a", b"b"), (b"a", b"b")], [(None, None, True)], b"")
    with pytest.raises(TypeError, match=r"hits\[0\] is not a tuple"):
        splice(b"", [(b"a", b"b")], [[None, None, True]], b"")
    with pytest.raises(TypeError, match="open_now must be"):
        splice(b"", [(b"a", b"b")], [(None, None, 1)], b"")
    with pytest.raises(ValueError, match="4 pieces"):
        splice(b"", [(b"a", b"b", b"c", b"d")], [(None, 1.0, True)], b"")
    with pytest.raises(ValueError, match="not a finite number"):
        splice(b"", [(b"a", b"b", b"c")], [(None, float("nan"), True)], b"")
    assert splice(b"[", [], [], b"]") == b"[]"


def test_splice_writes_members_over_the_defaults_and_checks_them() -> None:
    """``members[i] = (new, old)``: ``old`` (followed by the two closing braces) is replaced
    in the last piece, with or without a distance; a piece not ending so is refused."""
    parts = [(b'{"a":', b',"d":', b',"t":0}}'), (b'{"a":', b',"t":0}}'), (b'{"a":', b',"t":0}}')]
    hits = [(None, 1.5, True), (None, None, False), (None, None, None)]
    members = [(b',"t":12', b',"t":0'), None, (b"", b',"t":0')]
    got = splice(b"[", parts, hits, b"]", members)
    assert got == b'[{"a":true,"d":1.5,"t":12}},{"a":false,"t":0}},{"a":null}}]'
    assert splice(b"[", parts, hits, b"]", [None] * 3) == splice(b"[", parts, hits, b"]")
    with pytest.raises(ValueError, match="does not end with the members"):
        splice(b"", parts[1:2], hits[1:2], b"", [(b"x", b',"u":0')])
    with pytest.raises(ValueError, match="does not end with the members"):
        splice(b"", [(b"{", b"}}")], [(None, None, True)], b"", [(b"x", b"longer than it")])
    with pytest.raises(TypeError, match=r"members\[0\] is not a \(new, old\) pair"):
        splice(b"", parts[1:2], hits[1:2], b"", [b"x"])
    with pytest.raises(ValueError, match="2 members but 1 parts"):
        splice(b"", parts[1:2], hits[1:2], b"", [None, None])


def test_trust_overlay_bytes_equal_the_dicts(catalog: StationCatalog) -> None:
    """Hits with rider evidence get their assessed trust members swapped into the cached
    fragments; the bytes still equal the dict path's (stations.trust.board)."""
    from stations.trust.board import TrustBoard
    from stations.trust.rules import Vote

    hits = catalog.nearest(NearestQuery(116.51, 39.79, k=10, at=NOON))
    board = TrustBoard()
    now = time.time()  # evidence is judged at the real time, whatever ``at`` asked
    board.add(
        [
            (1, hits[0].station.id, Vote(now - 60, "open", "a", True, True)),
            (2, hits[1].station.id, Vote(now - 60, "closed", "b", True, True)),
            (3, hits[1].station.id, Vote(now - 90, "locked", "c", True, True)),
        ],
        now=now,
    )
    for _ in range(2):
        got = feature_collection_json(hits, navigation=True, trust=board)
        want = json_bytes(feature_collection(hits, navigation=True, trust=board))
        assert got == want
    props = [f["properties"] for f in json.loads(got)["features"]]
    assert list(props[0])[-4:] == [
        "last_confirmed_open_at",
        "last_confirmed_closed_at",
        "confidence",
        "confidence_reasons",
    ]
    assert props[1]["confidence"] == "doubtful"
    assert props[1]["last_confirmed_closed_at"] is not None
    unknown = [p for p in props if p["open_now"] is None]
    assert unknown and all(p["confidence"] == "unknown" for p in unknown)
    # and without a board every answer still carries the schedule-only properties
    plain = json.loads(feature_collection_json(hits, navigation=True))["features"]
    assert {f["properties"]["confidence"] for f in plain} == {"scheduled", "unknown"}
