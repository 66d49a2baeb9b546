"""GeodesicIndex returns exactly the brute-force geodesic ranking, ties broken by id."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geodata import spatial_index
from geodata.distance import WGS84_GEOD, geodesic_m
from geodata.errors import GeodataError
from geodata.spatial_index import GeodesicIndex, z_order

# -- brute force ------------------------------------------------------------------------------


def brute_distances(lon: np.ndarray, lat: np.ndarray, qlon: float, qlat: float) -> np.ndarray:
    """Geodesic metres from the query to every point (query as the first point, as the index)."""
    n = lon.size
    return WGS84_GEOD.inv(np.full(n, qlon), np.full(n, qlat), lon.copy(), lat.copy())[2]


def brute_rank(ids, dist, keep, k=None):
    positions = np.flatnonzero(keep)
    order = np.lexsort((ids[positions], dist[positions]))[:k]
    return ids[positions][order], dist[positions][order]


def brute_nearest(ids, lon, lat, qlon, qlat, k, max_d=None, allowed=None):
    dist = brute_distances(lon, lat, qlon, qlat)
    keep = np.ones(ids.size, dtype=bool)
    if max_d is not None:
        keep &= dist <= max_d
    if allowed is not None:
        keep &= allowed
    return brute_rank(ids, dist, keep, k)


def brute_within(ids, lon, lat, qlon, qlat, radius, allowed=None):
    dist = brute_distances(lon, lat, qlon, qlat)
    keep = dist <= radius
    if allowed is not None:
        keep &= allowed
    return brute_rank(ids, dist, keep)


def assert_same(got, want) -> None:
    got_ids, got_dist = got
    want_ids, want_dist = want
    assert got_ids.dtype == np.int64 and got_dist.dtype == np.float64
    assert got_ids.tolist() == want_ids.tolist()
    assert got_dist.tolist() == want_dist.tolist()


# -- point sets ---------------------------------------------------------------------------------

REGIONS = {
    "beijing": ((115.4, 117.5), (39.4, 41.1)),
    "world": ((-180.0, 180.0), (-90.0, 90.0)),
    "antimeridian": ((179.0, 181.0), (-30.0, 30.0)),  # lon > 180 is wrapped to -180..-179
    "north_pole": ((-180.0, 180.0), (88.0, 90.0)),
    "south_pole": ((-180.0, 180.0), (-90.0, -88.0)),
    "one_street": ((116.5000, 116.5010), (39.8000, 39.8005)),  # near-equal distances
}


@st.composite
def point_sets(draw, max_n: int = 120):
    """Random stations in one region, some of them stacked on the same spot, random ids."""
    region = draw(st.sampled_from(sorted(REGIONS)))
    (lon0, lon1), (lat0, lat1) = REGIONS[region]
    seed = draw(st.integers(0, 2**32 - 1))
    n = draw(st.integers(0, max_n))
    rng = np.random.default_rng(seed)
    lon = rng.uniform(lon0, lon1, n)
    lat = rng.uniform(lat0, lat1, n)
    if region == "antimeridian":
        lon = np.where(lon > 180.0, lon - 360.0, lon)
    if n and draw(st.booleans()):  # duplicates: copy some points onto others
        src = rng.integers(0, n, size=max(1, n // 4))
        dst = rng.integers(0, n, size=src.size)
        lon[dst] = lon[src]
        lat[dst] = lat[src]
    ids = rng.choice(np.arange(-10 * max_n, 10 * max_n), size=n, replace=False).astype(np.int64)
    qlon = float(rng.uniform(lon0, lon1))
    qlat = float(rng.uniform(lat0, lat1))
    if qlon > 180.0:
        qlon -= 360.0
    if n and draw(st.booleans()):  # query exactly on a station
        j = int(rng.integers(0, n))
        qlon, qlat = float(lon[j]), float(lat[j])
    share = draw(st.sampled_from([None, 1.0, 0.9, 0.5, 0.1, 0.02]))
    allowed = None if share is None else rng.random(n) < share
    return ids, lon, lat, qlon, qlat, allowed


PROPERTY = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(point_sets(), st.integers(1, 12), st.sampled_from([None, 0.0, 50.0, 2_000.0, 300_000.0]))
def test_nearest_equals_brute_force(case, k, max_d) -> None:
    ids, lon, lat, qlon, qlat, allowed = case
    index = GeodesicIndex(ids, lon, lat)
    got = index.nearest(qlon, qlat, k, max_distance_m=max_d, allowed=allowed)
    assert_same(got, brute_nearest(ids, lon, lat, qlon, qlat, k, max_d, allowed))


@PROPERTY
@given(point_sets(), st.sampled_from([0.0, 10.0, 500.0, 20_000.0, 2_000_000.0, 25_000_000.0]))
def test_within_equals_brute_force(case, radius) -> None:
    ids, lon, lat, qlon, qlat, allowed = case
    index = GeodesicIndex(ids, lon, lat)
    got = index.within(qlon, qlat, radius, allowed=allowed)
    assert_same(got, brute_within(ids, lon, lat, qlon, qlat, radius, allowed))


@pytest.fixture(scope="module")
def city() -> tuple[GeodesicIndex, np.ndarray, np.ndarray, np.ndarray]:
    """3,000 stations over a Beijing-sized box: big enough for the masked tree search."""
    rng = np.random.default_rng(11)
    n = 3_000
    ids = rng.permutation(n).astype(np.int64) * 5 + 17
    lon = rng.uniform(115.4, 117.5, n)
    lat = rng.uniform(39.4, 41.1, n)
    lon[:40] = lon[40]  # a stack of 41 stations on one spot
    lat[:40] = lat[40]
    return GeodesicIndex(ids, lon, lat), ids, lon, lat


@pytest.mark.parametrize("share", [1.0, 0.7, 0.2, 0.03, 0.005, 0.0])
@pytest.mark.parametrize("k", [1, 5, 40])
def test_city_queries_with_filters_equal_brute_force(city, share, k) -> None:
    index, ids, lon, lat = city
    rng = np.random.default_rng(int(share * 1000) + k)
    allowed = rng.random(ids.size) < share
    queries = list(zip(rng.uniform(115.4, 117.5, 15), rng.uniform(39.4, 41.1, 15), strict=True))
    queries.append((float(lon[40]), float(lat[40])))  # on the stack: ties everywhere
    for qlon, qlat in queries:
        for max_d in (None, 3_000.0):
            got = index.nearest(qlon, qlat, k, max_distance_m=max_d, allowed=allowed)
            assert_same(got, brute_nearest(ids, lon, lat, qlon, qlat, k, max_d, allowed))
        got = index.within(qlon, qlat, 4_000.0, allowed=allowed)
        assert_same(got, brute_within(ids, lon, lat, qlon, qlat, 4_000.0, allowed))


def test_a_mask_changed_in_place_after_it_was_counted_still_answers_exactly(city) -> None:
    """The index keeps a mask's count to choose between scan and tree; the answer never
    depends on that choice, so a count gone stale only costs speed."""
    index, ids, lon, lat = city
    allowed = np.ones(ids.size, dtype=bool)
    qlon, qlat = 116.4, 40.2
    assert_same(
        index.nearest(qlon, qlat, 5, allowed=allowed),
        brute_nearest(ids, lon, lat, qlon, qlat, 5, None, allowed),
    )
    assert index._counted[id(allowed)][1] == ids.size  # noqa: SLF001
    allowed[:] = False
    allowed[[3, 500, 2_999]] = True  # now "few", but counted as all
    for k in (1, 5):
        assert_same(
            index.nearest(qlon, qlat, k, allowed=allowed),
            brute_nearest(ids, lon, lat, qlon, qlat, k, None, allowed),
        )


def test_stacked_duplicates_tie_by_id(city) -> None:
    index, ids, lon, lat = city
    got_ids, got_dist = index.nearest(float(lon[0]), float(lat[0]), 41)
    assert got_dist.tolist() == [0.0] * 41
    assert got_ids.tolist() == sorted(ids[:41].tolist())


def test_k_larger_than_the_index_returns_everything_sorted() -> None:
    ids = np.array([30, 10, 20])
    index = GeodesicIndex(ids, [116.40, 116.41, 116.40], [39.90, 39.90, 39.90])
    got_ids, got_dist = index.nearest(116.40, 39.90, 10)
    assert got_ids.tolist() == [20, 30, 10]
    assert got_dist[:2].tolist() == [0.0, 0.0] and got_dist[2] > 800.0
    # The distances are geodesic_m's, to the bit.
    assert got_dist[2] == geodesic_m(116.40, 39.90, 116.41, 39.90)


def test_empty_index() -> None:
    index = GeodesicIndex(np.array([], dtype=np.int64), [], [])
    assert len(index) == 0
    for ids, dist in (index.nearest(116.4, 39.9, 3), index.within(116.4, 39.9, 1e6)):
        assert ids.dtype == np.int64 and ids.size == 0
        assert dist.dtype == np.float64 and dist.size == 0
    with pytest.raises(GeodataError):
        index.nearest(116.4, 39.9, 0)


def test_ids_positions_and_copies() -> None:
    ids = np.array([7, 3, 9], dtype=np.int32)
    lon = np.array([116.40, 116.50, 116.60])
    lat = np.array([39.90, 39.95, 40.00])
    index = GeodesicIndex(ids, lon, lat)
    assert len(index) == 3
    assert index.ids.dtype == np.int64 and index.ids.tolist() == [7, 3, 9]
    with pytest.raises(ValueError):
        index.ids[0] = 1
    lon[:] = 0.0  # the index keeps its own copy
    assert index.nearest(116.6, 40.0, 1)[0].tolist() == [9]
    assert index.nearest(116.6, 40.0, 1, allowed=np.array([True, True, False]))[0].tolist() == [3]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"k": 0}, "k"),
        ({"k": -3}, "k"),
        ({"k": True}, "k"),
        ({"k": 2.0}, "k"),
        ({"lon": float("nan")}, "lon"),
        ({"lon": 180.5}, "lon"),
        ({"lat": float("inf")}, "lat"),
        ({"lat": -90.01}, "lat"),
        ({"lat": "north"}, "lat"),
        ({"max_distance_m": -1.0}, "max_distance_m"),
        ({"max_distance_m": float("nan")}, "max_distance_m"),
        ({"allowed": np.ones(4, dtype=bool)}, "allowed"),
        ({"allowed": np.ones(3, dtype=int)}, "allowed"),
    ],
)
def test_nearest_rejects_bad_input(kwargs, field) -> None:
    index = GeodesicIndex([1, 2, 3], [116.4, 116.5, 116.6], [39.9, 39.9, 39.9])
    args = {"lon": 116.4, "lat": 39.9, "k": 2} | kwargs
    with pytest.raises(GeodataError) as info:
        index.nearest(
            args["lon"],
            args["lat"],
            args["k"],
            max_distance_m=args.get("max_distance_m"),
            allowed=args.get("allowed"),
        )
    assert info.value.field == field


@pytest.mark.parametrize("radius", [-1.0, float("nan"), float("inf"), "far"])
def test_within_rejects_bad_radius(radius) -> None:
    index = GeodesicIndex([1], [116.4], [39.9])
    with pytest.raises(GeodataError) as info:
        index.within(116.4, 39.9, radius)
    assert info.value.field == "radius_m"


@pytest.mark.parametrize(
    ("ids", "lon", "lat", "field"),
    [
        ([1, 1], [116.4, 116.5], [39.9, 39.9], "ids"),
        ([1.5, 2.0], [116.4, 116.5], [39.9, 39.9], "ids"),
        ([1, 2], [116.4], [39.9, 39.9], "ids"),
        ([1, 2], [116.4, np.nan], [39.9, 39.9], "lon"),
        ([1, 2], [116.4, 116.5], [39.9, 95.0], "lat"),
        ([[1, 2]], [[116.4, 116.5]], [[39.9, 39.9]], "ids"),
    ],
)
def test_constructor_rejects_bad_input(ids, lon, lat, field) -> None:
    with pytest.raises(GeodataError) as info:
        GeodesicIndex(ids, lon, lat)
    assert info.value.field == field


def test_infinite_max_distance_means_no_cap(city) -> None:
    index, *_ = city
    a = index.nearest(116.4, 39.9, 5)
    b = index.nearest(116.4, 39.9, 5, max_distance_m=float("inf"))
    assert a[0].tolist() == b[0].tolist() and a[1].tolist() == b[1].tolist()


def test_positions_and_ids_agree(city) -> None:
    index, ids, lon, lat = city
    for kwargs in ({}, {"max_distance_m": 5_000.0}, {"allowed": np.arange(ids.size) % 7 == 0}):
        got_ids, got_dist = index.nearest(116.4, 39.9, 8, **kwargs)
        pos, dist = index.nearest_positions(116.4, 39.9, 8, **kwargs)
        assert pos.dtype == np.intp and ids[pos].tolist() == got_ids.tolist()
        assert dist.tolist() == got_dist.tolist()


def test_concurrent_queries_agree(city) -> None:
    index, ids, lon, lat = city
    rng = np.random.default_rng(5)
    queries = list(zip(rng.uniform(115.4, 117.5, 200), rng.uniform(39.4, 41.1, 200), strict=True))
    expected = [index.nearest(x, y, 5)[0].tolist() for x, y in queries]
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(lambda q: index.nearest(q[0], q[1], 5)[0].tolist(), queries))
    assert got == expected


# -- the compiled tree (geodata/_chordtree.pyx) ------------------------------------------------


def _tree(index: GeodesicIndex):
    return index._tree  # noqa: SLF001 - the compiled half of the index is tested directly


@PROPERTY
@given(point_sets(), st.integers(1, 40), st.sampled_from([-1.0, 0.0, 30.0, 5_000.0, 9e6]))
def test_chord_tree_query_equals_brute_force_chords(case, k, bound) -> None:
    """The tree's k nearest by chord, in (chord, position) order, within the bound."""
    ids, lon, lat, qlon, qlat, allowed = case
    index = GeodesicIndex(ids, lon, lat)
    xyz = spatial_index._ecef(lon, lat)
    q = spatial_index._ecef_point(qlon, qlat)[0]
    chord, pos = _tree(index).query(q, k, bound, allowed)
    want = np.sqrt(((xyz - q) ** 2).sum(axis=1))
    keep = np.ones(ids.size, bool) if allowed is None else allowed.copy()
    if bound >= 0:
        keep &= want <= bound
    cand = np.flatnonzero(keep)
    order = cand[np.lexsort((cand, want[cand]))][:k]
    # The tree sums squares in its own order: chords agree to rounding, positions exactly
    # except where two chords are within rounding of each other.
    assert pos.size == order.size
    assert np.allclose(chord, want[order], rtol=0, atol=1e-6)
    assert np.allclose(want[pos], want[order], rtol=0, atol=1e-6)


