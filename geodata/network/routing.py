"""Shortest walks on a :class:`~geodata.network.graph.StreetNetwork`, bounded by a distance.

Why ``scipy.sparse.csgraph.dijkstra``: its ``limit`` stops each search at the reach, so a
15-minute walk from a station settles a few hundred nodes of a city's million; it takes many
sources in one C call and can return, for every node, the nearest of many sources
(``min_only``).  igraph's ``distances`` has no limit (every search covers the whole city) and
networkx's ``ego_graph`` runs in Python; ``bench/network_reach_bench.py`` measures all three.

A source snapped to the middle of a segment is a virtual node joined to the segment's two
ends (weights: the walk to the street plus the way along it), appended to the CSR matrix.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from geodata.network.graph import StreetNetwork
from geodata.network.snap import Snapped

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

__all__ = [
    "node_distances",
    "nearest_source",
    "nodes_within",
    "pair_distances",
    "point_distances",
]

_TINY = 1e-9  # csgraph needs positive weights; a station exactly on a node is 1 nm away
_CHUNK_CELLS = 20_000_000  # distances held at once (160 MB of float64) per Dijkstra call


def _augmented(net: StreetNetwork, src: Snapped) -> csr_matrix:
    """The network's CSR matrix with one extra row (out-edges only) per source."""
    from scipy.sparse import csr_matrix

    base = net.csr
    n, s = net.n_nodes, len(src)
    e = src.edge
    length = net.edge_len[e]
    w = np.empty(2 * s)
    w[0::2] = src.distance_m + src.t * length
    w[1::2] = src.distance_m + (1.0 - src.t) * length
    cols = np.empty(2 * s, dtype=base.indices.dtype)
    cols[0::2] = net.edge_u[e]
    cols[1::2] = net.edge_v[e]
    data = np.concatenate([base.data, np.maximum(w, _TINY)])
    indices = np.concatenate([base.indices, cols])
    indptr = np.concatenate([base.indptr, base.nnz + 2 * np.arange(1, s + 1)]).astype(
        base.indptr.dtype
    )
    return csr_matrix((data, indices, indptr), shape=(n + s, n + s))


