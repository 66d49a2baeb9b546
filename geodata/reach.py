"""Reach models: who can get to a site, and which part of an area the sites serve.

Coverage, gaps and planning never measure "reach" themselves; they ask a :class:`Reach`
object.  The default is :func:`straight_line` — the geodesic (WGS-84 ellipsoid) distance
within a radius.  :func:`planar` measures straight lines in a projected CRS instead, which is
what desktop GIS buffers and PySAL spopt do (the benchmark uses it to compare like with like).

How a road-network model plugs in
---------------------------------
Write a class with the members of :class:`Reach`:

* ``radius_m`` — the nominal reach in metres, as reported to the user.
* ``search_radius_m`` — the longest *straight-line geodesic* distance anyone can cover (for
  a 15-minute e-bike model, 15 min × 15 km/h = 3,750 m).  Network distance is never shorter
  than the straight line, so every reachable pair lies within it; the engine uses it to find
  candidate pairs quickly with a KD-tree and never builds a dense distance matrix.
* ``reachable(site_lon, site_lat, point_lon, point_lat)`` — for candidate pairs given as
  equal-length arrays, whether the point can reach the site (e.g. network travel time from a
  routing engine's one-to-many table ≤ the limit).
* ``reach_region(site_lon, site_lat, clip, crs)`` — the part of ``clip`` (a polygon in the
  metric ``crs``) reachable from any site: the union of the isochrone polygons, clipped;
  ``covered_area_m2(...)`` — its area (``reach_region(...).area`` will do).

Subclassing :class:`ReachModel` gives the empty-input guard of ``reachable`` and the
default ``covered_area_m2``; the shipped models (:class:`StraightLine`, :class:`Planar`,
``geodata.network.NetworkReach``) do so. Everything else (nearest distances, catchments,
gaps, the integer programme) works unchanged.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS
from shapely.geometry import GeometryCollection, box
from shapely.geometry.base import BaseGeometry

from geodata.distance import geodesic_m
from geodata.errors import GeodataError
from geodata.projection import (
    lonlat_to_metric,
    metric_to_lonlat,
    reproject,
    scale_factor,
    to_ecef,
)

if TYPE_CHECKING:  # scipy.spatial costs ~30 MB per API worker: imported where used
    from scipy.spatial import cKDTree

__all__ = [
    "SPEEDS_KMH",
    "Degrees",
    "Mask",
    "Planar",
    "Reach",
    "ReachModel",
    "StraightLine",
    "as_reach",
    "minutes_to_metres",
    "planar",
    "reachable_pairs",
    "straight_line",
]

SPEEDS_KMH: dict[str, float] = {"walk": 4.5, "ebike": 15.0}
"""Travel-speed presets in km/h: walking and a delivery e-bike in city traffic."""

Degrees = NDArray[np.float64]
"""WGS-84 longitudes or latitudes, one per site or point."""
Mask = NDArray[np.bool_]
"""One yes/no per (site, point) pair."""

# Circle polygons: 64 vertices, radius enlarged so the polygon's area equals the circle's.
_QUAD_SEGS = 16
_N_SIDES = 4 * _QUAD_SEGS
_AREA_EQUAL = math.sqrt(2 * math.pi / (_N_SIDES * math.sin(2 * math.pi / _N_SIDES)))


@runtime_checkable
class Reach(Protocol):
    """How far people travel to a site; see the module docstring for writing one."""

    @property
    def radius_m(self) -> float:
        """The nominal reach in metres (what the user asked for)."""
        ...

    @property
    def search_radius_m(self) -> float:
        """Upper bound of the straight-line geodesic distance of any reachable pair (metres)."""
        ...

    def reachable(
        self, site_lon: Degrees, site_lat: Degrees, point_lon: Degrees, point_lat: Degrees
    ) -> Mask:
        """Element-wise: can point ``i`` reach site ``i``? (pairs already within search_radius_m)."""
        ...

    def reach_region(
        self, site_lon: Degrees, site_lat: Degrees, clip: BaseGeometry, crs: CRS
    ) -> BaseGeometry:
        """The part of ``clip`` (metric ``crs``) reachable from any site, in ``crs``."""
        ...

    def covered_area_m2(
        self, site_lon: Degrees, site_lat: Degrees, clip: BaseGeometry, crs: CRS
    ) -> float:
        """Area (m², in ``crs``) of the part of ``clip`` reachable from any site."""
        ...


class ReachModel(ABC):
    """What the shipped reach models share; a new model may subclass it or write every member
    of :class:`Reach` itself.

    A subclass gives ``radius_m``, ``search_radius_m``, :meth:`_reachable` and
    :meth:`reach_region`; :meth:`covered_area_m2` defaults to the region's area, which a
    model with an exact formula (circles) overrides.
    """

    def reachable(
        self, site_lon: Degrees, site_lat: Degrees, point_lon: Degrees, point_lat: Degrees
    ) -> Mask:
        """As :meth:`Reach.reachable`; no pairs give an empty mask without asking the model."""
        if len(site_lon) == 0:
            return np.zeros(0, dtype=bool)
        return self._reachable(site_lon, site_lat, point_lon, point_lat)

    @abstractmethod
    def _reachable(
        self, site_lon: Degrees, site_lat: Degrees, point_lon: Degrees, point_lat: Degrees
    ) -> Mask:
        """:meth:`reachable` for at least one pair."""

    @abstractmethod
    def reach_region(
        self, site_lon: Degrees, site_lat: Degrees, clip: BaseGeometry, crs: CRS
    ) -> BaseGeometry:
        """The part of ``clip`` (metric ``crs``) reachable from any site, in ``crs``."""

    def covered_area_m2(
        self, site_lon: Degrees, site_lat: Degrees, clip: BaseGeometry, crs: CRS
    ) -> float:
        """Area (m², in ``crs``) of :meth:`reach_region`."""
        return float(self.reach_region(site_lon, site_lat, clip, crs).area)


def _check_radius(radius_m: float) -> float:
    try:
        r = float(radius_m)
    except (TypeError, ValueError):
        raise GeodataError.from_catalog(
            "radius_m", "radius_m must be a number, got {given}", given=repr(radius_m)
        ) from None
    if not math.isfinite(r) or r <= 0:
        raise GeodataError.from_catalog(
            "radius_m",
            "radius_m must be a positive number of metres, got {given}",
            given=repr(radius_m),
        )
    return r


def minutes_to_metres(minutes: float, speed: str | float = "walk") -> float:
    """Convert a travel time to a straight-line reach in metres.

    Why: planners speak of a "15-minute service circle" (15分钟服务圈); the analysis needs metres.

    Parameters
    ----------
    minutes
        Travel time, > 0.
    speed
        A preset name from :data:`SPEEDS_KMH` (``"walk"`` 4.5 km/h, ``"ebike"`` 15 km/h) or a
        speed in km/h.

    Raises
    ------
    GeodataError
        Non-positive minutes (field ``minutes``), an unknown preset or non-positive speed
        (field ``speed``).
    """
    try:
        m = float(minutes)
    except (TypeError, ValueError):
        raise GeodataError.from_catalog(
            "minutes", "minutes must be a number, got {given}", given=repr(minutes)
        ) from None
    if not math.isfinite(m) or m <= 0:
        raise GeodataError.from_catalog(
            "minutes", "minutes must be positive, got {given}", given=repr(minutes)
        )
    if isinstance(speed, str):
        key = speed.strip().lower().replace("-", "")
        if key in SPEEDS_KMH:
            kmh = SPEEDS_KMH[key]
        else:
            try:
                kmh = float(key)
            except ValueError:
                raise GeodataError.from_catalog(
                    "speed",
                    "unknown speed {speed}: use one of {presets} or a number of km/h",
                    speed=repr(speed),
                    presets=sorted(SPEEDS_KMH),
                ) from None
    else:
        kmh = float(speed)
    if not math.isfinite(kmh) or kmh <= 0:
        raise GeodataError.from_catalog(
            "speed", "speed must be a positive number of km/h, got {given}", given=repr(speed)
        )
    return m / 60.0 * kmh * 1000.0


def _voronoi_pieces(
    x: NDArray[np.float64], y: NDArray[np.float64], r: float, clip: BaseGeometry
) -> tuple[NDArray[np.float64], NDArray[np.object_]]:
    """Each relevant centre with its Voronoi cell ∩ clip.

    Why: a point lies in the union of equal disks exactly when it lies within r of its nearest
    centre, i.e. in its own Voronoi cell's disk.  The pieces are disjoint, so the covered
    area is a sum, without the costly union of thousands of overlapping circles.
    """
    if clip.is_empty or x.size == 0:
        return np.zeros((0, 2)), np.empty(0, dtype=object)
    minx, miny, maxx, maxy = clip.bounds
    keep = (x >= minx - r) & (x <= maxx + r) & (y >= miny - r) & (y <= maxy + r)
    xy = np.unique(np.round(np.column_stack([x[keep], y[keep]]), 3), axis=0)
    if xy.shape[0] == 0:
        return xy, np.empty(0, dtype=object)
    if xy.shape[0] == 1:
        cells = np.array([box(xy[0, 0] - r, xy[0, 1] - r, xy[0, 0] + r, xy[0, 1] + r)])
    else:
        frame = box(
            min(minx, xy[:, 0].min()) - 2 * r,
            min(miny, xy[:, 1].min()) - 2 * r,
            max(maxx, xy[:, 0].max()) + 2 * r,
            max(maxy, xy[:, 1].max()) + 2 * r,
        )
        cells = shapely.get_parts(
            shapely.voronoi_polygons(shapely.multipoints(xy), extend_to=frame, ordered=True)
        )
    shapely.prepare(clip)
    inside = shapely.contains(clip, cells)
    cells[~inside] = shapely.intersection(cells[~inside], clip)
    keep2 = ~shapely.is_empty(cells)
    return xy[keep2], cells[keep2]


def _disk_polygon_area(centre: NDArray[np.float64], pieces: NDArray[np.object_], r: float) -> float:
    """Σ area(piece_i ∩ disk(centre_i, r)), exact for true circles (no polygonised disk).

    Each oriented ring edge (a, b) contributes the signed area of disk ∩ triangle(centre, a, b):
    circular sectors outside the circle, the straight triangle inside it.
    """
    if pieces.size == 0:
        return 0.0
    parts, part_owner = shapely.get_parts(pieces, return_index=True)  # multipolygons → parts
    is_poly = shapely.get_type_id(parts) == 3
    parts, part_owner = parts[is_poly], part_owner[is_poly]
    oriented = shapely.orient_polygons(parts)  # shells counter-clockwise, holes clockwise
    rings, ring_part = shapely.get_rings(oriented, return_index=True)
    owner = part_owner[ring_part]
    xy, ring_idx = shapely.get_coordinates(rings, return_index=True)
    same = ring_idx[1:] == ring_idx[:-1]  # consecutive coordinates of one ring form an edge
    c = centre[owner[ring_idx[:-1][same]]]
    ax, ay = xy[:-1][same, 0] - c[:, 0], xy[:-1][same, 1] - c[:, 1]
    bx, by = xy[1:][same, 0] - c[:, 0], xy[1:][same, 1] - c[:, 1]
    dx, dy = bx - ax, by - ay
    qa = dx * dx + dy * dy
    qb = ax * dx + ay * dy
    qc = ax * ax + ay * ay - r * r
    disc = qb * qb - qa * qc
    ok = (disc > 0) & (qa > 0)
    sq = np.sqrt(np.where(ok, disc, 0.0))
    safe_a = np.where(qa > 0, qa, 1.0)
    s1 = np.where(ok, np.clip((-qb - sq) / safe_a, 0.0, 1.0), 0.0)
    s2 = np.where(ok, np.clip((-qb + sq) / safe_a, 0.0, 1.0), 0.0)
    px, py = ax + s1 * dx, ay + s1 * dy
    qx, qy = ax + s2 * dx, ay + s2 * dy

    def angle(
        ux: NDArray[np.float64],
        uy: NDArray[np.float64],
        vx: NDArray[np.float64],
        vy: NDArray[np.float64],
    ) -> NDArray[np.float64]:
        return np.arctan2(ux * vy - uy * vx, ux * vx + uy * vy)

    area = 0.5 * r * r * (angle(ax, ay, px, py) + angle(qx, qy, bx, by)) + 0.5 * (px * qy - py * qx)
    return float(area.sum())


def _disk_union_area(
    x: NDArray[np.float64], y: NDArray[np.float64], r: float, clip: BaseGeometry
) -> float:
    """Area of (union of disks of radius r at x/y) ∩ clip, exactly (planar)."""
    xy, pieces = _voronoi_pieces(x, y, r, clip)
    return _disk_polygon_area(xy, pieces, r)


def _disk_union_pieces(
    x: NDArray[np.float64], y: NDArray[np.float64], r: float, clip: BaseGeometry
) -> BaseGeometry:
    """(Union of disks) ∩ clip as disjoint polygon pieces (64-gon disks of the circle's area)."""
    xy, pieces = _voronoi_pieces(x, y, r, clip)
    if pieces.size == 0:
        return GeometryCollection()
    disks = shapely.buffer(shapely.points(xy), r * _AREA_EQUAL, quad_segs=_QUAD_SEGS)
    out = shapely.intersection(pieces, disks)
    return GeometryCollection(list(out[~shapely.is_empty(out)]))


@dataclass(frozen=True)
class StraightLine(ReachModel):
    """Reach = geodesic distance on the WGS-84 ellipsoid ≤ ``radius_m`` (the default model)."""

    radius_m: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "radius_m", _check_radius(self.radius_m))

    @property
    def search_radius_m(self) -> float:
        """Same as radius_m: the model is the geodesic straight line."""
        return self.radius_m

    def _reachable(
        self, site_lon: Degrees, site_lat: Degrees, point_lon: Degrees, point_lat: Degrees
    ) -> Mask:
        """Geodesic distance of each pair ≤ radius_m."""
        return np.asarray(geodesic_m(site_lon, site_lat, point_lon, point_lat)) <= self.radius_m

    def reach_region(
        self, site_lon: Degrees, site_lat: Degrees, clip: BaseGeometry, crs: CRS
    ) -> BaseGeometry:
        """Disjoint pieces of ``clip`` within radius_m of a site (a GeometryCollection in ``crs``).

        The projected buffer radius is ``radius_m`` times the projection's scale factor at the
        clip's centre, so the drawn circle is the geodesic circle (UTM's scale varies by less
        than 0.1 % across a zone).  Use ``shapely.union_all`` on it for a single outline.
        """
        if clip.is_empty:
            return GeometryCollection()
        x, y = lonlat_to_metric(site_lon, site_lat, crs)
        return _disk_union_pieces(x, y, self._projected_radius(clip, crs), clip)

    def covered_area_m2(
        self, site_lon: Degrees, site_lat: Degrees, clip: BaseGeometry, crs: CRS
    ) -> float:
        """Exact area of (geodesic circles ∪) ∩ clip in ``crs`` (true circles, not polygons)."""
        if clip.is_empty:
            return 0.0
        x, y = lonlat_to_metric(site_lon, site_lat, crs)
        return _disk_union_area(x, y, self._projected_radius(clip, crs), clip)

    def _projected_radius(self, clip: BaseGeometry, crs: CRS) -> float:
        c = clip.centroid
        clon, clat = metric_to_lonlat([c.x], [c.y], crs)
        return self.radius_m * scale_factor(crs, float(clon[0]), float(clat[0]))


