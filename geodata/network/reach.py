"""Reach on the street network: the :class:`~geodata.reach.Reach` model for real streets.

A point reaches a site when the walk (or ride) from it to the street, along the streets,
and from the street to the site is at most ``budget_m`` metres — minutes × speed.  With
``cap_m`` the point must also lie within that straight-line geodesic distance: the "双15"
rule (1 km AND a 15-minute walk).

The reached area drawn on maps (an *isochrone*) is every street piece within the budget,
widened by :data:`FRONTAGE_M` on each side — the buildings along a street are where people
are — and cut to the ``cap_m`` circle.  Coverage figures never use the drawing: they route
each demand point itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS
from shapely.geometry import GeometryCollection
from shapely.geometry.base import BaseGeometry

from geodata.distance import geodesic_m
from geodata.errors import GeodataError
from geodata.network.graph import MODES, StreetNetwork
from geodata.network.routing import nearest_source, node_distances, pair_distances
from geodata.network.snap import Snapped, snap_points
from geodata.projection import lonlat_to_metric, reproject
from geodata.reach import SPEEDS_KMH, Degrees, Mask, ReachModel, minutes_to_metres

__all__ = ["FRONTAGE_M", "NetworkReach", "network_reach"]

FRONTAGE_M = 50.0
"""Half-width of the drawn reach along a street: about one building's depth."""


