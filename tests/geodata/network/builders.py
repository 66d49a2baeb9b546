"""Small builders for network tests: the river-and-bridge grid, and a plain Dijkstra.

The brute force here shares nothing with ``geodata.network`` but the generated nodes and
ways: it reads the way list itself, measures segments with pyproj's Geod and runs a heapq
Dijkstra from every source, so it can check the CSR/scipy engine end to end.
"""

from __future__ import annotations

import heapq
from pathlib import Path

from pyproj import Geod

from geodata.network.synthetic import SyntheticNetwork, river_grid

GEOD = Geod(ellps="WGS84")
WALK_BLOCKED = {"motorway", "motorway_link", "trunk", "trunk_link", "cycleway"}


def write_river(tmp: Path, suffix: str = ".osm.pbf") -> tuple[SyntheticNetwork, Path]:
    net = river_grid()
    path = tmp / f"river{suffix}"
    net.write(str(path))
    return net, path


def walk_adjacency(net: SyntheticNetwork) -> dict[int, list[tuple[int, float]]]:
    """Node id → [(neighbour id, metres)] over the ways a walker may use."""
    # OSM files store 7 decimals (about 1 cm): measure what the file holds
    pos = {nid: (round(lon, 7), round(lat, 7)) for nid, lon, lat in net.nodes}
    adj: dict[int, list[tuple[int, float]]] = {}
    for _, refs, tags in net.ways:
        if "highway" not in tags or tags["highway"] in WALK_BLOCKED:
            continue
        for a, b in zip(refs[:-1], refs[1:], strict=True):
            (lo1, la1), (lo2, la2) = pos[a], pos[b]
            d = GEOD.inv(lo1, la1, lo2, la2)[2]
            adj.setdefault(a, []).append((b, d))
            adj.setdefault(b, []).append((a, d))
    return adj


def dijkstra(adj: dict[int, list[tuple[int, float]]], source: int) -> dict[int, float]:
    dist = {source: 0.0}
    heap = [(0.0, source)]
    while heap:
        d, u = heapq.heappop(heap)
        if d > dist.get(u, float("inf")):
            continue
        for v, w in adj.get(u, []):
            nd = d + w
            if nd < dist.get(v, float("inf")):
                dist[v] = nd
                heapq.heappush(heap, (nd, v))
    return dist


def node_at(net: SyntheticNetwork, lon: float, lat: float) -> int:
    """The id of the generated node at (lon, lat) (closest, to within a millimetre)."""
    best = min(net.nodes, key=lambda n: (n[1] - lon) ** 2 + (n[2] - lat) ** 2)
    return best[0]
