"""The catalog's answer rows, built on the stations side from the index's compiled search,
equal the index's own ranking (positions and metres) on every path."""

from __future__ import annotations

import gc
import sys
from typing import NamedTuple

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from geodata.errors import GeodataError
from geodata.spatial_index import GeodesicIndex
from stations.nearest._rows import certified_rows
from stations.nearest.rows import nearest_rows
from tests.geodata.test_geo_index import PROPERTY, brute_nearest, point_sets


@pytest.fixture(scope="module")
def city() -> tuple[GeodesicIndex, np.ndarray, np.ndarray, np.ndarray]:
    """3,000 stations over a Beijing-sized box, 41 of them stacked on one spot."""
    rng = np.random.default_rng(11)
    n = 3_000
    ids = rng.permutation(n).astype(np.int64) * 5 + 17
    lon = rng.uniform(115.4, 117.5, n)
    lat = rng.uniform(39.4, 41.1, n)
    lon[:40] = lon[40]
    lat[:40] = lat[40]
    return GeodesicIndex(ids, lon, lat), ids, lon, lat


class Row(NamedTuple):
    item: object
    metres: float
    label: object


@PROPERTY
@given(point_sets(), st.integers(1, 12), st.sampled_from([None, 50.0, 300_000.0]))
def test_nearest_rows_equal_nearest_positions(case, k, max_d) -> None:
    """Rows carry the same positions and metres, in the same order, on every path."""
    ids, lon, lat, qlon, qlat, allowed = case
    index = GeodesicIndex(ids, lon, lat)
    items = [f"item {i}" for i in ids.tolist()]
    codes = bytes(int(i) % 3 for i in ids.tolist())
    labels = (None, False, True)
    pos, dist = index.nearest_positions(qlon, qlat, k, max_distance_m=max_d, allowed=allowed)
    got = nearest_rows(
        index, qlon, qlat, k, items, codes, labels, Row, max_distance_m=max_d, allowed=allowed
    )
    assert all(type(r) is Row for r in got)
    assert got == [
        (items[p], d, labels[codes[p]]) for p, d in zip(pos.tolist(), dist.tolist(), strict=True)
    ]


def test_nearest_rows_compiled_path_is_taken_and_exact(city) -> None:
    index, ids, lon, lat = city
    items = list(range(ids.size))
    codes = bytes(ids.size)
    rng = np.random.default_rng(31)
    taken = 0
    for qlon, qlat in zip(
        rng.uniform(115.4, 117.5, 100), rng.uniform(39.4, 41.1, 100), strict=True
    ):
        x, y = float(qlon), float(qlat)
        rows = certified_rows(index.chord_tree, x, y, 5, None, items, codes, ("z",), Row)
        if rows is None:
            continue
        taken += 1
        want_ids, want_dist = brute_nearest(ids, lon, lat, x, y, 5)
        assert [ids[r.item] for r in rows] == want_ids.tolist()
        assert [r.metres for r in rows] == want_dist.tolist()
        assert {r.label for r in rows} == {"z"} and all(type(r) is Row for r in rows)
    assert taken >= 95


def test_nearest_rows_rejects_what_would_read_out_of_bounds(city) -> None:
    index, ids, lon, lat = city
    tree = index.chord_tree
    n = ids.size
    with pytest.raises(ValueError, match="entries"):
        certified_rows(tree, 116.4, 39.9, 5, None, [0] * (n - 1), bytes(n), ("a",), tuple)
    with pytest.raises(ValueError, match="entries"):
        certified_rows(tree, 116.4, 39.9, 5, None, [0] * n, bytes(n - 1), ("a",), tuple)
    with pytest.raises(ValueError, match="no label"):
        certified_rows(tree, 116.4, 39.9, 5, None, [0] * n, b"\x02" * n, ("a", "b"), tuple)
    with pytest.raises(ValueError, match="allowed"):
        certified_rows(tree, 116.4, 39.9, 5, np.ones(n - 1, bool), [0] * n, bytes(n), ("a",), tuple)
    with pytest.raises(TypeError, match="row_type"):
        certified_rows(tree, 116.4, 39.9, 5, None, [0] * n, bytes(n), ("a",), list)
    # Out of range: declined here, and the index's validated path says why.
    assert certified_rows(tree, 200.0, 39.9, 5, None, [0] * n, bytes(n), ("a",), tuple) is None
    with pytest.raises(GeodataError) as err:
        nearest_rows(index, 200.0, 39.9, 5, [0] * n, bytes(n), ("a",))
    assert err.value.field == "lon"


def test_nearest_rows_keep_their_items_alive() -> None:
    """Reference counts are right: rows outlive the lists they were taken from."""
    index = GeodesicIndex([1, 2, 3, 4], [116.40, 116.41, 116.42, 116.43], [39.9] * 4)
    rows = nearest_rows(
        index, 116.40, 39.9, 2, [object(), [1], {"a": 1}, "x"], bytes(4), (["label"],), Row
    )
    gc.collect()
    assert rows[0].label == ["label"] and rows[1].item == [1]
    assert sys.getrefcount(rows[0].label) >= 2


def test_a_mask_changed_in_place_after_it_was_counted_still_answers_exactly(city) -> None:
    """The index keeps a mask's count to choose between scan and tree; the rows never
    depend on that choice, so a count gone stale only costs speed."""
    index, ids, lon, lat = city
    allowed = np.ones(ids.size, dtype=bool)
    qlon, qlat = 116.4, 40.2
    rows = nearest_rows(
        index, qlon, qlat, 5, ids.tolist(), bytes(ids.size), ("x",), allowed=allowed
    )
    want = brute_nearest(ids, lon, lat, qlon, qlat, 5, None, allowed)[0]
    assert [r[0] for r in rows] == want.tolist()
    allowed[:] = False
    allowed[[3, 500, 2_999]] = True  # now "few", but counted as all
    for k in (1, 5):
        rows = nearest_rows(
            index, qlon, qlat, k, ids.tolist(), bytes(ids.size), ("x",), allowed=allowed
        )
        want = brute_nearest(ids, lon, lat, qlon, qlat, k, None, allowed)[0]
        assert [r[0] for r in rows] == want.tolist()
