"""A street network as arrays: nodes, straight segments between them, and a sparse graph.

Why arrays and a CSR matrix instead of a graph object per node: the reach questions the
service asks ("which streets are within 15 minutes' walk of each of 98 stations") are
bounded shortest-path searches, which ``scipy.sparse.csgraph.dijkstra`` runs in C on a CSR
matrix with a distance ``limit`` — no Python object per node, and one network of a million
nodes fits in tens of megabytes.

Every OSM way is cut into its straight segments (one edge per consecutive node pair), so an
edge's geometry is the line between its two nodes and a point can be placed on it by a
fraction.  Lengths are geodesic metres on the WGS-84 ellipsoid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray
from pyproj import CRS

from geodata.distance import geodesic_m
from geodata.errors import GeodataError
from geodata.projection import lonlat_to_metric, utm_crs_for

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

__all__ = ["MODES", "StreetNetwork", "build_network", "mode_allows"]

_NEVER = frozenset(
    {
        "motorway",
        "motorway_link",
        "construction",
        "proposed",
        "abandoned",
        "platform",
        "raceway",
        "bus_guideway",
        "escape",
        "razed",
        "planned",
        "bridleway",
    }
)

MODES: dict[str, dict[str, Any]] = {
    # Walking: every street and path a person may use.  Trunk roads are left out: in Chinese
    # cities OSM ``trunk`` is the 快速路 (urban expressway), closed to pedestrians, unless the
    # way says ``foot=yes``.  Cycleways are left out as osmnx's walk network does.
    "walk": {
        "exclude": _NEVER | {"trunk", "trunk_link", "cycleway"},
        "access_key": "foot",
        "label_zh": "步行",
    },
    # E-bikes (电动自行车) follow the rules for non-motor vehicles: no expressways, no steps,
    # no footways or pedestrian streets unless ``bicycle=yes``.
    "ebike": {
        "exclude": _NEVER
        | {"trunk", "trunk_link", "steps", "footway", "pedestrian", "corridor", "elevator"},
        "access_key": "bicycle",
        "label_zh": "电动自行车",
    },
}
"""Travel modes: which ``highway`` values a mode may not use, and its own access tag."""


def mode_allows(mode: str, tags: dict[str, str]) -> bool:
    """Whether a way with these OSM tags may be used by ``mode`` (``walk`` or ``ebike``)."""
    rule = MODES[mode]
    hw = tags.get("highway")
    if not hw or hw in ("area",) or tags.get("area") == "yes":
        return False
    own = tags.get(rule["access_key"])
    if own in ("yes", "designated", "permissive"):
        return True
    if own == "no" or tags.get("access") in ("no", "private"):
        return False
    return hw not in rule["exclude"]


def check_mode(mode: str) -> str:
    """Validate a mode name (``walk`` | ``ebike``)."""
    key = str(mode).strip().lower().replace("-", "")
    if key not in MODES:
        raise GeodataError.from_catalog(
            "mode", "unknown travel mode {mode}: use walk or ebike", mode=repr(mode)
        )
    return key


@dataclass(frozen=True)
class StreetNetwork:
    """The streets one travel mode may use, as nodes and straight segments.

    Attributes
    ----------
    mode
        ``walk`` or ``ebike``.
    lon, lat, x, y
        Node positions: WGS-84 degrees and metres in ``crs`` (the UTM zone of the centre).
    edge_u, edge_v, edge_len
        Each segment's end nodes and geodesic length in metres (undirected).
    edge_name
        Index into ``names`` of the street's name, −1 when it has none.
    source
        Where it came from (a file name), repeated in every output that used it.
    dropped_nodes
        Nodes left out because they were not connected to the main network.
    osm_id
        The OpenStreetMap id of each node, when read from a file.
    """

    mode: str
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    crs: CRS
    edge_u: NDArray[np.intp]
    edge_v: NDArray[np.intp]
    edge_len: NDArray[np.float64]
    edge_name: NDArray[np.intp]
    names: tuple[str, ...]
    source: str = ""
    dropped_nodes: int = 0
    osm_id: NDArray[np.int64] | None = None
    _memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def n_nodes(self) -> int:
        """Number of nodes (street junctions and ends)."""
        return int(self.lon.size)

    @property
    def n_edges(self) -> int:
        """Number of directed edges."""
        return int(self.edge_u.size)

    @cached_property
    def csr(self) -> csr_matrix:
        """Symmetric CSR adjacency (both directions stored), weights = segment length (m)."""
        from scipy.sparse import csr_matrix

        n = self.n_nodes
        rows = np.concatenate([self.edge_u, self.edge_v])
        cols = np.concatenate([self.edge_v, self.edge_u])
        w = np.concatenate([self.edge_len, self.edge_len])
        # parallel segments: keep the shortest (a COO→CSR conversion would add them up)
        order = np.lexsort((w, cols, rows))
        rows, cols, w = rows[order], cols[order], w[order]
        first = np.r_[True, (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])]
        return csr_matrix((w[first], (rows[first], cols[first])), shape=(n, n))

    def street_name(self, edge: int) -> str:
        """The name of a segment's street, '' when it has none."""
        k = int(self.edge_name[edge])
        return self.names[k] if k >= 0 else ""

    def describe(self) -> dict[str, Any]:
        """What the network is, for outputs that must say which reach they used."""
        return {
            "source": self.source,
            "mode": self.mode,
            "nodes": self.n_nodes,
            "segments": self.n_edges,
            "length_km": round(float(self.edge_len.sum()) / 1000.0, 3),
            "dropped_nodes": self.dropped_nodes,
        }