@dataclass(frozen=True)
class Planar(ReachModel):
    """Reach = Euclidean distance in the projected ``crs`` ≤ ``radius_m``.

    Why it exists: desktop GIS buffers and PySAL spopt measure straight lines in the plane of
    a projected CRS; with this model the planner solves exactly their instance.  Valid where
    the projection's scale error is below 2 % (UTM within its zone: < 0.1 %).
    """

    radius_m: float
    crs: CRS

    def __post_init__(self) -> None:
        object.__setattr__(self, "radius_m", _check_radius(self.radius_m))
        object.__setattr__(self, "crs", CRS.from_user_input(self.crs))

    @property
    def search_radius_m(self) -> float:
        """Geodesic upper bound: planar distance ≤ d implies geodesic ≤ d / (1 − 2 %)."""
        return self.radius_m / 0.98

    def _reachable(
        self, site_lon: Degrees, site_lat: Degrees, point_lon: Degrees, point_lat: Degrees
    ) -> Mask:
        """Projected Euclidean distance of each pair ≤ radius_m."""
        sx, sy = lonlat_to_metric(site_lon, site_lat, self.crs)
        px, py = lonlat_to_metric(point_lon, point_lat, self.crs)
        return np.hypot(sx - px, sy - py) <= self.radius_m

    def reach_region(
        self, site_lon: Degrees, site_lat: Degrees, clip: BaseGeometry, crs: CRS
    ) -> BaseGeometry:
        """Disjoint pieces of ``clip`` within radius_m (measured in ``self.crs``), in ``crs``."""
        same = CRS.from_user_input(crs) == self.crs
        own_clip = clip if same else reproject(clip, crs, self.crs)
        x, y = lonlat_to_metric(site_lon, site_lat, self.crs)
        pieces = _disk_union_pieces(x, y, self.radius_m, own_clip)
        return pieces if same else reproject(pieces, self.crs, crs)

    def covered_area_m2(
        self, site_lon: Degrees, site_lat: Degrees, clip: BaseGeometry, crs: CRS
    ) -> float:
        """Exact area of (planar circles ∪) ∩ clip, measured in ``self.crs``."""
        if CRS.from_user_input(crs) != self.crs:
            return super().covered_area_m2(site_lon, site_lat, clip, crs)
        x, y = lonlat_to_metric(site_lon, site_lat, self.crs)
        return _disk_union_area(x, y, self.radius_m, clip)


