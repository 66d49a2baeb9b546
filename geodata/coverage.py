"""Coverage and gaps: how much of an area and of its demand is within reach of a station.

Definitions (one set, used everywhere):

* A demand point or grid cell is **covered** when the reach model says it can reach some
  station; for the default straight-line model, when its **geodesic** (WGS-84 ellipsoid)
  distance to the nearest station is ≤ the radius.  Distances are always geodesic metres.
* The **covered area** is the part of the area within reach, measured in the UTM zone of
  the area's centre; straight-line circles are drawn with the projection's scale factor so
  they are the geodesic circles (error < 1 mm on a 500 m radius).
* A **gap** is a connected group of H3 cells (edge neighbours) of the area's grid whose
  centres are not covered.  Its uncovered demand is the weight of uncovered demand points
  that fall in its cells.

Nearest stations come from a KD-tree on geocentric (ECEF) coordinates: chord length never
exceeds geodesic length and differs from it by < 10⁻⁷ at city scale, so the chord-nearest is
checked against the second chord-nearest and refined only when they could swap — the result
is the exact geodesic nearest, without a dense distance matrix.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS
from shapely.geometry import GeometryCollection, mapping
from shapely.geometry.base import BaseGeometry

from geodata.areas import check_area
from geodata.demand import Demand, uniform_demand
from geodata.distance import geodesic_m
from geodata.errors import GeodataError
from geodata.hexgrid import (
    CellRegions,
    HexGrid,
    check_resolution,
    hex_grid,
    merge_cells,
    points_to_cells,
)
from geodata.projection import from_metric, to_ecef, to_metric, utm_crs_for
from geodata.reach import Reach, StraightLine, as_reach, reachable_pairs

if TYPE_CHECKING:  # scipy.spatial costs ~30 MB per API worker: imported where used
    from scipy.spatial import cKDTree

__all__ = [
    "CoverageResult",
    "describe_reach",
    "Gap",
    "check_points",
    "coverage",
    "coverage_to_geojson",
    "covered_mask",
    "gaps",
    "gaps_to_geojson",
    "nearest_geodesic",
]


def check_points(
    lon: ArrayLike, lat: ArrayLike, field: str = "stations"
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Validate lon/lat arrays (same length, finite, in range) and return them as float arrays.

    Raises
    ------
    GeodataError
        Naming ``field`` and the first bad position.
    """
    lo = np.atleast_1d(np.asarray(lon, dtype=float)).ravel()
    la = np.atleast_1d(np.asarray(lat, dtype=float)).ravel()
    if lo.size != la.size:
        raise GeodataError.from_catalog(
            field,
            "{what}: {n_lon} longitudes but {n_lat} latitudes",
            what=field,
            n_lon=lo.size,
            n_lat=la.size,
        )
    bad = ~np.isfinite(lo) | ~np.isfinite(la) | (np.abs(lo) > 180) | (np.abs(la) > 90)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise GeodataError.from_catalog(
            field,
            "{what} {i}: lon/lat {lon}, {lat} is not a WGS-84 position",
            what=field,
            i=i,
            lon=repr(lo[i]),
            lat=repr(la[i]),
        )
    return lo, la


