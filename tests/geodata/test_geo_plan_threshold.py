"""Plans stop below a negligible gain; backup covering adds a second station in reach."""

from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import box

from geodata.coverage import coverage
from geodata.demand import Demand
from geodata.errors import GeodataError
from geodata.planning import (
    DEFAULT_MIN_GAIN_SHARE,
    drop_negligible,
    plan_backup_sites,
    plan_sites,
)
from geodata.projection import metric_to_lonlat, utm_crs_for

CRS = utm_crs_for(116.5, 39.8)


def _pts(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import geodata.projection as pr

    ox, oy = pr.lonlat_to_metric([116.5], [39.8], CRS)
    return metric_to_lonlat(xy[:, 0] + ox[0], xy[:, 1] + oy[0], CRS)


@pytest.fixture(scope="module")
def instance():
    rng = np.random.default_rng(9)
    dlon, dlat = _pts(rng.uniform(0, 4000, (600, 2)))
    weight = rng.integers(1, 6, 600).astype(float)
    weight[:300] *= 0.01  # a lightly used half: sites there are negligible
    demand = Demand(dlon, dlat, weight)
    slon, slat = _pts(rng.uniform(0, 4000, (6, 2)))
    clon, clat = _pts(rng.uniform(0, 4000, (80, 2)))
    return demand, slon, slat, clon, clat


def test_plan_stops_at_the_first_negligible_site(instance) -> None:
    demand, slon, slat, clon, clat = instance
    full = plan_sites(demand, slon, slat, clon, clat, 500.0, 15)
    cut = drop_negligible(full, 0.02)
    limit = 0.02 * full.total_weight
    assert all(s.marginal_gain >= limit for s in cut.sites)
    assert cut.sites == full.sites[: len(cut.sites)]
    assert cut.negligible_sites == len(full.sites) - len(cut.sites) > 0
    assert cut.best_negligible_gain == full.sites[len(cut.sites)].marginal_gain < limit
    assert cut.covered_weight == pytest.approx(
        full.existing_covered_weight + sum(s.marginal_gain for s in cut.sites)
    )
    assert drop_negligible(full, 0).sites == full.sites
    assert DEFAULT_MIN_GAIN_SHARE == 0.01
    with pytest.raises(GeodataError):
        drop_negligible(full, 1.5)


def test_backup_plan_adds_double_coverage_as_recounted(instance) -> None:
    demand, slon, slat, clon, clat = instance
    area = box(116.4, 39.7, 116.6, 39.9)
    before = coverage(area, slon, slat, demand, 500.0)
    plan = plan_backup_sites(demand, slon, slat, clon, clat, 500.0, 4)
    assert plan.existing_covered_weight == pytest.approx(before.double_covered_weight)
    picked = [s.candidate_index for s in plan.sites]
    after = coverage(area, np.r_[slon, clon[picked]], np.r_[slat, clat[picked]], demand, 500.0)
    assert plan.covered_weight == pytest.approx(after.double_covered_weight)
    # the first pick is the best single site by brute force
    gains = []
    for c in range(clon.size):
        one = coverage(area, np.r_[slon, clon[c]], np.r_[slat, clat[c]], demand, 500.0)
        gains.append(one.double_covered_weight - before.double_covered_weight)
    assert plan.sites[0].marginal_gain == pytest.approx(max(gains))
