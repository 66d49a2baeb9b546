"""Coverage, double coverage (交叉覆盖) and criticality on streets and in straight lines,
checked against a brute force that routes every station–point pair with a heapq Dijkstra."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod
from shapely.geometry import box

from geodata.coverage import coverage
from geodata.demand import Demand
from geodata.network import load_network, network_reach
from geodata.reach import straight_line
from tests.geodata.network.builders import dijkstra, walk_adjacency, write_river

GEOD = Geod(ellps="WGS84")


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory):
    gen, pbf = write_river(tmp_path_factory.mktemp("cov"))
    adj = walk_adjacency(gen)
    street = [n for n in gen.nodes if n[0] in adj]
    rng = np.random.default_rng(11)
    demand = Demand(
        np.array([n[1] for n in street]),
        np.array([n[2] for n in street]),
        rng.integers(1, 10, len(street)).astype(float),
    )
    # three stations on street corners: two on the south bank, one on the north bank
    places = [gen.lonlat(0, 400), gen.lonlat(300, 300), gen.lonlat(800, 700)]
    ids = [min(street, key=lambda n, p=p: (n[1] - p[0]) ** 2 + (n[2] - p[1]) ** 2) for p in places]
    lo, la = zip(*places, strict=True)
    area = box(
        min(demand.lon) - 1e-3,
        min(demand.lat) - 1e-3,
        max(demand.lon) + 1e-3,
        max(demand.lat) + 1e-3,
    )
    return gen, pbf, adj, street, demand, np.array(lo), np.array(la), ids, area


def _brute(d: np.ndarray, limit: float, w: np.ndarray) -> tuple[float, float, np.ndarray]:
    within = d <= limit  # (stations, points)
    count = within.sum(axis=0)
    total = w.sum()
    alone = within & (count == 1)[None, :]
    return w[count >= 1].sum() / total, w[count >= 2].sum() / total, (alone * w).sum(axis=1)


def test_network_coverage_matches_brute_force(setup) -> None:
    gen, pbf, adj, street, demand, slon, slat, ids, area = setup
    reach = network_reach(load_network(pbf, "walk"), 10)  # 750 m: some demand is left out
    d = np.array([[dijkstra(adj, s[0]).get(t[0], np.inf) for t in street] for s in ids])
    one, two, crit = _brute(d, reach.budget_m, demand.weight)
    got = coverage(area, slon, slat, demand, reach)
    assert got.covered_weight_share == pytest.approx(one)
    assert got.double_covered_weight_share == pytest.approx(two)
    np.testing.assert_allclose(got.criticality, crit)
    assert 0 < two < one < 1
    # nearest by street, not by air
    np.testing.assert_allclose(got.distance_m, d.min(axis=0), atol=0.05)
    assert got.summary()["reach"]["kind"] == "network"


def test_straight_line_differs_and_matches_its_own_brute_force(setup) -> None:
    gen, pbf, adj, street, demand, slon, slat, ids, area = setup
    n = len(demand)
    d = np.array(
        [
            GEOD.inv(np.full(n, lo), np.full(n, la), demand.lon, demand.lat)[2]
            for lo, la in zip(slon, slat, strict=True)
        ]
    )
    one, two, crit = _brute(d, 1125.0, demand.weight)
    got = coverage(area, slon, slat, demand, straight_line(1125.0))
    assert got.covered_weight_share == pytest.approx(one)
    assert got.double_covered_weight_share == pytest.approx(two)
    np.testing.assert_allclose(got.criticality, crit)
    net = coverage(area, slon, slat, demand, network_reach(load_network(pbf, "walk"), 15))
    # the river costs double coverage: in a straight line every point has two stations
    assert net.double_covered_weight_share < got.double_covered_weight_share
    assert got.summary()["reach"] == {"kind": "straight_line", "radius_m": 1125.0}


def test_double15_rule_needs_both_the_kilometre_and_the_walk(setup) -> None:
    gen, pbf, adj, street, demand, slon, slat, ids, area = setup
    net = load_network(pbf, "walk")
    rule = network_reach(net, 15, cap_m=1000.0)
    d_net = np.array([[dijkstra(adj, s[0]).get(t[0], np.inf) for t in street] for s in ids])
    n = len(demand)
    d_air = np.array(
        [
            GEOD.inv(np.full(n, lo), np.full(n, la), demand.lon, demand.lat)[2]
            for lo, la in zip(slon, slat, strict=True)
        ]
    )
    both = np.where((d_air <= 1000.0) & (d_net <= 1125.0), 0.0, np.inf)
    one, two, crit = _brute(both, 0.5, demand.weight)
    got = coverage(area, slon, slat, demand, rule)
    assert got.covered_weight_share == pytest.approx(one)
    assert got.double_covered_weight_share == pytest.approx(two)
    np.testing.assert_allclose(got.criticality, crit)


def test_gaps_on_a_network_name_their_nearest_street(setup) -> None:
    from geodata.coverage import gaps

    gen, pbf, adj, street, demand, slon, slat, ids, area = setup
    reach = network_reach(load_network(pbf, "walk"), 5)
    found = gaps(area, slon[:1], slat[:1], None, reach, 10, max_area_km2=0.2)
    assert found and all(g.area_km2 <= 0.2 for g in found)
    names = {name for *_, tags in gen.ways for k, name in tags.items() if k == "name"}
    assert all(g.street in names for g in found)
    assert all(g.properties()["street_distance_m"] < 300 for g in found)
