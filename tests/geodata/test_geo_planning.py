"""Site planning: exact against brute-force enumeration, greedy against exact, errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod
from shapely.geometry import box

from geodata.demand import Demand, uniform_demand
from geodata.errors import GeodataError
from geodata.planning import default_candidates, min_sites_for_coverage, plan_sites

GEOD = Geod(ellps="WGS84")


def _reach(slon, slat, plon, plat, r):  # type: ignore[no-untyped-def]
    """Boolean matrix sites × points: geodesic distance ≤ r (brute force)."""
    if len(slon) == 0:
        return np.zeros((0, len(plon)), dtype=bool)
    sl, pl = np.meshgrid(slon, plon, indexing="ij")
    sa, pa = np.meshgrid(slat, plat, indexing="ij")
    _, _, d = GEOD.inv(sl, sa, pl, pa)
    return d <= r


def _instance(seed: int, n_dem: int, n_cand: int, n_ex: int):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    pts = lambda n: (116.5 + rng.uniform(0, 0.03, n), 39.8 + rng.uniform(0, 0.02, n))  # noqa: E731
    d = Demand(*pts(n_dem), rng.integers(0, 5, n_dem).astype(float) + rng.uniform(0, 1, n_dem))
    return d, pts(n_ex), pts(n_cand)


def _brute_best(demand, ex, cand, r, n):  # type: ignore[no-untyped-def]
    base = _reach(*ex, demand.lon, demand.lat, r).any(axis=0)
    cov = _reach(*cand, demand.lon, demand.lat, r)
    best = 0.0
    for combo in itertools.combinations(range(len(cand[0])), n):
        hit = base | cov[list(combo)].any(axis=0)
        best = max(best, float(demand.weight[hit].sum()))
    return best, float(demand.weight[base].sum())


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 100_000),
    n_dem=st.integers(3, 25),
    n_cand=st.integers(1, 8),
    n_ex=st.integers(0, 3),
    radius=st.sampled_from([250.0, 500.0, 900.0]),
    n_new=st.integers(1, 3),
)
def test_exact_matches_brute_force_and_greedy_never_beats_it(
    seed: int, n_dem: int, n_cand: int, n_ex: int, radius: float, n_new: int
) -> None:
    demand, ex, cand = _instance(seed, n_dem, n_cand, n_ex)
    n_new = min(n_new, n_cand)
    if demand.total_weight <= 0:
        return
    best, base = _brute_best(demand, ex, cand, radius, n_new)
    exact = plan_sites(demand, *ex, *cand, radius, n_new, method="exact")
    greedy = plan_sites(demand, *ex, *cand, radius, n_new, method="greedy")
    assert exact.covered_weight == pytest.approx(best, abs=1e-9)
    assert exact.existing_covered_weight == pytest.approx(base, abs=1e-9)
    assert greedy.covered_weight <= exact.covered_weight + 1e-9
    assert greedy.new_covered_weight >= (1 - 1 / np.e) * exact.new_covered_weight - 1e-9
    assert greedy.bound is not None and greedy.bound >= exact.new_covered_weight - 1e-6
    for res in (exact, greedy):
        gains = [s.marginal_gain for s in res.sites]
        assert gains == sorted(gains, reverse=True) and all(g > 0 for g in gains)
        assert len(res.sites) <= n_new
        cum = base + np.cumsum(gains)
        assert [s.cumulative_covered for s in res.sites] == pytest.approx(cum.tolist())
        # the reported coverage is what the chosen sites really cover
        idx = res.candidate_indices
        hit = _reach(*ex, demand.lon, demand.lat, radius).any(axis=0)
        if idx:
            hit |= _reach(cand[0][idx], cand[1][idx], demand.lon, demand.lat, radius).any(axis=0)
        assert res.covered_weight == pytest.approx(float(demand.weight[hit].sum()), abs=1e-9)
        for s in res.sites:
            assert (s.lon, s.lat) == (cand[0][s.candidate_index], cand[1][s.candidate_index])


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 100_000), target=st.sampled_from([0.3, 0.6, 0.9, 1.0]))
def test_min_sites_is_the_smallest_count_reaching_the_target(seed: int, target: float) -> None:
    demand, ex, cand = _instance(seed, 15, 7, 1)
    if demand.total_weight <= 0:
        return
    base = _reach(*ex, demand.lon, demand.lat, 600.0).any(axis=0)
    cov = _reach(*cand, demand.lon, demand.lat, 600.0)
    goal = target * demand.total_weight - 1e-9 * demand.total_weight
    smallest = None
    for k in range(0, 8):
        for combo in itertools.combinations(range(7), k):
            hit = base | (cov[list(combo)].any(axis=0) if combo else False)
            if demand.weight[hit].sum() >= goal:
                smallest = k
                break
        if smallest is not None:
            break
    if smallest is None:
        with pytest.raises(GeodataError) as err:
            min_sites_for_coverage(demand, *ex, *cand, 600.0, target)
        assert err.value.field == "target_share"
        return
    for method in ("exact", "greedy"):
        res = min_sites_for_coverage(demand, *ex, *cand, 600.0, target, method=method)
        assert res.covered_weight >= goal
        if method == "exact":
            assert len(res.sites) == smallest
        else:
            assert len(res.sites) >= smallest and res.bound is not None
            assert res.bound <= smallest


def test_plans_are_deterministic_and_auto_is_exact_for_small_instances() -> None:
    area = box(116.50, 39.78, 116.56, 39.81)
    demand = uniform_demand(area, 9)
    rng = np.random.default_rng(5)
    ex = (rng.uniform(116.50, 116.56, 6), rng.uniform(39.78, 39.81, 6))
    cand = (rng.uniform(116.50, 116.56, 60), rng.uniform(39.78, 39.81, 60))
    a = plan_sites(demand, *ex, *cand, 500.0, 5)
    b = plan_sites(demand, *ex, *cand, 500.0, 5)
    assert a.method == "exact" and a.gap == 0.0
    assert a.to_dict() == b.to_dict()
    g = plan_sites(demand, *ex, *cand, 500.0, 5, method="greedy")
    assert g.bound is not None and g.bound >= a.new_covered_weight - 1e-6
    assert 0.0 <= g.gap <= 1.0


def test_default_candidates_are_uncovered_cell_centres() -> None:
    area = box(116.50, 39.78, 116.53, 39.80)
    ex = (np.array([116.51]), np.array([39.79]))
    demand = uniform_demand(area, 9)
    lon, lat = default_candidates(area, *ex, demand, 500.0)
    assert lon.size > 0
    assert not _reach(*ex, lon, lat, 500.0).any()
    everything = default_candidates(area, *ex, None, 500.0)
    assert everything[0].size >= lon.size
    res = plan_sites(demand, *ex, lon, lat, 500.0, 3)
    assert res.covered_weight > res.existing_covered_weight


def test_fewer_sites_when_more_would_add_nothing() -> None:
    demand = Demand(np.array([116.5]), np.array([39.8]), np.array([1.0]))
    res = plan_sites(demand, [], [], [116.5, 116.5001, 117.0], [39.8, 39.8, 40.0], 500.0, 3)
    assert len(res.sites) == 1 and res.sites[0].candidate_index == 0
    assert "only 1 of 3" in res.note
    reached = min_sites_for_coverage(demand, [116.5], [39.8], [117.0], [40.0], 500.0, 1.0)
    assert reached.sites == [] and "already" in reached.note


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"n_new": 0}, "n_new"),
        ({"n_new": 4}, "n_new"),
        ({"n_new": 1.5}, "n_new"),
        ({"n_new": 1, "method": "fast"}, "method"),
        ({"n_new": 1, "radius_m": 0}, "radius_m"),
        ({"n_new": 1, "cand": ([], [])}, "candidates"),
        (
            {"n_new": 1, "demand": Demand(np.array([116.5]), np.array([39.8]), np.array([0.0]))},
            "demand",
        ),
    ],
)
def test_bad_planning_input(kwargs: dict, field: str) -> None:
    demand = kwargs.pop("demand", Demand(np.array([116.5]), np.array([39.8]), np.array([1.0])))
    cand = kwargs.pop("cand", ([116.5, 116.6, 116.7], [39.8, 39.8, 39.8]))
    radius = kwargs.pop("radius_m", 500.0)
    with pytest.raises(GeodataError) as err:
        plan_sites(demand, [], [], *cand, radius, **kwargs)
    assert err.value.field == field


@pytest.mark.parametrize("target", [0, -0.1, 1.5, float("nan")])
def test_bad_target_share(target: float) -> None:
    demand = Demand(np.array([116.5]), np.array([39.8]), np.array([1.0]))
    with pytest.raises(GeodataError) as err:
        min_sites_for_coverage(demand, [], [], [116.5], [39.8], 500.0, target)
    assert err.value.field == "target_share"


def test_unreachable_target_says_how_far_it_gets() -> None:
    demand = Demand(np.array([116.5, 117.5]), np.array([39.8, 39.8]), np.array([1.0, 1.0]))
    with pytest.raises(GeodataError) as err:
        min_sites_for_coverage(demand, [], [], [116.5], [39.8], 500.0, 0.9)
    assert err.value.field == "target_share" and "50.0%" in str(err.value)


def test_lagrangian_bounds_are_valid_and_near_the_lp_bound() -> None:
    from geodata.planning import _lagrangian_bounds, _lp_max_bound, _prepare

    area = box(116.50, 39.78, 116.56, 39.81)
    demand = uniform_demand(area, 9)
    rng = np.random.default_rng(8)
    ex = (rng.uniform(116.50, 116.56, 4), rng.uniform(39.78, 39.81, 4))
    cand = (rng.uniform(116.50, 116.56, 80), rng.uniform(39.78, 39.81, 80))
    inst, *_ = _prepare(demand, *ex, *cand, 500.0)
    exact = plan_sites(demand, *ex, *cand, 500.0, 6, method="exact")
    greedy = plan_sites(demand, *ex, *cand, 500.0, 6, method="greedy")
    upper, _ = _lagrangian_bounds(inst, 6, greedy.new_covered_weight)
    lp = _lp_max_bound(inst, 6)
    assert upper >= lp - 1e-6 >= exact.new_covered_weight - 1e-6
    assert upper <= 1.05 * lp
    fewest = min_sites_for_coverage(demand, *ex, *cand, 500.0, 0.5, method="exact")
    need = 0.5 * inst.total_weight - inst.existing_weight
    _, count_lb = _lagrangian_bounds(inst, max(len(fewest.sites) - 1, 1), need, need)
    assert 1 <= count_lb <= len(fewest.sites)