def straight_line(radius_m: float) -> StraightLine:
    """The default reach model: geodesic straight-line distance ≤ ``radius_m`` metres.

    Raises
    ------
    GeodataError
        ``radius_m`` ≤ 0 or not a number (field ``radius_m``).
    """
    return StraightLine(radius_m)


def planar(radius_m: float, crs: CRS | str | int) -> Planar:
    """Straight-line reach measured in the plane of a projected CRS (see :class:`Planar`)."""
    return Planar(radius_m, CRS.from_user_input(crs))


def as_reach(radius_or_reach: float | Reach) -> Reach:
    """Accept a radius in metres (→ :func:`straight_line`) or any :class:`Reach` object."""
    if isinstance(radius_or_reach, bool):
        raise GeodataError.from_catalog("radius_m", "radius_m must be a number of metres")
    if isinstance(radius_or_reach, int | float | np.integer | np.floating | str):
        return straight_line(_check_radius(radius_or_reach))
    if isinstance(radius_or_reach, Reach):
        _check_radius(radius_or_reach.radius_m)
        _check_radius(radius_or_reach.search_radius_m)
        return radius_or_reach
    raise GeodataError(
        f"expected a radius in metres or a Reach model, got {type(radius_or_reach).__name__}",
        field="radius_m",
    )