def test_compiled_path_answers_common_queries_bit_for_bit_with_pyproj(city) -> None:
    """The one-call path is taken for ordinary queries, and its metres are pyproj's own."""
    index, ids, lon, lat = city
    rng = np.random.default_rng(23)
    taken = 0
    for qlon, qlat in zip(
        rng.uniform(115.4, 117.5, 300), rng.uniform(39.4, 41.1, 300), strict=True
    ):
        found = _tree(index).nearest_certified(float(qlon), float(qlat), 5, None)
        if found is None:
            continue
        taken += 1
        pos, got_dist = found
        assert_same((ids[pos], got_dist), brute_nearest(ids, lon, lat, qlon, qlat, 5))
        scalar = [WGS84_GEOD.inv(float(qlon), float(qlat), lon[p], lat[p])[2] for p in pos]
        assert got_dist.tolist() == scalar
    assert taken >= 290  # ties and near-ties are rare; they go to the general path


def test_compiled_path_declines_ties_and_large_k(city) -> None:
    index, ids, lon, lat = city
    # Query on the stack of 41 identical stations: the (k+1)-th chord ties the k-th.
    assert _tree(index).nearest_certified(float(lon[40]), float(lat[40]), 5, None) is None
    assert _tree(index).nearest_certified(116.4, 39.9, 65, None) is None
    assert _tree(index).nearest_certified(116.4, 39.9, ids.size, None) is None
    # The index still answers both exactly through the general path.
    assert_same(
        index.nearest(float(lon[40]), float(lat[40]), 5),
        brute_nearest(ids, lon, lat, float(lon[40]), float(lat[40]), 5),
    )
    assert_same(index.nearest(116.4, 39.9, 65), brute_nearest(ids, lon, lat, 116.4, 39.9, 65))


