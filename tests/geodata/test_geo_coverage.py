"""Coverage and gaps, checked against brute force on the ellipsoid."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod
from shapely.geometry import MultiPolygon, Polygon, box
from shapely.geometry.base import BaseGeometry

from geodata.coverage import coverage, coverage_to_geojson, gaps, gaps_to_geojson, nearest_geodesic
from geodata.demand import Demand, uniform_demand
from geodata.errors import GeodataError
from geodata.hexgrid import cell_centres, hex_grid
from geodata.projection import lonlat_to_metric, scale_factor, to_metric, utm_crs_for
from geodata.reach import planar, reachable_pairs, straight_line

GEOD = Geod(ellps="WGS84")
LON0, LAT0 = 116.52, 39.79


def _disc(radius_m: float, n: int = 720) -> Polygon:
    az = np.linspace(0.0, 360.0, n, endpoint=False)
    lon, lat, _ = GEOD.fwd(np.full(n, LON0), np.full(n, LAT0), az, np.full(n, radius_m))
    return Polygon(np.column_stack([lon, lat]))


def _brute(slon, slat, plon, plat):  # type: ignore[no-untyped-def]
    """Full geodesic distance matrix: points × stations."""
    pl, sl = np.meshgrid(plon, slon, indexing="ij")
    pa, sa = np.meshgrid(plat, slat, indexing="ij")
    _, _, d = GEOD.inv(pl, pa, sl, sa)
    return d


def _wq(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cum, q / 100 * cum[-1])])


def test_one_station_in_the_middle_of_a_disc() -> None:
    big, r = 3000.0, 1000.0
    area = _disc(big)
    res = coverage(area, [LON0], [LAT0], None, r, resolution=10)
    disc_area, _ = GEOD.geometry_area_perimeter(area)
    want = math.pi * r * r / abs(disc_area)  # geodesic circle share on the ellipsoid
    assert res.covered_area_share == pytest.approx(want, rel=1e-3)
    assert res.area_km2 == pytest.approx(abs(disc_area) / 1e6, rel=1e-3)
    # uniform demand: share of cells within reach ≈ share of area
    assert res.covered_weight_share == pytest.approx(want, abs=0.02)
    # the dissolved covered geometry has the same area as the analytic figure
    geom = res.covered_geometry()
    g_area, _ = GEOD.geometry_area_perimeter(geom)
    assert abs(g_area) / 1e6 == pytest.approx(res.covered_area_km2, rel=2e-3)


@pytest.mark.parametrize(
    "area",
    [
        MultiPolygon([box(116.50, 39.78, 116.52, 39.79), box(116.53, 39.78, 116.55, 39.79)]),
        Polygon(
            box(116.50, 39.78, 116.56, 39.82).exterior.coords,
            [box(116.52, 39.79, 116.54, 39.81).exterior.coords],
        ),
    ],
)
def test_covered_area_matches_a_union_of_buffers(area: BaseGeometry) -> None:
    rng = np.random.default_rng(2)
    slon, slat = rng.uniform(116.49, 116.57, 12), rng.uniform(39.775, 39.825, 12)
    slon[1], slat[1] = slon[0], slat[0]  # a duplicate station changes nothing
    res = coverage(area, slon, slat, None, 700.0)
    crs = utm_crs_for(area)
    k = scale_factor(crs, 116.53, 39.8)  # projected metres per ground metre here
    x, y = lonlat_to_metric(slon, slat, crs)
    disks = shapely.buffer(shapely.points(x, y), 700.0 * k, quad_segs=256)
    metric = to_metric(area, crs)
    want = shapely.union_all(disks).intersection(metric).area / metric.area
    assert res.covered_area_share == pytest.approx(want, rel=1e-4)
    geom = to_metric(res.covered_geometry(), crs)
    assert geom.area / metric.area == pytest.approx(want, rel=1e-3)


def test_distances_catchments_and_stats_match_brute_force() -> None:
    rng = np.random.default_rng(7)
    area = box(116.45, 39.75, 116.60, 39.85)
    slon, slat = rng.uniform(116.44, 116.61, 40), rng.uniform(39.74, 39.86, 40)
    dlon, dlat = rng.uniform(116.45, 116.60, 600), rng.uniform(39.75, 39.85, 600)
    w = rng.gamma(2.0, 1.0, 600)
    demand = Demand(dlon, dlat, w)
    res = coverage(area, slon, slat, demand, 800.0)
    d = _brute(slon, slat, dlon, dlat)
    nearest = d.argmin(axis=1)
    dist = d.min(axis=1)
    assert res.nearest_station.tolist() == nearest.tolist()
    assert res.distance_m == pytest.approx(dist, abs=1e-6)
    assert res.covered.tolist() == (dist <= 800.0).tolist()
    assert res.covered_weight == pytest.approx(w[dist <= 800.0].sum())
    assert res.mean_distance_m == pytest.approx(np.average(dist, weights=w))
    assert res.median_distance_m == pytest.approx(_wq(dist, w, 50))
    assert res.p95_distance_m == pytest.approx(_wq(dist, w, 95))
    assert res.catchment_weight == pytest.approx(np.bincount(nearest, w, minlength=40))
    assert res.catchment_count.tolist() == np.bincount(nearest, minlength=40).tolist()
    inr = dist <= 800.0
    assert res.catchment_weight_in_reach == pytest.approx(
        np.bincount(nearest[inr], w[inr], minlength=40)
    )
    idle = res.idle_stations()
    assert (res.catchment_weight_in_reach[idle] == 0).all()
    busiest = res.busiest_stations(3)
    assert res.catchment_weight_in_reach[busiest[0]] == res.catchment_weight_in_reach.max()


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_sites=st.integers(1, 30),
    spread=st.sampled_from([0.001, 0.01, 0.3]),
)
def test_nearest_geodesic_is_exact(seed: int, n_sites: int, spread: float) -> None:
    rng = np.random.default_rng(seed)
    slon = 116.5 + rng.uniform(-spread, spread, n_sites)
    slat = 39.8 + rng.uniform(-spread, spread, n_sites)
    plon = 116.5 + rng.uniform(-spread, spread, 50)
    plat = 39.8 + rng.uniform(-spread, spread, 50)
    idx, dist = nearest_geodesic(slon, slat, plon, plat)
    d = _brute(slon, slat, plon, plat)
    assert dist == pytest.approx(d.min(axis=1), abs=1e-6)
    assert (d[np.arange(50), idx] <= d.min(axis=1) + 1e-9).all()


def test_equidistant_sites_tie_to_a_nearest_one() -> None:
    # two sites mirrored about the point's meridian are at the same geodesic distance
    slon = np.array([LON0 + 0.01, LON0 - 0.01, LON0 + 0.5])
    slat = np.array([LAT0, LAT0, LAT0])
    idx, dist = nearest_geodesic(slon, slat, [LON0], [LAT0 + 0.001])
    d = _brute(slon, slat, [LON0], [LAT0 + 0.001])[0]
    assert idx[0] in (0, 1) and dist[0] == pytest.approx(d[:2].min(), abs=1e-9)


def test_no_stations_means_nothing_covered() -> None:
    area = box(116.5, 39.78, 116.53, 39.8)
    res = coverage(area, [], [], None, 500.0)
    assert res.covered_area_share == 0 and res.covered_weight == 0
    assert res.mean_distance_m is None and res.p95_distance_m is None
    found = gaps(area, [], [], None, 500.0)
    assert len(found) == 1 and found[0].cell_count == res.n_demand


@pytest.mark.parametrize("radius", [0, -5, float("nan"), float("inf"), "far"])
def test_bad_radius_is_rejected(radius: object) -> None:
    with pytest.raises(GeodataError) as err:
        coverage(box(116.5, 39.78, 116.53, 39.8), [116.51], [39.79], None, radius)  # type: ignore[arg-type]
    assert err.value.field == "radius_m"


def test_bad_stations_and_empty_demand_are_rejected() -> None:
    area = box(116.5, 39.78, 116.53, 39.8)
    with pytest.raises(GeodataError) as err:
        coverage(area, [116.51, 116.52], [39.79], None, 500.0)
    assert err.value.field == "stations"
    with pytest.raises(GeodataError) as err:
        coverage(area, [116.51], [95.0], None, 500.0)
    assert err.value.field == "stations"
    with pytest.raises(GeodataError) as err:
        coverage(
            area,
            [116.51],
            [39.79],
            Demand(np.array([116.51]), np.array([39.79]), np.array([0.0])),
            500.0,
        )
    assert err.value.field == "demand"
    with pytest.raises(GeodataError) as err:
        coverage(Polygon(), [116.51], [39.79], None, 500.0)
    assert err.value.field == "area"


def _two_holes_case():  # type: ignore[no-untyped-def]
    """A strip covered by stations except a small hole (west) and a big hole (east)."""
    area = box(116.50, 39.79, 116.60, 39.80)
    grid = hex_grid(area, 9)
    lon = np.linspace(116.50, 116.60, 41)
    keep = ~(((lon > 116.511) & (lon < 116.524)) | ((lon > 116.551) & (lon < 116.589)))
    slon = np.repeat(lon[keep], 2)
    slat = np.tile([39.7925, 39.7975], int(keep.sum()))
    # demand: heavy in the small western hole, light everywhere else
    west = (grid.lon > 116.513) & (grid.lon < 116.522)
    w = np.where(west, 50.0, 1.0)
    demand = Demand(grid.lon, grid.lat, w, cells=grid.cells, resolution=9)
    return area, grid, slon, slat, demand


def test_gaps_are_the_uncovered_cells_ranked_by_uncovered_demand() -> None:
    area, grid, slon, slat, demand = _two_holes_case()
    found = gaps(area, slon, slat, demand, 400.0, grid=grid)
    d = _brute(slon, slat, grid.lon, grid.lat).min(axis=1)
    uncovered = set(grid.cells[d > 400.0].tolist())
    assert set(np.concatenate([g.cells for g in found]).tolist()) == uncovered
    assert sum(g.cell_count for g in found) == len(uncovered)
    weights = [g.uncovered_weight for g in found]
    assert weights == sorted(weights, reverse=True)
    assert [g.rank for g in found] == list(range(1, len(found) + 1))
    top, big = found[0], max(found, key=lambda g: g.area_km2)
    assert top.centroid_lon < 116.53 < big.centroid_lon  # heavy small hole beats big hole
    assert top.area_km2 < big.area_km2
    for g in found:
        clon, clat = cell_centres(g.cells)
        assert shapely.contains_xy(g.polygon, clon, clat).all()
        w_in = demand.weight[np.isin(demand.cells, g.cells)].sum()
        assert g.uncovered_weight == pytest.approx(w_in)
    fc = gaps_to_geojson(found, limit=1)
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == 1
    assert fc["features"][0]["properties"]["rank"] == 1
    assert fc["features"][0]["geometry"]["type"] == "Polygon"


def test_gaps_can_reuse_a_coverage_result() -> None:
    area, grid, slon, slat, demand = _two_holes_case()
    cov = coverage(area, slon, slat, demand, 400.0, grid=grid)
    again = gaps(area, slon, slat, demand, 400.0, grid=grid, coverage_result=cov)
    fresh = gaps(area, slon, slat, demand, 400.0, grid=grid)
    assert [g.properties() for g in again] == [g.properties() for g in fresh]
    with pytest.raises(GeodataError) as err:
        gaps(area, slon, slat, demand, 300.0, grid=grid, coverage_result=cov)
    assert err.value.field == "coverage_result"


def test_gaps_with_demand_points_not_on_the_grid() -> None:
    area, grid, slon, slat, _ = _two_holes_case()
    pts = Demand(
        np.array([116.5175, 116.57, 116.55]),
        np.array([39.795, 39.795, 39.795]),
        np.array([5.0, 2.0, 9.0]),
    )
    found = gaps(area, slon, slat, pts, 400.0, grid=grid)
    assert found[0].uncovered_weight == 5.0 and found[1].uncovered_weight == 2.0


def test_everything_covered_means_no_gaps() -> None:
    area = box(116.50, 39.79, 116.51, 39.80)
    assert gaps(area, [116.505], [39.795], None, 5000.0) == []


def test_coverage_geojson_and_planar_reach_agree_with_geodesic() -> None:
    area = box(116.45, 39.75, 116.60, 39.85)
    rng = np.random.default_rng(3)
    slon, slat = rng.uniform(116.45, 116.6, 25), rng.uniform(39.75, 39.85, 25)
    demand = uniform_demand(area, 9)
    geo = coverage(area, slon, slat, demand, 600.0)
    flat = coverage(area, slon, slat, demand, planar(600.0, utm_crs_for(area)))
    # UTM's scale factor here is ~0.9996: planar 600 m is ~0.24 m more on the ground
    assert flat.covered_area_share == pytest.approx(geo.covered_area_share, rel=2e-3)
    assert abs(flat.covered_weight - geo.covered_weight) <= 0.002 * geo.total_weight
    fc = coverage_to_geojson(geo, demand)
    assert fc["features"][0]["properties"]["kind"] == "covered"
    assert len(fc["features"]) == 1 + len(demand)
    assert fc["features"][1]["properties"]["covered"] == bool(geo.covered[0])


def test_reachable_pairs_match_brute_force() -> None:
    rng = np.random.default_rng(11)
    slon, slat = rng.uniform(116.5, 116.52, 30), rng.uniform(39.79, 39.81, 30)
    plon, plat = rng.uniform(116.5, 116.52, 80), rng.uniform(39.79, 39.81, 80)
    i, j = reachable_pairs(straight_line(700.0), slon, slat, plon, plat)
    d = _brute(slon, slat, plon, plat)  # points × sites
    want = sorted(zip(*np.nonzero(d.T <= 700.0), strict=True))
    assert list(zip(i.tolist(), j.tolist(), strict=True)) == [(int(a), int(b)) for a, b in want]
