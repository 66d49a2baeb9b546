"""Geodesic metres on WGS-84 against GeographicLib's and geopy's published and live values."""

from __future__ import annotations

import numpy as np
import pytest
from geographiclib.geodesic import Geodesic
from geopy.distance import geodesic as geopy_geodesic
from hypothesis import given, settings
from hypothesis import strategies as st

from geodata.distance import WGS84_GEOD, geodesic_m
from geodata.errors import GeodataError

MILE_M = 1609.344

LON = st.floats(-180.0, 180.0)
LAT = st.floats(-90.0, 90.0)


def test_geographiclib_documented_wellington_to_salamanca() -> None:
    # GeographicLib Python docs, "Basic geodesic calculations": s12 = 19959679.26735382 m.
    assert geodesic_m(174.81, -41.32, -5.50, 40.96) == pytest.approx(19959679.26735382, abs=1e-6)


def test_geographiclib_documented_jfk_to_heathrow() -> None:
    # GeographicLib docs example JFK (40.6N, 73.8W) to LHR (51.6N, 0.5W): 5551.759400 km.
    assert geodesic_m(-73.8, 40.6, -0.5, 51.6) == pytest.approx(5551759.400318679, abs=1e-6)


def test_geopy_documented_newport_to_cleveland() -> None:
    # geopy docs: geodesic(newport_ri, cleveland_oh).miles == 538.390445368
    miles = geodesic_m(-71.312796, 41.49008, -81.695391, 41.499498) / MILE_M
    assert miles == pytest.approx(538.390445368, abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(LON, LAT, LON, LAT)
def test_matches_geographiclib(lon1: float, lat1: float, lon2: float, lat2: float) -> None:
    expected = Geodesic.WGS84.Inverse(lat1, lon1, lat2, lon2)["s12"]
    assert geodesic_m(lon1, lat1, lon2, lat2) == pytest.approx(expected, abs=1e-6)


@settings(max_examples=50, deadline=None)
@given(
    st.floats(115.4, 117.5), st.floats(39.4, 41.1), st.floats(115.4, 117.5), st.floats(39.4, 41.1)
)
def test_matches_geopy_around_beijing(lon1: float, lat1: float, lon2: float, lat2: float) -> None:
    expected = geopy_geodesic((lat1, lon1), (lat2, lon2)).meters
    assert geodesic_m(lon1, lat1, lon2, lat2) == pytest.approx(expected, abs=1e-6)


def test_one_point_broadcasts_against_arrays() -> None:
    lons = np.array([116.40, 116.50, 116.60])
    lats = np.array([39.90, 40.00, 40.10])
    out = geodesic_m(116.4, 39.9, lons, lats)
    assert isinstance(out, np.ndarray) and out.dtype == np.float64 and out.shape == (3,)
    assert out[0] == 0.0
    for i in range(3):
        assert out[i] == geodesic_m(116.4, 39.9, float(lons[i]), float(lats[i]))
    matrix = geodesic_m(lons[:, None], lats[:, None], lons[None, :], lats[None, :])
    assert matrix.shape == (3, 3)
    assert np.allclose(matrix, matrix.T, atol=1e-6)


def test_scalar_input_gives_float_and_inputs_stay_untouched() -> None:
    assert type(geodesic_m(116.4, 39.9, 116.5, 40.0)) is float
    lons = np.array([116.5, 116.6])
    lats = np.array([40.0, 40.1])
    geodesic_m(116.4, 39.9, lons, lats)
    assert lons.tolist() == [116.5, 116.6] and lats.tolist() == [40.0, 40.1]


def test_antimeridian_and_poles() -> None:
    assert geodesic_m(179.9999, 0.0, -179.9999, 0.0) == pytest.approx(22.26389, abs=1e-4)
    # Pole to pole along a meridian: twice the WGS-84 quarter meridian (10001965.729 m).
    assert geodesic_m(0.0, 90.0, 123.0, -90.0) == pytest.approx(2 * 10001965.729, abs=1e-3)


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ((np.nan, 39.9, 116.5, 40.0), "lon1"),
        ((116.4, 90.5, 116.5, 40.0), "lat1"),
        ((116.4, 39.9, 541.0, 40.0), "lon2"),
        ((116.4, 39.9, 116.5, [40.0, np.inf]), "lat2"),
        ((116.4, 39.9, [116.5, 116.6, 116.7], [40.0, 40.1]), "lon1"),
    ],
)
def test_bad_input_names_the_argument(args, field) -> None:
    with pytest.raises(GeodataError) as info:
        geodesic_m(*args)
    assert info.value.field == field


def test_one_pair_is_bit_identical_to_pyproj() -> None:
    """The compiled one-pair path against its reference, ``WGS84_GEOD.inv``: random pairs
    near and far, on the poles, the antimeridian, antipodes and past ±180 longitude."""
    rng = np.random.default_rng(16)
    lon = rng.uniform(-540.0, 540.0, (4000, 2))
    lat = rng.uniform(-90.0, 90.0, (4000, 2))
    near = rng.uniform(-0.01, 0.01, (4000, 2))
    pairs = [(a, b, c, d) for (a, c), (b, d) in zip(lon, lat, strict=True)]
    pairs += [
        (a, b, a + dx, max(-90.0, min(90.0, b + dy)))
        for (a, _), (b, _), (dx, dy) in zip(lon, lat, near, strict=True)
    ]
    pairs += [
        (0.0, 90.0, 0.0, -90.0),
        (180.0, 0.0, -180.0, 0.0),
        (0.0, 0.0, 180.0, 0.0),
        (0.0, 0.5, 179.5, -0.5),
        (116.4, 39.9, 116.4, 39.9),
        (-540.0, -90.0, 540.0, 90.0),
        (10.0, 0.0, 10.0, 0.0),
    ]
    for a, b, c, d in pairs:
        a, b, c, d = float(a), float(b), float(c), float(d)
        assert geodesic_m(a, b, c, d) == WGS84_GEOD.inv(a, b, c, d)[2], (a, b, c, d)