def nearest_geodesic(
    site_lon: ArrayLike,
    site_lat: ArrayLike,
    point_lon: ArrayLike,
    point_lat: ArrayLike,
    *,
    site_tree: cKDTree | None = None,
) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    """Index of and geodesic distance (m) to the nearest site, for every point.

    Exact on the ellipsoid (ties go to the lower site index); −1 and ``inf`` when there are
    no sites.  Cost: one KD-tree query and about one geodesic per point.
    """
    slon = np.asarray(site_lon, dtype=float)
    slat = np.asarray(site_lat, dtype=float)
    plon = np.asarray(point_lon, dtype=float)
    plat = np.asarray(point_lat, dtype=float)
    n = plon.size
    if slon.size == 0:
        return np.full(n, -1, dtype=np.intp), np.full(n, np.inf)
    if n == 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0)
    from scipy.spatial import cKDTree

    tree = site_tree if site_tree is not None else cKDTree(to_ecef(slon, slat))
    pts = to_ecef(plon, plat)
    if slon.size == 1:
        idx = np.zeros(n, dtype=np.intp)
        return idx, np.asarray(geodesic_m(plon, plat, slon[idx], slat[idx]), dtype=float)
    chord, cand = tree.query(pts, k=2, workers=-1 if n > 50_000 else 1)
    idx = cand[:, 0].astype(np.intp)
    dist = np.asarray(geodesic_m(plon, plat, slon[idx], slat[idx]), dtype=float)
    # Any site geodesically closer than dist has a chord < dist; the second chord-nearest
    # is farther than that for nearly every point, so only the rest need a closer look.
    unsure = np.flatnonzero(chord[:, 1] <= dist)
    if unsure.size:
        near = tree.query_ball_point(pts[unsure], r=dist[unsure] * (1 + 1e-12) + 1e-6)
        for p, cands in zip(unsure.tolist(), near, strict=True):
            c = np.asarray(sorted(cands), dtype=np.intp)
            d = np.asarray(geodesic_m(plon[p], plat[p], slon[c], slat[c]), dtype=float)
            best = int(np.argmin(d))  # argmin returns the first (lowest index) of ties
            idx[p], dist[p] = c[best], d[best]
    return idx, dist


def covered_mask(
    reach: Reach,
    site_lon: ArrayLike,
    site_lat: ArrayLike,
    point_lon: ArrayLike,
    point_lat: ArrayLike,
) -> NDArray[np.bool_]:
    """For every point, whether it can reach any site under ``reach``.

    The straight-line model takes a shortcut: only the chord-nearest site within the radius
    is measured geodesically (exact, see the module docstring); other models get every
    candidate pair from :func:`geodata.reach.reachable_pairs`.
    """
    slon = np.asarray(site_lon, dtype=float)
    slat = np.asarray(site_lat, dtype=float)
    plon = np.asarray(point_lon, dtype=float)
    plat = np.asarray(point_lat, dtype=float)
    out = np.zeros(plon.size, dtype=bool)
    if slon.size == 0 or plon.size == 0:
        return out
    if not isinstance(reach, StraightLine):
        _, j = reachable_pairs(reach, slon, slat, plon, plat)
        out[j] = True
        return out
    r = reach.radius_m
    from scipy.spatial import cKDTree

    tree = cKDTree(to_ecef(slon, slat))
    pts = to_ecef(plon, plat)
    chord, idx = tree.query(
        pts, k=1, distance_upper_bound=r, workers=-1 if plon.size > 50_000 else 1
    )
    cand = np.flatnonzero(np.isfinite(chord))
    d = np.asarray(geodesic_m(plon[cand], plat[cand], slon[idx[cand]], slat[idx[cand]]))
    out[cand] = d <= r
    # chord-nearest within r but geodesically just beyond it: another site might still be in
    # reach (only inside a shell ~1e-7 m thick at city scale) — measure all candidates there
    for p in cand[d > r].tolist():
        c = np.asarray(tree.query_ball_point(pts[p], r), dtype=np.intp)
        out[p] = bool((np.asarray(geodesic_m(plon[p], plat[p], slon[c], slat[c])) <= r).any())
    return out


def describe_reach(reach: Reach | float) -> dict[str, Any]:
    """Which reach a result used, JSON-ready: every output must say it."""
    reach = as_reach(reach)
    own = getattr(reach, "describe", None)
    if own is not None:
        return dict(own())
    return {"kind": "straight_line", "radius_m": float(reach.radius_m)}


def _wquantile(values: NDArray[np.float64], weights: NDArray[np.float64], q: float) -> float:
    return float(np.percentile(values, q, weights=weights, method="inverted_cdf"))


