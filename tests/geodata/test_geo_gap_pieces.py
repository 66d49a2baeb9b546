"""Gaps split into pieces a person can visit: none over the limit, all connected, nothing lost."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from geodata.areas import load_area
from geodata.coverage import gaps
from geodata.demand import uniform_demand
from geodata.errors import GeodataError


@pytest.fixture(scope="module")
def etown():
    area = load_area()
    rng = np.random.default_rng(5)
    minx, miny, maxx, maxy = area.bounds
    lon = rng.uniform(minx, maxx, 40)
    lat = rng.uniform(miny, maxy, 40)
    demand = uniform_demand(area, 9)
    demand = type(demand)(
        demand.lon,
        demand.lat,
        rng.integers(0, 5, len(demand)).astype(float),
        cells=demand.cells,
        resolution=9,
    )
    return area, lon, lat, demand


@pytest.mark.parametrize("limit", [1.0, 0.4])
def test_pieces_are_small_connected_and_add_up(etown, limit: float) -> None:
    area, lon, lat, demand = etown
    whole = gaps(area, lon, lat, demand, 500.0)
    cut = gaps(area, lon, lat, demand, 500.0, max_area_km2=limit)
    assert max(g.area_km2 for g in whole) > limit  # there was something to cut
    assert all(g.area_km2 <= limit for g in cut)
    assert all(g.polygon.geom_type == "Polygon" and g.polygon.is_valid for g in cut)
    assert sum(g.cell_count for g in cut) == sum(g.cell_count for g in whole)
    assert sum(g.uncovered_weight for g in cut) == pytest.approx(
        sum(g.uncovered_weight for g in whole)
    )
    assert shapely.union_all([g.polygon for g in cut]).area == pytest.approx(
        shapely.union_all([g.polygon for g in whole]).area, rel=1e-9
    )
    cells = np.concatenate([g.cells for g in cut])
    assert np.unique(cells).size == cells.size  # every cell in exactly one piece
    # ranked by uncovered demand, then area
    keys = [(-g.uncovered_weight, -g.area_km2) for g in cut]
    assert keys == sorted(keys)
    assert [g.rank for g in cut] == list(range(1, len(cut) + 1))
    # most pieces are close to the limit, not slivers
    full = [g for g in cut if g.area_km2 > 0.6 * limit]
    assert sum(g.area_km2 for g in full) > 0.8 * sum(g.area_km2 for g in cut)


def test_a_bad_limit_is_refused(etown) -> None:
    area, lon, lat, demand = etown
    with pytest.raises(GeodataError, match="max_area_km2"):
        gaps(area, lon, lat, demand, 500.0, max_area_km2=0)