def test_tree_builds_on_degenerate_inputs() -> None:
    """Sorted, constant and collinear coordinates must not make the build quadratic or fail."""
    n = 20_000
    lon = np.full(n, 116.4)
    lat = np.linspace(39.0, 40.0, n)  # sorted along one axis
    ids = np.arange(n, dtype=np.int64)
    index = GeodesicIndex(ids, lon, lat)
    assert_same(index.nearest(116.41, 39.5, 3), brute_nearest(ids, lon, lat, 116.41, 39.5, 3))
    same = GeodesicIndex(ids, np.full(n, 116.4), np.full(n, 39.9))  # every point on one spot
    got_ids, got_dist = same.nearest(116.4, 39.9, 4)
    assert got_ids.tolist() == [0, 1, 2, 3] and got_dist.tolist() == [0.0] * 4


def test_z_order_is_a_permutation_that_keeps_neighbours_together(city) -> None:
    index, ids, lon, lat = city
    order = z_order(lon, lat)
    assert order.dtype == np.intp and sorted(order.tolist()) == list(range(ids.size))
    # Consecutive points in the order are far closer than consecutive points by position.
    step = np.hypot(np.diff(lon[order]), np.diff(lat[order]))
    plain = np.hypot(np.diff(lon), np.diff(lat))
    assert np.median(step) < np.median(plain) / 10
    # The curve's known shape on a 2×2 grid, equal points by position, the poles, empties.
    assert z_order([0, 10, 0.001, 10.001], [0, 10, 0.001, 10.001]).tolist() == [0, 2, 1, 3]
    assert z_order([-10, 10, -10, 10], [-10, -10, 10, 10]).tolist() == [0, 1, 2, 3]
    assert z_order([5.0, 5.0, 5.0], [1.0, 1.0, 1.0]).tolist() == [0, 1, 2]
    assert sorted(z_order([-180, 180, 0], [-90, 90, 0]).tolist()) == [0, 1, 2]
    assert z_order([], []).tolist() == []