def _finite_or_none(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


@dataclass(frozen=True)
class CoverageResult:
    """Coverage of an area and its demand by a set of stations.

    Scalars summarise; the arrays are per demand point (``nearest_station``, ``distance_m``,
    ``covered``) and per station (``catchment_*``, in the order the stations were given).
    Distance statistics are weighted by demand weight; ``None`` when there are no stations.
    A station's catchment is the demand whose nearest station it is — high weight flags an
    overloaded station, zero ``catchment_weight_in_reach`` an idle one.

    ``reach_count`` is, per demand point, how many stations reach it; demand reached by two
    or more is *double covered* (交叉覆盖).  A station's ``criticality`` is the demand only it
    reaches — what would lose all cover if it closed.
    """

    radius_m: float
    metric_crs: str
    area_km2: float
    covered_area_km2: float
    covered_area_share: float
    total_weight: float
    covered_weight: float
    covered_weight_share: float
    n_demand: int
    n_stations: int
    mean_distance_m: float | None
    median_distance_m: float | None
    p95_distance_m: float | None
    nearest_station: NDArray[np.intp] = field(repr=False)
    distance_m: NDArray[np.float64] = field(repr=False)
    covered: NDArray[np.bool_] = field(repr=False)
    catchment_weight: NDArray[np.float64] = field(repr=False)
    catchment_count: NDArray[np.intp] = field(repr=False)
    catchment_weight_in_reach: NDArray[np.float64] = field(repr=False)
    reach: Reach = field(repr=False)
    stations_lon: NDArray[np.float64] = field(repr=False)
    stations_lat: NDArray[np.float64] = field(repr=False)
    area_metric: BaseGeometry = field(repr=False)
    double_covered_weight: float = 0.0
    double_covered_weight_share: float = 0.0
    reach_count: NDArray[np.intp] = field(default_factory=lambda: np.zeros(0, np.intp), repr=False)
    criticality: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0), repr=False)

    def summary(self) -> dict[str, Any]:
        """The scalar figures as a JSON-ready dict."""
        return {
            "radius_m": self.radius_m,
            "metric_crs": self.metric_crs,
            "area_km2": self.area_km2,
            "covered_area_km2": self.covered_area_km2,
            "covered_area_share": self.covered_area_share,
            "total_weight": self.total_weight,
            "covered_weight": self.covered_weight,
            "covered_weight_share": self.covered_weight_share,
            "n_demand": self.n_demand,
            "n_stations": self.n_stations,
            "mean_distance_m": self.mean_distance_m,
            "median_distance_m": self.median_distance_m,
            "p95_distance_m": self.p95_distance_m,
            "double_covered_weight": self.double_covered_weight,
            "double_covered_weight_share": self.double_covered_weight_share,
            "reach": describe_reach(self.reach),
        }

    def idle_stations(self) -> NDArray[np.intp]:
        """Indices of stations that are the nearest in-reach station of no demand."""
        return np.flatnonzero(self.catchment_weight_in_reach <= 0)

    def busiest_stations(self, n: int = 10) -> NDArray[np.intp]:
        """Indices of the ``n`` stations with the most in-reach catchment weight (ties: index)."""
        order = np.lexsort((np.arange(self.n_stations), -self.catchment_weight_in_reach))
        return order[:n]

    def covered_geometry(self) -> BaseGeometry:
        """The covered part of the area as one WGS-84 (Multi)Polygon, built on request.

        Why lazy: dissolving thousands of circles costs about a second; the figures do not
        need it, a map does.
        """
        crs = CRS.from_user_input(self.metric_crs)
        region = self.reach.reach_region(
            self.stations_lon, self.stations_lat, self.area_metric, crs
        )
        if region.is_empty:
            return GeometryCollection()
        return from_metric(shapely.union_all(shapely.get_parts(region)), crs)


