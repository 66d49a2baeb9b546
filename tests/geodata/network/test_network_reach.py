"""Street-network reach on a generated river-and-bridge grid, checked against a plain Dijkstra."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely

from geodata.errors import GeodataError
from geodata.network import (
    load_network,
    nearest_source,
    network_reach,
    read_osm,
    snap_points,
    write_osm,
)
from geodata.projection import lonlat_to_metric
from geodata.reach import straight_line
from tests.geodata.network.builders import dijkstra, node_at, walk_adjacency, write_river


@pytest.fixture(scope="module")
def river(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("river")
    net, pbf = write_river(tmp, ".osm.pbf")
    _, xml = write_river(tmp, ".osm")
    return net, pbf, xml


def test_pbf_and_xml_read_the_same_streets(river) -> None:
    _, pbf, xml = river
    a, b = read_osm(pbf), read_osm(xml)
    assert a.names == b.names and "东桥" in a.names and "凉水河" not in a.names
    np.testing.assert_array_equal(a.seg_a, b.seg_a)
    np.testing.assert_allclose(a.lon, b.lon, atol=1e-7)  # OSM stores 7 decimals


def test_walk_network_leaves_out_the_motorway_bridge_and_the_river(river) -> None:
    gen, pbf, _ = river
    walk = load_network(pbf, "walk")
    # 10 rows × 10 blocks + 11 columns × 2 banks × 4 blocks + the street bridge
    assert walk.n_edges == 100 + 88 + 1
    assert walk.n_nodes == 110
    assert "京津塘高速" not in {walk.street_name(e) for e in range(walk.n_edges)}


def test_network_reach_excludes_the_far_bank_that_straight_line_includes(river) -> None:
    gen, pbf, _ = river
    reach = network_reach(load_network(pbf, "walk"), 15)  # 1,125 m at 4.5 km/h
    (slon, slat), (plon, plat) = gen.places["sw_bank"], gen.places["across"]
    one = np.array
    assert straight_line(reach.budget_m).reachable(
        one([slon]), one([slat]), one([plon]), one([plat])
    )[0]
    assert not reach.reachable(one([slon]), one([slat]), one([plon]), one([plat]))[0]
    # round by the bridge: 1 km east, 200 m across, 1 km back west
    d = reach.pair_distances_m(one([slon]), one([slat]), one([plon]), one([plat]))
    assert np.isinf(d[0])  # beyond the budget the search stops
    far = network_reach(load_network(pbf, "walk"), 60)
    d = far.pair_distances_m(one([slon]), one([slat]), one([plon]), one([plat]))[0]
    assert d == pytest.approx(2200, rel=2e-3)
    iso = reach.isochrones([slon], [slat])[0]
    x, y = lonlat_to_metric([plon], [plat], reach.network.crs)
    assert not iso.contains(shapely.Point(x[0], y[0]))
    assert iso.contains(shapely.Point(*lonlat_to_metric([slon], [slat], reach.network.crs)))


def test_street_distances_match_a_plain_dijkstra(river) -> None:
    gen, pbf, _ = river
    net = load_network(pbf, "walk")
    adj = walk_adjacency(gen)
    rng = np.random.default_rng(3)
    street_nodes = [n for n in gen.nodes if n[0] in adj]
    sources = [street_nodes[i] for i in rng.choice(len(street_nodes), 6, replace=False)]
    targets = street_nodes
    reach = network_reach(net, 40)  # 3 km: most of the grid
    slon = np.repeat([s[1] for s in sources], len(targets))
    slat = np.repeat([s[2] for s in sources], len(targets))
    plon = np.tile([t[1] for t in targets], len(sources))
    plat = np.tile([t[2] for t in targets], len(sources))
    got = reach.pair_distances_m(slon, slat, plon, plat)
    want = []
    for s in sources:
        dist = dijkstra(adj, s[0])
        want += [dist.get(t[0], np.inf) for t in targets]
    want = np.array(want)
    want[want > reach.budget_m] = np.inf
    np.testing.assert_allclose(
        got, want, atol=0.05
    )  # points given unrounded: snap legs of a few mm
    # nearest station for every node, by brute force over the sources
    who, d = nearest_source(
        net,
        reach.snap([s[1] for s in sources], [s[2] for s in sources]),
        snap_points(net, [t[1] for t in targets], [t[2] for t in targets]),
    )
    all_d = np.array([[dijkstra(adj, s[0]).get(t[0], np.inf) for t in targets] for s in sources])
    np.testing.assert_allclose(
        d, all_d.min(axis=0), atol=0.05
    )  # points given unrounded: snap legs of a few mm
    np.testing.assert_allclose(all_d[who, np.arange(len(targets))], all_d.min(axis=0), atol=0.05)


def test_a_point_off_the_street_walks_to_it_and_far_ones_are_flagged(river) -> None:
    gen, pbf, _ = river
    net = load_network(pbf, "walk")
    on = gen.lonlat(300, 0)
    off = gen.lonlat(300, -40)  # 40 m south of the southernmost street
    lost = gen.lonlat(300, -700)
    s = snap_points(net, [on[0], off[0], lost[0]], [on[1], off[1], lost[1]])
    assert s.distance_m[0] == pytest.approx(0, abs=0.01)
    assert s.distance_m[1] == pytest.approx(40, abs=0.1)
    assert s.far().tolist() == [2]
    reach = network_reach(net, 60)
    d = reach.pair_distances_m(
        np.array([on[0]]), np.array([on[1]]), np.array([off[0]]), np.array([off[1]])
    )
    assert d[0] == pytest.approx(40, abs=0.1)
    assert node_at(gen, *on) > 0


def test_a_station_mid_block_reaches_along_its_own_street(river) -> None:
    gen, pbf, _ = river
    reach = network_reach(load_network(pbf, "walk"), 1)  # 75 m
    mid = gen.lonlat(150, 0)
    east, west, far = gen.lonlat(200, 0), gen.lonlat(100, 0), gen.lonlat(250, 0)
    got = reach.reachable(
        np.array([mid[0]] * 3),
        np.array([mid[1]] * 3),
        np.array([east[0], west[0], far[0]]),
        np.array([east[1], west[1], far[1]]),
    )
    assert got.tolist() == [True, True, False]


def test_bad_network_files_say_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(GeodataError, match="OpenStreetMap"):
        load_network(tmp_path / "streets.geojson")
    with pytest.raises(GeodataError, match="no such"):
        load_network(tmp_path / "missing.osm.pbf")
    empty = write_osm(
        tmp_path / "river.osm",
        [(1, 116.5, 39.8), (2, 116.51, 39.8)],
        [(5, [1, 2], {"waterway": "river"})],
    )
    with pytest.raises(GeodataError, match="no streets"):
        read_osm(empty)
    junk = tmp_path / "junk.osm"
    junk.write_text("<osm><node id=", encoding="utf-8")
    with pytest.raises(GeodataError, match="junk.osm"):
        read_osm(junk)
    with pytest.raises(GeodataError, match="mode"):
        load_network(empty, "car")


def test_local_search_equals_the_whole_network_search(tmp_path: Path) -> None:
    from scipy.sparse.csgraph import dijkstra

    from geodata.network import nodes_within
    from geodata.network.synthetic import city_grid

    path = city_grid(60, jitter_m=30.0).write(str(tmp_path / "city.osm.pbf"))
    net = load_network(path, "walk")
    src = np.random.default_rng(2).choice(net.n_nodes, 25, replace=False)
    for limit in (150.0, 1125.0, 2500.0):
        local = nodes_within(net, src, limit)
        whole = dijkstra(net.csr, indices=src, limit=limit)
        for got, row in zip(local, whole, strict=True):
            np.testing.assert_array_equal(got, np.flatnonzero(np.isfinite(row)))