def reachable_pairs(
    reach: Reach,
    site_lon: ArrayLike,
    site_lat: ArrayLike,
    point_lon: ArrayLike,
    point_lat: ArrayLike,
    *,
    site_tree: cKDTree | None = None,
    point_tree: cKDTree | None = None,
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """All (site, point) index pairs where the point reaches the site, sorted by site then point.

    Why sparse: a 1,000 × 400,000 distance matrix is 3 GB; the pairs within reach are a few
    per point.  Candidates come from two KD-trees on ECEF coordinates with the chord radius
    ``reach.search_radius_m`` (a chord is never longer than the geodesic, so none is missed); the
    reach model then decides each candidate pair exactly.

    Parameters
    ----------
    reach
        The reach model.
    site_lon, site_lat, point_lon, point_lat
        WGS-84 degrees.
    site_tree, point_tree
        Optional prebuilt ``cKDTree`` of :func:`geodata.projection.to_ecef` of the same points.

    Returns
    -------
    (site_index, point_index)
        Equal-length integer arrays.
    """
    slon = np.asarray(site_lon, dtype=float)
    slat = np.asarray(site_lat, dtype=float)
    plon = np.asarray(point_lon, dtype=float)
    plat = np.asarray(point_lat, dtype=float)
    empty = (np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp))
    if slon.size == 0 or plon.size == 0:
        return empty
    from scipy.spatial import cKDTree

    st = site_tree if site_tree is not None else cKDTree(to_ecef(slon, slat))
    pt = point_tree if point_tree is not None else cKDTree(to_ecef(plon, plat))
    found = st.sparse_distance_matrix(pt, float(reach.search_radius_m), output_type="ndarray")
    if found.size == 0:
        return empty
    i = found["i"].astype(np.intp)
    j = found["j"].astype(np.intp)
    ok = np.asarray(reach.reachable(slon[i], slat[i], plon[j], plat[j]), dtype=bool)
    i, j = i[ok], j[ok]
    order = np.lexsort((j, i))
    return i[order], j[order]
