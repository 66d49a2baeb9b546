"""H3 grids and merging cells into regions: the three merge ways must agree."""

from __future__ import annotations

import h3
import numpy as np
import pytest
import shapely
from shapely.geometry import box

from geodata.errors import GeodataError
from geodata.hexgrid import (
    cell_centres,
    cell_polygons,
    cells_for_area,
    hex_grid,
    merge_cells,
    points_to_cells,
)
from geodata.projection import to_metric, utm_crs_for

AREA = box(116.45, 39.75, 116.60, 39.85)
CRS = utm_crs_for(AREA)


def test_cells_have_their_centre_inside_and_tile_the_area() -> None:
    cells = cells_for_area(AREA, 9)
    assert (np.diff(cells.astype(np.int64)) > 0).all()  # sorted, unique
    lon, lat = cell_centres(cells)
    assert shapely.contains_xy(AREA, lon, lat).all()
    cell_area = sum(h3.cell_area(h3.int_to_str(int(c)), "m^2") for c in cells)
    assert cell_area == pytest.approx(to_metric(AREA, CRS).area, rel=0.02)


def test_tiny_area_still_gets_one_cell() -> None:
    tiny = box(116.5, 39.8, 116.50001, 39.80001)
    cells = cells_for_area(tiny, 7)
    assert cells.size == 1


@pytest.mark.parametrize("res", [-1, 16, 9.5, True])
def test_bad_resolution(res: object) -> None:
    with pytest.raises(GeodataError) as err:
        cells_for_area(AREA, res)  # type: ignore[arg-type]
    assert err.value.field == "resolution"


def test_points_to_cells_matches_h3() -> None:
    lon = np.array([116.5, 116.55])
    lat = np.array([39.8, 39.76])
    got = points_to_cells(lon, lat, 8)
    want = [h3.str_to_int(h3.latlng_to_cell(y, x, 8)) for x, y in zip(lon, lat, strict=True)]
    assert got.tolist() == want


def test_grid_index_of() -> None:
    grid = hex_grid(AREA, 8)
    pos = grid.index_of(np.r_[grid.cells[[3, 0]], np.uint64(h3.str_to_int("85283473fffffff"))])
    assert pos.tolist() == [3, 0, -1]


def _same_regions(a, b) -> None:  # type: ignore[no-untyped-def]
    assert len(a) == len(b)
    pairs = set(zip(a.label.tolist(), b.label.tolist(), strict=True))
    assert len(pairs) == len(a)  # the labels are a bijection: same partition
    mapping = dict(pairs)
    for i in range(len(a)):
        j = mapping[i]
        assert a.area_m2[i] == pytest.approx(b.area_m2[j], rel=1e-6)
        assert a.centroid_lon[i] == pytest.approx(b.centroid_lon[j], abs=1e-7)
        assert a.centroid_lat[i] == pytest.approx(b.centroid_lat[j], abs=1e-7)
        diff = a.polygons[i].symmetric_difference(b.polygons[j]).area
        assert diff < 1e-6 * a.polygons[i].area


@pytest.mark.parametrize("seed", [1, 2])
def test_the_three_merge_ways_agree(seed: int) -> None:
    grid = hex_grid(AREA, 9)
    rng = np.random.default_rng(seed)
    cells = grid.cells[rng.random(len(grid)) < 0.55]
    lattice = merge_cells(cells, CRS, grid=grid, method="lattice")
    vertices = merge_cells(cells, CRS, method="vertices")
    slow = merge_cells(cells, CRS, method="h3")
    _same_regions(lattice, vertices)
    _same_regions(vertices, slow)
    assert shapely.is_valid(lattice.polygons).all()
    # every cell centre lies in its own region's polygon
    lon, lat = cell_centres(cells)
    assert shapely.contains_xy(lattice.polygons[lattice.label], lon, lat).all()
    # region area = the cells' area in the metric CRS
    polys = np.array([to_metric(p, CRS) for p in cell_polygons(cells)])
    per_region = np.bincount(lattice.label, shapely.area(polys))
    assert per_region == pytest.approx(lattice.area_m2, rel=1e-6)


def test_ring_of_cells_makes_a_polygon_with_a_hole() -> None:
    centre = h3.latlng_to_cell(39.8, 116.5, 9)
    ring = np.array([h3.str_to_int(c) for c in h3.grid_ring(centre, 1)], dtype=np.uint64)
    for method in ("vertices", "h3"):
        regions = merge_cells(np.sort(ring), CRS, method=method)
        assert len(regions) == 1
        poly = regions.polygons[0]
        assert len(poly.interiors) == 1
        hole = shapely.Polygon(poly.interiors[0])
        lat, lon = h3.cell_to_latlng(centre)
        assert hole.contains(shapely.Point(lon, lat))


def test_lattice_way_needs_enough_cells_and_auto_falls_back() -> None:
    cells = cells_for_area(box(116.5, 39.8, 116.505, 39.804), 9)
    assert cells.size < 200
    with pytest.raises(GeodataError):
        merge_cells(cells, CRS, method="lattice")
    auto = merge_cells(cells, CRS)
    assert auto.label.size == cells.size


def test_merge_rejects_duplicates_and_unknown_method() -> None:
    cells = cells_for_area(AREA, 7)
    with pytest.raises(GeodataError):
        merge_cells(np.r_[cells, cells[:1]], CRS)
    with pytest.raises(GeodataError):
        merge_cells(cells, CRS, method="magic")