def coverage(
    area: BaseGeometry,
    stations_lon: ArrayLike,
    stations_lat: ArrayLike,
    demand: Demand | None = None,
    radius_m: float | Reach = 500.0,
    resolution: int = 9,
    *,
    grid: HexGrid | None = None,
) -> CoverageResult:
    """Measure how much of an area and of its demand is within reach of the stations.

    Why: "what share of riders have a station within 500 m (or 10 minutes' walk), how far is
    it for the others, which stations carry the load" is the first question union staff ask.

    Parameters
    ----------
    area
        WGS-84 Polygon/MultiPolygon (see :func:`geodata.areas.load_area`).
    stations_lon, stations_lat
        WGS-84 station positions; stations outside the area still cover parts of it.
    demand
        Weighted demand points; ``None`` → one unit per H3 cell of the area.
    radius_m
        Reach in metres (straight-line geodesic) or any :class:`~geodata.reach.Reach`.
    resolution
        H3 resolution of the uniform demand when ``demand`` is None.
    grid
        A prebuilt grid of the area, reused for the uniform demand.

    Raises
    ------
    GeodataError
        Bad area, radius ≤ 0, bad station coordinates, empty demand.
    """
    area = check_area(area)
    reach = as_reach(radius_m)
    res = check_resolution(resolution)
    slon, slat = check_points(stations_lon, stations_lat, "stations")
    if demand is None:
        demand = uniform_demand(area, res, grid=grid)
    demand.require_nonempty()
    crs = utm_crs_for(area)
    area_m = to_metric(area, crs)
    covered_area = float(reach.covered_area_m2(slon, slat, area_m, crs))
    from scipy.spatial import cKDTree

    tree = cKDTree(to_ecef(slon, slat)) if slon.size else None
    nearest = getattr(reach, "nearest", None)
    if nearest is not None and slon.size:  # a network model: nearest by street, not by air
        idx, dist = nearest(slon, slat, demand.lon, demand.lat)
    else:
        idx, dist = nearest_geodesic(slon, slat, demand.lon, demand.lat, site_tree=tree)
    si, pj = reachable_pairs(reach, slon, slat, demand.lon, demand.lat, site_tree=tree)
    count = np.bincount(pj, minlength=len(demand)).astype(np.intp)
    covered = count >= 1
    w = demand.weight
    total = float(w.sum())
    cov_w = float(w[covered].sum())
    dbl_w = float(w[count >= 2].sum())
    alone = count[pj] == 1
    critical = np.bincount(si[alone], w[pj[alone]], minlength=slon.size).astype(float)
    has = idx >= 0
    n_st = slon.size
    c_weight = np.bincount(idx[has], w[has], minlength=n_st).astype(float)
    c_count = np.bincount(idx[has], minlength=n_st).astype(np.intp)
    inr = has & covered
    c_in = np.bincount(idx[inr], w[inr], minlength=n_st).astype(float)
    if n_st:
        mean = float(np.average(dist, weights=w))
        median = _wquantile(dist, w, 50)
        p95 = _wquantile(dist, w, 95)
    else:
        mean = median = p95 = float("nan")
    area_km2 = float(area_m.area) / 1e6
    return CoverageResult(
        radius_m=float(reach.radius_m),
        metric_crs=crs.to_string(),
        area_km2=area_km2,
        covered_area_km2=covered_area / 1e6,
        covered_area_share=covered_area / float(area_m.area),
        total_weight=total,
        covered_weight=cov_w,
        covered_weight_share=cov_w / total,
        n_demand=len(demand),
        n_stations=int(n_st),
        mean_distance_m=_finite_or_none(mean),
        median_distance_m=_finite_or_none(median),
        p95_distance_m=_finite_or_none(p95),
        nearest_station=idx,
        distance_m=dist,
        covered=covered,
        catchment_weight=c_weight,
        catchment_count=c_count,
        catchment_weight_in_reach=c_in,
        reach=reach,
        stations_lon=slon,
        stations_lat=slat,
        area_metric=area_m,
        double_covered_weight=dbl_w,
        double_covered_weight_share=dbl_w / total,
        reach_count=count,
        criticality=critical,
    )