@dataclass(frozen=True, eq=False)
class NetworkReach(ReachModel):
    """Reach = street distance (snap legs included) ≤ ``budget_m``, optionally ≤ ``cap_m`` as
    the crow flies.
    """

    network: StreetNetwork
    budget_m: float
    cap_m: float | None = None
    minutes: float | None = None
    speed_kmh: float | None = None
    _snaps: dict[bytes, Snapped] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        b = float(self.budget_m)
        if not np.isfinite(b) or b <= 0:
            raise GeodataError.from_catalog(
                "minutes", "the reach must be > 0 m, got {given}", given=repr(self.budget_m)
            )
        object.__setattr__(self, "budget_m", b)

    @property
    def radius_m(self) -> float:
        """The nominal reach: metres of street."""
        return self.budget_m

    @property
    def search_radius_m(self) -> float:
        """No trip along streets is shorter than the straight line, so this bounds candidates."""
        return min(self.budget_m, self.cap_m) if self.cap_m else self.budget_m

    def describe(self) -> dict[str, Any]:
        """Which reach this is, for outputs (JSON-ready)."""
        return {
            "kind": "network",
            "mode": self.network.mode,
            "mode_zh": MODES[self.network.mode]["label_zh"],
            "budget_m": self.budget_m,
            "minutes": self.minutes,
            "speed_kmh": self.speed_kmh,
            "cap_m": self.cap_m,
            "network": self.network.describe(),
        }

    def snap(self, lon: ArrayLike, lat: ArrayLike) -> Snapped:
        """Snap points to the network (cached for the same coordinates)."""
        lo = np.ascontiguousarray(np.atleast_1d(np.asarray(lon, dtype=float)))
        la = np.ascontiguousarray(np.atleast_1d(np.asarray(lat, dtype=float)))
        key = lo.tobytes() + b"|" + la.tobytes()
        hit = self._snaps.get(key)
        if hit is None:
            if len(self._snaps) > 8:
                self._snaps.clear()
            hit = self._snaps[key] = snap_points(self.network, lo, la)
        return hit

    def pair_distances_m(
        self, site_lon: Degrees, site_lat: Degrees, point_lon: Degrees, point_lat: Degrees
    ) -> NDArray[np.float64]:
        """Street metres for each (site k, point k) pair; ``inf`` beyond the budget."""
        slon = np.asarray(site_lon, dtype=float)
        slat = np.asarray(site_lat, dtype=float)
        if slon.size == 0:
            return np.zeros(0)
        key = np.column_stack([slon, slat])
        uniq, row = np.unique(key, axis=0, return_inverse=True)
        src = self.snap(uniq[:, 0], uniq[:, 1])
        pts = snap_points(self.network, point_lon, point_lat)
        dist = node_distances(self.network, src, self.budget_m)
        return pair_distances(self.network, dist, src, row.ravel().astype(np.intp), pts)

    def _reachable(
        self, site_lon: Degrees, site_lat: Degrees, point_lon: Degrees, point_lat: Degrees
    ) -> Mask:
        """Element-wise: street distance ≤ budget (and geodesic ≤ cap when set)."""
        ok = self.pair_distances_m(site_lon, site_lat, point_lon, point_lat) <= self.budget_m
        if self.cap_m:
            ok &= np.asarray(geodesic_m(site_lon, site_lat, point_lon, point_lat)) <= self.cap_m
        return ok

    def nearest(
        self,
        site_lon: ArrayLike,
        site_lat: ArrayLike,
        point_lon: ArrayLike,
        point_lat: ArrayLike,
    ) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
        """Nearest site by street and the street metres to it, for every point."""
        src = self.snap(site_lon, site_lat)
        pts = snap_points(self.network, point_lon, point_lat)
        return nearest_source(self.network, src, pts)

    def pieces(self, site_lon: ArrayLike, site_lat: ArrayLike) -> list[NDArray[np.float64]]:
        """Per site, the reached street pieces as an (k, 4) array of x0, y0, x1, y1 (metric)."""
        net = self.network
        src = self.snap(site_lon, site_lat)
        if len(src) == 0:
            return []
        dist = node_distances(net, src, self.budget_m)
        b = self.budget_m
        out = []
        for s in range(len(src)):
            d = dist[s]
            ru = b - d[net.edge_u]
            rv = b - d[net.edge_v]
            length = net.edge_len
            f0 = np.zeros(net.n_edges)
            f1 = np.zeros(net.n_edges)
            from_u = np.clip(np.where(np.isfinite(ru), ru, -1) / length, -1, 1)
            from_v = np.clip(np.where(np.isfinite(rv), rv, -1) / length, -1, 1)
            whole = from_u + from_v >= 1
            has_u = from_u > 0
            has_v = from_v > 0
            # pieces from each end; a whole segment when they meet
            segs = []
            idx_w = np.flatnonzero(whole & (has_u | has_v))
            segs.append((idx_w, np.zeros(idx_w.size), np.ones(idx_w.size)))
            idx_u = np.flatnonzero(has_u & ~whole)
            segs.append((idx_u, np.zeros(idx_u.size), from_u[idx_u]))
            idx_v = np.flatnonzero(has_v & ~whole)
            segs.append((idx_v, 1 - from_v[idx_v], np.ones(idx_v.size)))
            # the site's own segment, reached directly from where the site meets it
            e = int(src.edge[s])
            left = (b - src.distance_m[s]) / length[e]
            if left > 0:
                t = float(src.t[s])
                segs.append(
                    (np.array([e]), np.array([max(0.0, t - left)]), np.array([min(1.0, t + left)]))
                )
            del f0, f1
            ei = np.concatenate([p[0] for p in segs]).astype(np.intp)
            a0 = np.concatenate([p[1] for p in segs])
            a1 = np.concatenate([p[2] for p in segs])
            ux, uy = net.x[net.edge_u[ei]], net.y[net.edge_u[ei]]
            vx, vy = net.x[net.edge_v[ei]], net.y[net.edge_v[ei]]
            out.append(
                np.column_stack(
                    [
                        ux + a0 * (vx - ux),
                        uy + a0 * (vy - uy),
                        ux + a1 * (vx - ux),
                        uy + a1 * (vy - uy),
                    ]
                )
            )
        return out

    def isochrones(
        self, site_lon: ArrayLike, site_lat: ArrayLike, frontage_m: float = FRONTAGE_M
    ) -> list[BaseGeometry]:
        """Per site, the reached area in the network's metric CRS (see the module docstring)."""
        lo = np.atleast_1d(np.asarray(site_lon, dtype=float))
        la = np.atleast_1d(np.asarray(site_lat, dtype=float))
        polys: list[BaseGeometry] = []
        sx, sy = lonlat_to_metric(lo, la, self.network.crs)
        for k, seg in enumerate(self.pieces(lo, la)):
            if seg.shape[0] == 0:
                polys.append(GeometryCollection())
                continue
            coords = seg.reshape(-1, 2)
            lines = shapely.multilinestrings(
                shapely.linestrings(coords, indices=np.repeat(np.arange(seg.shape[0]), 2))
            )
            poly = shapely.buffer(lines, frontage_m, quad_segs=4)
            if self.cap_m:
                poly = shapely.intersection(
                    poly, shapely.buffer(shapely.Point(sx[k], sy[k]), self.cap_m, quad_segs=16)
                )
            polys.append(poly)
        return polys

    def reach_region(
        self, site_lon: Degrees, site_lat: Degrees, clip: BaseGeometry, crs: CRS
    ) -> BaseGeometry:
        """The union of the sites' isochrones ∩ ``clip`` (both in the metric ``crs``)."""
        if clip.is_empty or len(site_lon) == 0:
            return GeometryCollection()
        polys = [p for p in self.isochrones(site_lon, site_lat) if not p.is_empty]
        if not polys:
            return GeometryCollection()
        region = shapely.union_all(polys)
        own = CRS.from_user_input(crs)
        if own != self.network.crs:
            region = reproject(region, self.network.crs, own)
        return shapely.intersection(region, clip)


def network_reach(
    network: StreetNetwork,
    minutes: float,
    speed_kmh: float | None = None,
    cap_m: float | None = None,
) -> NetworkReach:
    """Reach within ``minutes`` on ``network`` at ``speed_kmh`` (default: the mode's preset).

    Raises
    ------
    GeodataError
        Minutes or speed not positive.
    """
    kmh = SPEEDS_KMH[network.mode] if speed_kmh is None else float(speed_kmh)
    return NetworkReach(
        network,
        minutes_to_metres(minutes, kmh),
        cap_m=cap_m,
        minutes=float(minutes),
        speed_kmh=kmh,
    )
