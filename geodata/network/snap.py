"""Snap points (stations, demand) onto the nearest street segment.

A point is placed on the closest segment at a fraction ``t`` of its length (0 at ``edge_u``,
1 at ``edge_v``); the walk from the point to the street (``distance_m``, geodesic) counts as
part of the trip.  A station more than :data:`SNAP_WARN_M` from any street is reported: its
position or the network extract is probably wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from geodata.distance import geodesic_m
from geodata.network.graph import StreetNetwork
from geodata.projection import lonlat_to_metric, metric_to_lonlat

__all__ = ["SNAP_WARN_M", "Snapped", "nearest_street", "snap_points"]

SNAP_WARN_M = 300.0
"""A station farther than this from every street gets a warning (a long block is ~300 m)."""


@dataclass(frozen=True)
class Snapped:
    """Where each point meets the network: segment, fraction along it, and distance (m)."""

    edge: NDArray[np.intp]
    t: NDArray[np.float64]
    distance_m: NDArray[np.float64]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.edge.size)

    def far(self, limit_m: float = SNAP_WARN_M) -> NDArray[np.intp]:
        """Indices of points farther than ``limit_m`` from any street."""
        return np.flatnonzero(self.distance_m > limit_m)


def _tree(net: StreetNetwork) -> shapely.STRtree:
    tree = net._memo.get("strtree")
    if tree is None:
        coords = np.empty((net.n_edges * 2, 2))
        coords[0::2, 0], coords[0::2, 1] = net.x[net.edge_u], net.y[net.edge_u]
        coords[1::2, 0], coords[1::2, 1] = net.x[net.edge_v], net.y[net.edge_v]
        lines = shapely.linestrings(coords, indices=np.repeat(np.arange(net.n_edges), 2))
        tree = net._memo["strtree"] = shapely.STRtree(lines)
    return tree


def snap_points(net: StreetNetwork, lon: ArrayLike, lat: ArrayLike) -> Snapped:
    """Snap WGS-84 points to their nearest segment (in the network's metric CRS).

    Ties between equally near segments go to the lower segment index.
    """
    lo = np.atleast_1d(np.asarray(lon, dtype=float))
    la = np.atleast_1d(np.asarray(lat, dtype=float))
    if lo.size == 0:
        z = np.zeros(0)
        return Snapped(np.zeros(0, dtype=np.intp), z, z, z, z)
    px, py = lonlat_to_metric(lo, la, net.crs)
    pts = shapely.points(px, py)
    idx = _tree(net).query_nearest(pts, all_matches=True)
    # keep the lowest segment index per point among ties (deterministic)
    order = np.lexsort((idx[1], idx[0]))
    first = np.r_[True, idx[0][order][1:] != idx[0][order][:-1]]
    edge = np.empty(lo.size, dtype=np.intp)
    edge[idx[0][order][first]] = idx[1][order][first]
    ax, ay = net.x[net.edge_u[edge]], net.y[net.edge_u[edge]]
    bx, by = net.x[net.edge_v[edge]], net.y[net.edge_v[edge]]
    dx, dy = bx - ax, by - ay
    den = dx * dx + dy * dy
    t = np.clip(((px - ax) * dx + (py - ay) * dy) / np.where(den > 0, den, 1.0), 0.0, 1.0)
    sx, sy = ax + t * dx, ay + t * dy
    slon, slat = metric_to_lonlat(sx, sy, net.crs)
    dist = np.asarray(geodesic_m(lo, la, slon, slat), dtype=float)
    return Snapped(edge, t, dist, np.asarray(slon, float), np.asarray(slat, float))


def nearest_street(
    net: StreetNetwork, lon: ArrayLike, lat: ArrayLike
) -> tuple[list[str | None], NDArray[np.float64]]:
    """The nearest *named* street of each point and the geodesic metres to it.

    Why named only: "the gap by 科创十三街" tells staff where to go; an unnamed service road
    does not.  ``None`` and ``inf`` when the network has no named street.
    """
    lo = np.atleast_1d(np.asarray(lon, dtype=float))
    la = np.atleast_1d(np.asarray(lat, dtype=float))
    named = np.flatnonzero(net.edge_name >= 0)
    if named.size == 0 or lo.size == 0:
        return [None] * lo.size, np.full(lo.size, np.inf)
    tree = net._memo.get("named_tree")
    if tree is None:
        coords = np.empty((named.size * 2, 2))
        coords[0::2, 0], coords[0::2, 1] = net.x[net.edge_u[named]], net.y[net.edge_u[named]]
        coords[1::2, 0], coords[1::2, 1] = net.x[net.edge_v[named]], net.y[net.edge_v[named]]
        lines = shapely.linestrings(coords, indices=np.repeat(np.arange(named.size), 2))
        tree = net._memo["named_tree"] = shapely.STRtree(lines)
    px, py = lonlat_to_metric(lo, la, net.crs)
    idx = tree.query_nearest(shapely.points(px, py), all_matches=False)
    edge = np.empty(lo.size, dtype=np.intp)
    edge[idx[0]] = named[idx[1]]
    line = tree.geometries[idx[1]]
    pts = shapely.points(px[idx[0]], py[idx[0]])
    near = shapely.line_interpolate_point(line, shapely.line_locate_point(line, pts))
    nlon, nlat = metric_to_lonlat(shapely.get_x(near), shapely.get_y(near), net.crs)
    dist = np.empty(lo.size)
    dist[idx[0]] = np.asarray(geodesic_m(lo[idx[0]], la[idx[0]], nlon, nlat), dtype=float)
    return [net.street_name(int(e)) for e in edge], dist