@dataclass(frozen=True)
class Gap:
    """A connected uncovered part of the area's H3 grid (WGS-84 polygon of whole cells)."""

    rank: int
    polygon: BaseGeometry = field(repr=False)
    area_km2: float
    uncovered_weight: float
    cell_count: int
    centroid_lon: float
    centroid_lat: float
    cells: NDArray[np.uint64] = field(repr=False)
    street: str | None = None
    street_distance_m: float | None = None

    def properties(self) -> dict[str, Any]:
        """JSON-ready properties (no geometry, no cell list)."""
        out: dict[str, Any] = {
            "rank": self.rank,
            "area_km2": self.area_km2,
            "uncovered_weight": self.uncovered_weight,
            "cell_count": self.cell_count,
            "centroid_lon": self.centroid_lon,
            "centroid_lat": self.centroid_lat,
        }
        if self.street is not None:
            out["street"] = self.street
            out["street_distance_m"] = self.street_distance_m
        return out


def gaps(
    area: BaseGeometry,
    stations_lon: ArrayLike,
    stations_lat: ArrayLike,
    demand: Demand | None = None,
    radius_m: float | Reach = 500.0,
    resolution: int = 9,
    *,
    grid: HexGrid | None = None,
    coverage_result: CoverageResult | None = None,
    max_area_km2: float | None = None,
) -> list[Gap]:
    """Find the uncovered parts of an area, merged into gap polygons, biggest need first.

    Why: a coverage percentage does not say *where* to act.  The area is gridded with H3
    cells; cells whose centre no station reaches are merged (edge neighbours) into gaps,
    ranked by the demand weight left uncovered in them, then by area.

    Parameters
    ----------
    area, stations_lon, stations_lat, demand, radius_m
        As in :func:`coverage`.  ``demand=None`` → one unit per cell.
    resolution
        H3 resolution of the grid (9 ≈ 0.1 km² cells; 10 for finer gaps).
    grid
        A prebuilt :class:`~geodata.hexgrid.HexGrid` of this area at ``resolution``.
    coverage_result
        The :func:`coverage` of the same area, stations, demand and reach, if already at
        hand: its per-point ``covered`` flags are reused instead of measured again.
    max_area_km2
        Split larger gaps into connected pieces no larger than this (a piece a person can
        walk round in an afternoon); ``None`` keeps each connected gap whole.

    Returns
    -------
    list[Gap]
        Rank 1 first; empty when everything is covered.
    """
    area = check_area(area)
    reach = as_reach(radius_m)
    res = check_resolution(resolution)
    slon, slat = check_points(stations_lon, stations_lat, "stations")
    if grid is None:
        grid = hex_grid(area, res)
    elif grid.resolution != res:
        raise GeodataError(f"grid has resolution {grid.resolution}, not {res}", field="resolution")
    if demand is None:
        demand = uniform_demand(grid=grid)
    crs = utm_crs_for(area)
    if coverage_result is not None and (
        coverage_result.n_demand != len(demand)
        or coverage_result.n_stations != slon.size
        or coverage_result.radius_m != reach.radius_m
    ):
        raise GeodataError(
            "coverage_result was computed for other demand, stations or reach",
            field="coverage_result",
        )
    same_points = (
        demand.cells is not None
        and demand.resolution == res
        and (demand.cells is grid.cells or np.array_equal(demand.cells, grid.cells))
    )
    if coverage_result is not None:
        dem_cov = coverage_result.covered
    else:
        dem_cov = covered_mask(reach, slon, slat, demand.lon, demand.lat)
    if same_points:
        cell_cov = dem_cov
        dem_pos = np.arange(len(grid), dtype=np.intp)
    else:
        cell_cov = covered_mask(reach, slon, slat, grid.lon, grid.lat)
        dcells = (
            demand.cells
            if demand.cells is not None and demand.resolution == res
            else points_to_cells(demand.lon, demand.lat, res)
        )
        dem_pos = grid.index_of(dcells)
    unc_cells = np.flatnonzero(~cell_cov)
    if unc_cells.size == 0:
        return []
    regions = merge_cells(grid.cells[unc_cells], crs, grid=grid)
    if max_area_km2 is not None:
        regions = _split_regions(regions, grid, unc_cells, crs, _check_max_area(max_area_km2))
    n_reg = len(regions)
    label_of_cell = np.full(len(grid), -1, dtype=np.intp)
    label_of_cell[unc_cells] = regions.label
    dl = np.where(dem_pos >= 0, label_of_cell[np.maximum(dem_pos, 0)], -1)
    take = (dl >= 0) & ~dem_cov
    weight = np.bincount(dl[take], demand.weight[take], minlength=n_reg)
    count = np.bincount(regions.label, minlength=n_reg)
    order_cells = np.argsort(regions.label, kind="stable")
    bounds = np.r_[0, np.cumsum(count)]
    first_cell = grid.cells[unc_cells][order_cells][bounds[:-1]]  # lowest id: cells sorted
    rank_order = np.lexsort((first_cell, -regions.area_m2, -weight))
    sorted_cells = grid.cells[unc_cells][order_cells]
    out: list[Gap] = []
    for rank, g in enumerate(rank_order.tolist(), start=1):
        out.append(
            Gap(
                rank=rank,
                polygon=regions.polygons[g],
                area_km2=float(regions.area_m2[g]) / 1e6,
                uncovered_weight=float(weight[g]),
                cell_count=int(count[g]),
                centroid_lon=float(regions.centroid_lon[g]),
                centroid_lat=float(regions.centroid_lat[g]),
                cells=sorted_cells[bounds[g] : bounds[g + 1]],
            )
        )
    network = getattr(reach, "network", None)
    if network is not None and out:
        from geodata.network.snap import nearest_street

        names, dist = nearest_street(
            network, [g.centroid_lon for g in out], [g.centroid_lat for g in out]
        )
        out = [
            replace(g, street=n, street_distance_m=float(d) if np.isfinite(d) else None)
            for g, n, d in zip(out, names, dist.tolist(), strict=True)
        ]
    return out