def _mapped(array: np.ndarray, folder, name: str) -> np.ndarray:
    """``array`` written to a file and mapped back read-only (as a shared snapshot is)."""
    path = folder / f"{name}.npy"
    np.save(path, array)
    return np.load(path, mmap_mode="r")


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(point_sets(), st.integers(1, 12), st.sampled_from([None, 2_000.0]))
def test_an_index_from_its_built_arrays_answers_as_the_built_one(
    tmp_path_factory, case, k, max_d
) -> None:
    """``from_built`` over read-only memory-mapped copies of ``built()`` and of the points:
    the same answers as brute force, searched in the mapped arrays themselves (no copy)."""
    ids, lon, lat, qlon, qlat, allowed = case
    folder = tmp_path_factory.mktemp("built")
    built = {
        name: _mapped(array, folder, name)
        for name, array in GeodesicIndex(ids, lon, lat).built().items()
    }
    built["tree_perm"] = np.asarray(built["tree_perm"], np.intp)  # int64 is intp here
    points = [
        _mapped(np.asarray(a, dtype), folder, f"p{i}")
        for i, (a, dtype) in enumerate(((ids, np.int64), (lon, float), (lat, float)))
    ]
    index = GeodesicIndex.from_built(*points, built)
    assert not ids.size or np.shares_memory(index.ids, points[0])
    for name, array in index.built().items():
        assert not array.flags.writeable
        assert not ids.size or np.shares_memory(array, built[name]), name
    got = index.nearest(qlon, qlat, k, max_distance_m=max_d, allowed=allowed)
    assert_same(got, brute_nearest(ids, lon, lat, qlon, qlat, k, max_d, allowed))
    got = index.within(qlon, qlat, 20_000.0, allowed=allowed)
    assert_same(got, brute_within(ids, lon, lat, qlon, qlat, 20_000.0, allowed))


def test_from_built_refuses_arrays_that_do_not_fit(city) -> None:
    index, ids, lon, lat = city
    built = index.built()
    with pytest.raises(GeodataError) as short:
        GeodesicIndex.from_built(ids, lon, lat, {**built, "tree_xyz": built["tree_xyz"][1:]})
    assert short.value.field == "tree_xyz"
    with pytest.raises(GeodataError) as typed:
        GeodesicIndex.from_built(ids, lon.astype(np.float32), lat, built)
    assert typed.value.field == "lon"