def build_network(
    node_lon: NDArray[np.float64],
    node_lat: NDArray[np.float64],
    seg_a: NDArray[np.intp],
    seg_b: NDArray[np.intp],
    seg_name: NDArray[np.intp],
    names: tuple[str, ...],
    *,
    mode: str,
    source: str = "",
    keep_largest: bool = True,
    node_ids: NDArray[np.int64] | None = None,
) -> StreetNetwork:
    """Assemble a :class:`StreetNetwork` from node positions and segments between them.

    Segments of zero length (repeated nodes) are dropped.  With ``keep_largest`` only the
    largest connected part is kept — an isolated car park or a footpath with no link to the
    streets would otherwise catch snapped stations that nobody can walk to.

    Raises
    ------
    GeodataError
        No usable segment (field ``network``).
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    mode = check_mode(mode)
    lon = np.asarray(node_lon, dtype=float)
    lat = np.asarray(node_lat, dtype=float)
    a = np.asarray(seg_a, dtype=np.intp)
    b = np.asarray(seg_b, dtype=np.intp)
    nm = np.asarray(seg_name, dtype=np.intp)
    keep = a != b
    a, b, nm = a[keep], b[keep], nm[keep]
    if a.size == 0:
        if not source:
            raise GeodataError.from_catalog(
                "network", "the network has no street the {mode} mode may use", mode=mode
            )
        raise GeodataError.from_catalog(
            "network", "{file}: no street the {mode} mode may use", file=source, mode=mode
        )
    length = np.asarray(geodesic_m(lon[a], lat[a], lon[b], lat[b]), dtype=float)
    ok = length > 0
    a, b, nm, length = a[ok], b[ok], nm[ok], length[ok]
    used = np.zeros(lon.size, dtype=bool)
    used[a] = used[b] = True
    dropped = 0
    if keep_largest and a.size:
        g = coo_matrix((np.ones(a.size), (a, b)), shape=(lon.size, lon.size))
        _, label = connected_components(g, directed=False)
        counts = np.bincount(label[used], minlength=int(label.max()) + 1)
        main = int(np.argmax(counts))
        in_main = label == main
        dropped = int(used.sum() - in_main[used].sum())
        used &= in_main
        seg_ok = in_main[a]
        a, b, nm, length = a[seg_ok], b[seg_ok], nm[seg_ok], length[seg_ok]
    new_id = np.full(lon.size, -1, dtype=np.intp)
    new_id[used] = np.arange(int(used.sum()))
    lon, lat = lon[used], lat[used]
    centre_lon = float((lon.min() + lon.max()) / 2)
    centre_lat = float((lat.min() + lat.max()) / 2)
    crs = utm_crs_for(centre_lon, centre_lat)
    x, y = lonlat_to_metric(lon, lat, crs)
    return StreetNetwork(
        mode=mode,
        lon=lon,
        lat=lat,
        x=np.asarray(x, dtype=float),
        y=np.asarray(y, dtype=float),
        crs=crs,
        edge_u=new_id[a],
        edge_v=new_id[b],
        edge_len=length,
        edge_name=nm,
        names=tuple(names),
        source=source,
        dropped_nodes=dropped,
        osm_id=None if node_ids is None else np.asarray(node_ids, dtype=np.int64)[used],
    )