def _check_max_area(value: float) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise GeodataError.from_catalog(
            "max_gap_km2", "max_area_km2 must be a number, got {given}", given=repr(value)
        ) from None
    if not np.isfinite(v) or v <= 0:
        raise GeodataError.from_catalog(
            "max_gap_km2", "max_area_km2 must be > 0, got {given}", given=repr(value)
        )
    return v


def _neighbours(cells: NDArray[np.uint64]) -> list[list[int]]:
    """For each of the (sorted, distinct) H3 ``cells``, the positions of its edge neighbours."""
    from h3 import _cy as h3cy

    n = cells.size
    out: list[list[int]] = []
    for c in cells.tolist():
        nb = np.asarray(h3cy.grid_disk(c, 1), dtype=np.uint64)
        pos = np.minimum(np.searchsorted(cells, nb), n - 1)
        out.append([int(k) for k in pos[(cells[pos] == nb) & (nb != c)]])
    return out


def _grow_pieces(
    cells: NDArray[np.uint64], x: NDArray[np.float64], y: NDArray[np.float64], per_piece: int
) -> list[NDArray[np.intp]]:
    """Cut edge-connected cells into connected pieces of at most ``per_piece`` cells.

    Sweeping from the west, each piece grows from the westernmost free cell, always taking
    the free neighbour nearest to its seed: pieces come out as compact blobs, connected by
    construction, nearly all full; only leftovers hemmed in by other pieces are smaller.
    """
    import heapq

    nbrs = _neighbours(cells)
    free = np.ones(cells.size, dtype=bool)
    sweep = np.lexsort((y, x)).tolist()
    pieces: list[NDArray[np.intp]] = []
    at = 0
    while True:
        while at < len(sweep) and not free[sweep[at]]:
            at += 1
        if at == len(sweep):
            return pieces
        seed = sweep[at]
        heap = [(0.0, seed)]
        seen = {seed}
        piece: list[int] = []
        while heap and len(piece) < per_piece:
            _, c = heapq.heappop(heap)
            free[c] = False
            piece.append(c)
            for nb in nbrs[c]:
                if free[nb] and nb not in seen:
                    seen.add(nb)
                    heapq.heappush(heap, (float(np.hypot(x[nb] - x[seed], y[nb] - y[seed])), nb))
        pieces.append(np.asarray(sorted(piece), dtype=np.intp))


