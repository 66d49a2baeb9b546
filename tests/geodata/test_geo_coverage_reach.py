"""Reach models and projections: presets, errors, and a custom model plugged into the engine."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import shapely
from numpy.typing import NDArray
from pyproj import CRS, Geod
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from geodata.coverage import coverage, covered_mask
from geodata.demand import Demand
from geodata.errors import GeodataError
from geodata.planning import plan_sites
from geodata.projection import (
    from_metric,
    lonlat_to_metric,
    scale_factor,
    to_ecef,
    to_metric,
    utm_crs_for,
)
from geodata.reach import SPEEDS_KMH, Reach, as_reach, minutes_to_metres, straight_line

GEOD = Geod(ellps="WGS84")


def test_speed_presets_and_conversion() -> None:
    assert SPEEDS_KMH == {"walk": 4.5, "ebike": 15.0}
    assert minutes_to_metres(15, "ebike") == pytest.approx(3750.0)
    assert minutes_to_metres(10, "walk") == pytest.approx(750.0)
    assert minutes_to_metres(6, 20) == pytest.approx(2000.0)
    assert minutes_to_metres(6, "E-Bike") == pytest.approx(1500.0)


@pytest.mark.parametrize(
    ("minutes", "speed", "field"),
    [(0, "walk", "minutes"), (-3, "walk", "minutes"), (5, "rocket", "speed"), (5, 0, "speed")],
)
def test_bad_minutes_or_speed(minutes: float, speed: object, field: str) -> None:
    with pytest.raises(GeodataError) as err:
        minutes_to_metres(minutes, speed)  # type: ignore[arg-type]
    assert err.value.field == field


@pytest.mark.parametrize("radius", [0, -1.0, float("nan"), True, None])
def test_bad_radius(radius: object) -> None:
    with pytest.raises(GeodataError) as err:
        as_reach(radius)  # type: ignore[arg-type]
    assert err.value.field == "radius_m"
    if radius is not None and radius is not True:
        with pytest.raises(GeodataError):
            straight_line(radius)  # type: ignore[arg-type]


def test_utm_zone_choice() -> None:
    assert utm_crs_for(box(116.4, 39.7, 116.7, 39.9)).to_epsg() == 32650
    assert utm_crs_for(151.2, -33.9).to_epsg() == 32756  # Sydney
    assert utm_crs_for(-0.1, 51.5).to_epsg() == 32630  # London
    with pytest.raises(GeodataError):
        utm_crs_for(0.0, 89.0)
    with pytest.raises(GeodataError):
        utm_crs_for(shapely.Polygon())


def test_metric_round_trip_and_scale_factor() -> None:
    poly = box(116.4, 39.7, 116.7, 39.9)
    crs = utm_crs_for(poly)
    back = from_metric(to_metric(poly, crs), crs)
    assert back.symmetric_difference(poly).area < 1e-12
    # UTM zone 50's central meridian is 117°E: the scale factor there is 0.9996
    assert scale_factor(crs, 117.0, 39.8) == pytest.approx(0.9996, abs=1e-7)


def test_ecef_chord_never_exceeds_the_geodesic() -> None:
    rng = np.random.default_rng(4)
    lon1, lat1 = rng.uniform(-180, 180, 500), rng.uniform(-85, 85, 500)
    lon2, lat2 = lon1 + rng.normal(0, 0.05, 500), lat1 + rng.normal(0, 0.05, 500)
    lon2 = np.clip(lon2, -180, 180)
    lat2 = np.clip(lat2, -90, 90)
    chord = np.linalg.norm(to_ecef(lon1, lat1) - to_ecef(lon2, lat2), axis=1)
    _, _, geo = GEOD.inv(lon1, lat1, lon2, lat2)
    assert (chord <= geo + 1e-6).all()
    assert np.max((geo - chord) / np.maximum(geo, 1)) < 1e-6


@dataclass(frozen=True)
class NorthOnly:
    """A toy non-circular model: people walk only northwards to a station (up to radius)."""

    radius_m: float

    @property
    def search_radius_m(self) -> float:
        return self.radius_m

    def reachable(
        self,
        site_lon: NDArray[np.float64],
        site_lat: NDArray[np.float64],
        point_lon: NDArray[np.float64],
        point_lat: NDArray[np.float64],
    ) -> NDArray[np.bool_]:
        _, _, d = GEOD.inv(site_lon, site_lat, point_lon, point_lat)
        return (np.asarray(d) <= self.radius_m) & (np.asarray(point_lat) <= site_lat)

    def reach_region(
        self,
        site_lon: NDArray[np.float64],
        site_lat: NDArray[np.float64],
        clip: BaseGeometry,
        crs: CRS,
    ) -> BaseGeometry:
        x, y = lonlat_to_metric(site_lon, site_lat, crs)
        halves = [
            shapely.Point(a, b)
            .buffer(self.radius_m)
            .intersection(box(a - self.radius_m, b - self.radius_m, a + self.radius_m, b))
            for a, b in zip(x, y, strict=True)
        ]
        return shapely.union_all(halves).intersection(clip)

    def covered_area_m2(
        self,
        site_lon: NDArray[np.float64],
        site_lat: NDArray[np.float64],
        clip: BaseGeometry,
        crs: CRS,
    ) -> float:
        return float(self.reach_region(site_lon, site_lat, clip, crs).area)


def test_a_custom_reach_model_plugs_into_coverage_and_planning() -> None:
    model = NorthOnly(600.0)
    assert isinstance(model, Reach)
    rng = np.random.default_rng(9)
    area = box(116.50, 39.78, 116.53, 39.80)
    slon, slat = rng.uniform(116.5, 116.53, 5), rng.uniform(39.78, 39.8, 5)
    demand = Demand(rng.uniform(116.5, 116.53, 300), rng.uniform(39.78, 39.8, 300), np.ones(300))
    got = covered_mask(model, slon, slat, demand.lon, demand.lat)
    sl, pl = np.meshgrid(slon, demand.lon, indexing="ij")
    sa, pa = np.meshgrid(slat, demand.lat, indexing="ij")
    _, _, d = GEOD.inv(sl, sa, pl, pa)
    want = ((d <= 600.0) & (pa <= sa)).any(axis=0)
    assert got.tolist() == want.tolist()
    res = coverage(area, slon, slat, demand, model)
    circle = coverage(area, slon, slat, demand, 600.0)
    assert res.covered_weight == want.sum() < circle.covered_weight
    assert res.covered_area_share < circle.covered_area_share
    plan = plan_sites(demand, slon, slat, [116.515, 116.52], [39.79, 39.795], model, 1)
    assert plan.sites and plan.covered_weight > res.covered_weight