def node_distances(
    net: StreetNetwork, src: Snapped, limit_m: float = np.inf
) -> NDArray[np.float64]:
    """Metres from each source to every node, ``inf`` beyond ``limit_m``; shape (S, N).

    Includes each source's walk to the street.  Runs in chunks of sources so memory stays
    bounded on large networks.
    """
    from scipy.sparse.csgraph import dijkstra

    n, s = net.n_nodes, len(src)
    out = np.empty((s, n))
    step = max(1, _CHUNK_CELLS // max(n, 1))
    for lo in range(0, s, step):
        part = Snapped(*(a[lo : lo + step] for a in _fields(src)))
        g = _augmented(net, part)
        d = dijkstra(g, directed=True, indices=n + np.arange(len(part)), limit=limit_m)
        out[lo : lo + len(part)] = d[:, :n]
    return out


def _fields(s: Snapped) -> tuple[NDArray, ...]:
    return (s.edge, s.t, s.distance_m, s.lon, s.lat)


def _local_frame(net: StreetNetwork) -> Any:
    """KD-tree of node positions in the network's metric CRS (built once per network)."""
    tree = net._memo.get("node_tree")
    if tree is None:
        from scipy.spatial import cKDTree

        tree = net._memo["node_tree"] = cKDTree(np.column_stack([net.x, net.y]))
    return tree


def nodes_within(
    net: StreetNetwork, nodes: NDArray[np.intp], limit_m: float
) -> list[NDArray[np.intp]]:
    """For each source node, the nodes within ``limit_m`` metres of street (sorted ids).

    The plain graph question (no snapping), the one ``networkx.ego_graph`` answers; what the
    benchmark compares.  Each search runs on the part of the network within ``limit_m`` of
    its source as the crow flies (plus the projection's 0.1 % scale error): no walk of that
    length leaves that disc, so the answer is exact, and the search touches a few hundred
    nodes instead of initialising arrays over a whole city.
    """
    from scipy.sparse.csgraph import dijkstra

    src = np.asarray(nodes, dtype=np.intp)
    tree = _local_frame(net)
    radius = limit_m * 1.001 + 1.0
    csr = net.csr
    out: list[NDArray[np.intp]] = []
    near = tree.query_ball_point(np.column_stack([net.x[src], net.y[src]]), radius)
    for s, idx in zip(src.tolist(), near, strict=True):
        local = np.asarray(sorted(idx), dtype=np.intp)
        sub = csr[local][:, local]
        d = dijkstra(sub, directed=True, indices=int(np.searchsorted(local, s)), limit=limit_m)
        out.append(local[np.isfinite(d)])
    return out


def point_distances(
    net: StreetNetwork, dist: NDArray[np.float64], src: Snapped, pts: Snapped
) -> NDArray[np.float64]:
    """Metres from each source to each point, (S, P), from :func:`node_distances` rows.

    A point is reached through either end of its segment, or straight along it when the
    source sits on the same segment; the point's own walk from the street is added.
    """
    e = pts.edge
    length = net.edge_len[e]
    du = dist[:, net.edge_u[e]] + pts.t * length
    dv = dist[:, net.edge_v[e]] + (1.0 - pts.t) * length
    d = np.minimum(du, dv)
    same = src.edge[:, None] == e[None, :]
    if same.any():
        direct = src.distance_m[:, None] + np.abs(src.t[:, None] - pts.t[None, :]) * length[None, :]
        d = np.where(same, np.minimum(d, direct), d)
    return d + pts.distance_m[None, :]


def pair_distances(
    net: StreetNetwork,
    dist: NDArray[np.float64],
    src: Snapped,
    row: NDArray[np.intp],
    pts: Snapped,
) -> NDArray[np.float64]:
    """Like :func:`point_distances` but for pairs: source ``row[k]`` to point ``k``."""
    e = pts.edge
    length = net.edge_len[e]
    du = dist[row, net.edge_u[e]] + pts.t * length
    dv = dist[row, net.edge_v[e]] + (1.0 - pts.t) * length
    d = np.minimum(du, dv)
    same = src.edge[row] == e
    if same.any():
        direct = src.distance_m[row] + np.abs(src.t[row] - pts.t) * length
        d = np.where(same, np.minimum(d, direct), d)
    return d + pts.distance_m


def nearest_source(
    net: StreetNetwork, src: Snapped, pts: Snapped
) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    """For each point, the nearest source on the network and the metres to it.

    One multi-source Dijkstra (``min_only``) over the whole network; −1 and ``inf`` for
    points no source reaches (there are none on a connected network) or when there are no
    sources.
    """
    from scipy.sparse.csgraph import dijkstra

    p = len(pts)
    if len(src) == 0:
        return np.full(p, -1, dtype=np.intp), np.full(p, np.inf)
    n = net.n_nodes
    g = _augmented(net, src)
    d, _, sources = dijkstra(
        g, directed=True, indices=n + np.arange(len(src)), min_only=True, return_predecessors=True
    )
    e = pts.edge
    length = net.edge_len[e]
    u, v = net.edge_u[e], net.edge_v[e]
    du = d[u] + pts.t * length
    dv = d[v] + (1.0 - pts.t) * length
    via_v = dv < du
    best = np.where(via_v, dv, du)
    who = np.where(via_v, sources[v], sources[u]).astype(np.intp) - n
    who[~np.isfinite(best)] = -1
    # a source on the point's own segment may be nearer than either end
    on_edge: dict[int, list[int]] = {}
    for k, edge in enumerate(src.edge.tolist()):
        on_edge.setdefault(edge, []).append(k)
    for j in np.flatnonzero(np.isin(e, src.edge)).tolist():
        for k in on_edge[int(e[j])]:
            direct = src.distance_m[k] + abs(src.t[k] - pts.t[j]) * length[j]
            if direct < best[j] or (direct == best[j] and k < who[j]):
                best[j], who[j] = direct, k
    return who, best + pts.distance_m
