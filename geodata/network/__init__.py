"""Street-network reach: read OSM streets, snap points to them, route bounded walks.

Straight-line reach (``geodata.reach``) stays the default; a :class:`NetworkReach` built on
an OpenStreetMap file plugs into the same coverage, gap and planning code.
"""

from geodata.network.graph import MODES, StreetNetwork, build_network, check_mode, mode_allows
from geodata.network.osm import OsmStreets, load_network, read_osm, write_osm
from geodata.network.reach import FRONTAGE_M, NetworkReach, network_reach
from geodata.network.routing import (
    nearest_source,
    node_distances,
    nodes_within,
    pair_distances,
    point_distances,
)
from geodata.network.snap import SNAP_WARN_M, Snapped, nearest_street, snap_points

__all__ = [
    "FRONTAGE_M",
    "MODES",
    "SNAP_WARN_M",
    "NetworkReach",
    "OsmStreets",
    "Snapped",
    "StreetNetwork",
    "build_network",
    "check_mode",
    "load_network",
    "mode_allows",
    "nearest_source",
    "nearest_street",
    "network_reach",
    "node_distances",
    "nodes_within",
    "pair_distances",
    "point_distances",
    "read_osm",
    "snap_points",
    "write_osm",
]