def _split_regions(
    regions: CellRegions,
    grid: HexGrid,
    unc_cells: NDArray[np.intp],
    crs: CRS,
    max_km2: float,
) -> CellRegions:
    """Regions larger than ``max_km2`` cut into connected pieces ≤ ``max_km2`` (see _bisect)."""
    from geodata.hexgrid import cell_polygons
    from geodata.projection import lonlat_to_metric

    max_m2 = max_km2 * 1e6
    n_reg = len(regions)
    count = np.bincount(regions.label, minlength=n_reg)
    big = np.flatnonzero(regions.area_m2 > max_m2)
    if big.size == 0:
        return regions
    cells = grid.cells[unc_cells]
    x, y = lonlat_to_metric(grid.lon[unc_cells], grid.lat[unc_cells], crs)
    label = regions.label.copy()
    polys = list(regions.polygons)
    area = list(regions.area_m2)
    clon, clat = list(regions.centroid_lon), list(regions.centroid_lat)
    for g in big.tolist():
        members = np.flatnonzero(regions.label == g)
        cell_m2 = float(regions.area_m2[g]) / float(count[g])
        per_piece = max(1, int(max_m2 / (cell_m2 * 1.01)))  # outlines vs cell sums: < 1 %
        local = _grow_pieces(cells[members], x[members], y[members], per_piece)
        pieces = [members[p] for p in local]
        for k, piece in enumerate(pieces):
            outline = shapely.coverage_union_all(cell_polygons(cells[piece]))
            metric = to_metric(outline, crs)
            c = from_metric(metric.centroid, crs)
            new = g if k == 0 else len(polys)
            if k:
                polys.append(None)
                area.append(0.0)
                clon.append(0.0)
                clat.append(0.0)
            label[piece] = new
            polys[new], area[new] = outline, float(metric.area)
            clon[new], clat[new] = float(c.x), float(c.y)
    return CellRegions(
        label,
        np.array(polys, dtype=object),
        np.asarray(area, dtype=float),
        np.asarray(clon, dtype=float),
        np.asarray(clat, dtype=float),
    )


def gaps_to_geojson(found: list[Gap], limit: int | None = None) -> dict[str, Any]:
    """Gaps as a GeoJSON FeatureCollection (WGS-84), in rank order, optionally the first ``limit``."""
    chosen = found if limit is None else found[: max(int(limit), 0)]
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": mapping(g.polygon), "properties": g.properties()}
            for g in chosen
        ],
    }


def coverage_to_geojson(result: CoverageResult, demand: Demand | None = None) -> dict[str, Any]:
    """Coverage as a GeoJSON FeatureCollection (WGS-84).

    One feature ``kind="covered"`` holds the covered part of the area with the summary
    figures; with ``demand`` (the layer the result was computed on), one point feature per
    demand unit follows with its weight, nearest station index, distance and covered flag.
    """
    covered = result.covered_geometry()
    feats: list[dict[str, Any]] = [
        {
            "type": "Feature",
            "geometry": mapping(covered) if not covered.is_empty else None,
            "properties": {"kind": "covered", **result.summary()},
        }
    ]
    if demand is not None:
        if len(demand) != result.n_demand:
            raise GeodataError.from_catalog("demand", "demand does not match the coverage result")
        for i in range(len(demand)):
            feats.append(
                {
                    "type": "Feature",
                    "geometry": {
                        "type": "Point",
                        "coordinates": [float(demand.lon[i]), float(demand.lat[i])],
                    },
                    "properties": {
                        "kind": "demand",
                        "weight": float(demand.weight[i]),
                        "nearest_station": int(result.nearest_station[i]),
                        "distance_m": _finite_or_none(float(result.distance_m[i])),
                        "covered": bool(result.covered[i]),
                    },
                }
            )
    return {"type": "FeatureCollection", "features": feats}
