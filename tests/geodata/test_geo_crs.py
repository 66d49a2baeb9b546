"""WGS-84 / GCJ-02 / BD-09 conversions against published values and round-trip properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geodata import crs
from geodata.distance import geodesic_m
from geodata.errors import GeodataError

# The China box shrunk by 0.02° (~2 km): GCJ-02 shifts points by up to ~700 m, so a point
# right on the edge of the box can be shifted across it, where no exact inverse exists.
INNER_LON = st.floats(72.004 + 0.02, 137.8347 - 0.02)
INNER_LAT = st.floats(0.8293 + 0.02, 55.8271 - 0.02)
WORLD_LON = st.floats(-180.0, 180.0)
WORLD_LAT = st.floats(-90.0, 90.0)

ONE_MM = 1e-3


# -- published reference values ------------------------------------------------------------

# wandergis/coordtransform README.md, "result" block for input (116.404, 39.915).
COORDTRANSFORM_INPUT = (116.404, 39.915)
COORDTRANSFORM_WGS84_TO_GCJ02 = (116.41024449916938, 39.91640428150164)
COORDTRANSFORM_GCJ02_TO_BD09 = (116.41036949371029, 39.92133699351021)
# These two are coordtransform's one-step inverses, which the iterative ones refine.
COORDTRANSFORM_BD09_TO_GCJ02 = (116.39762729119315, 39.90865673957631)
COORDTRANSFORM_GCJ02_TO_WGS84 = (116.39775550083061, 39.91359571849836)

# googollee/eviltransform python/test.py TESTS, as (wgs lat, wgs lng, gcj lat, gcj lng).
EVILTRANSFORM_WGS_GCJ = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # Shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # Shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # Beijing
]
# googollee/eviltransform python/test.py TESTS_bd, as (bd lat, bd lng, wgs lat, wgs lng):
# produced by its non-standard BD-09 handling, 10–42 m from the standard formula.
EVILTRANSFORM_BD_WGS = [
    (29.199786, 120.019809, 29.196131605295484, 120.00877901149691),
    (29.210504, 120.036455, 29.206795749156136, 120.0253853970846),
]


def test_wgs84_to_gcj02_matches_coordtransform() -> None:
    assert crs.wgs84_to_gcj02(*COORDTRANSFORM_INPUT) == pytest.approx(
        COORDTRANSFORM_WGS84_TO_GCJ02, abs=1e-9
    )


def test_gcj02_to_bd09_matches_coordtransform() -> None:
    assert crs.gcj02_to_bd09(*COORDTRANSFORM_INPUT) == pytest.approx(
        COORDTRANSFORM_GCJ02_TO_BD09, abs=1e-9
    )


@pytest.mark.parametrize(
    ("inverse", "forward", "one_step"),
    [
        (crs.bd09_to_gcj02, crs.gcj02_to_bd09, COORDTRANSFORM_BD09_TO_GCJ02),
        (crs.gcj02_to_wgs84, crs.wgs84_to_gcj02, COORDTRANSFORM_GCJ02_TO_WGS84),
    ],
)
def test_iterative_inverses_refine_coordtransform_one_step(inverse, forward, one_step) -> None:
    exact = inverse(*COORDTRANSFORM_INPUT)
    # Centimetres from the one-step answer here, and unlike it, exact under the forward map.
    assert geodesic_m(*exact, *one_step) < 0.1
    assert forward(*exact) == pytest.approx(COORDTRANSFORM_INPUT, abs=1e-11)
    assert geodesic_m(*forward(*one_step), *COORDTRANSFORM_INPUT) > 0.01


@pytest.mark.parametrize(("wgs_lat", "wgs_lng", "gcj_lat", "gcj_lng"), EVILTRANSFORM_WGS_GCJ)
def test_wgs84_to_gcj02_matches_eviltransform(wgs_lat, wgs_lng, gcj_lat, gcj_lng) -> None:
    assert crs.wgs84_to_gcj02(wgs_lng, wgs_lat) == pytest.approx((gcj_lng, gcj_lat), abs=1e-9)


@pytest.mark.parametrize(("wgs_lat", "wgs_lng", "gcj_lat", "gcj_lng"), EVILTRANSFORM_WGS_GCJ)
def test_gcj02_to_wgs84_inverts_eviltransform_vectors(wgs_lat, wgs_lng, gcj_lat, gcj_lng) -> None:
    assert geodesic_m(*crs.gcj02_to_wgs84(gcj_lng, gcj_lat), wgs_lng, wgs_lat) < ONE_MM


@pytest.mark.parametrize(("bd_lat", "bd_lng", "wgs_lat", "wgs_lng"), EVILTRANSFORM_BD_WGS)
def test_bd09_is_the_standard_formula_not_eviltransforms(bd_lat, bd_lng, wgs_lat, wgs_lng) -> None:
    off = geodesic_m(*crs.bd09_to_wgs84(bd_lng, bd_lat), wgs_lng, wgs_lat)
    assert 5.0 < off < 50.0


def test_aliyun_transfercoord_example() -> None:
    # Alibaba Cloud address-purification "TransferCoord" API reference, sample response for
    # GCJ02 "120.026268,30.279164": BD09 "120.032768,30.285238", WGS84 "120.021519,30.281543".
    gcj = (120.026268, 30.279164)
    assert crs.gcj02_to_bd09(*gcj) == pytest.approx((120.032768, 30.285238), abs=6e-7)
    # Aliyun's WGS84 is the one-step shortcut (1.7 m off here); ours maps back exactly.
    wgs = crs.gcj02_to_wgs84(*gcj)
    assert 1.0 < geodesic_m(*wgs, 120.021519, 30.281543) < 3.0
    assert crs.wgs84_to_gcj02(*wgs) == pytest.approx(gcj, abs=1e-11)


def test_deviation_service_example() -> None:
    # map.yiweihang.com "SE_SH" offset service documentation: 116.36657,39.95094 -> 116.372789,39.952320.
    assert crs.wgs84_to_gcj02(116.36657, 39.95094) == pytest.approx(
        (116.372789, 39.952320), abs=6e-7
    )


def test_shift_around_beijing_is_100_to_700_m() -> None:
    lon, lat = np.meshgrid(np.linspace(115.4, 117.5, 30), np.linspace(39.4, 41.1, 30))
    shift = geodesic_m(lon, lat, *crs.wgs84_to_gcj02(lon, lat))
    assert shift.min() > 100.0
    assert shift.max() < 700.0


# -- round trips ----------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(INNER_LON, INNER_LAT)
def test_wgs_gcj_wgs_round_trip_under_1_mm(lon: float, lat: float) -> None:
    assert geodesic_m(*crs.gcj02_to_wgs84(*crs.wgs84_to_gcj02(lon, lat)), lon, lat) < ONE_MM


@settings(max_examples=300, deadline=None)
@given(INNER_LON, INNER_LAT)
def test_gcj_wgs_gcj_round_trip_under_1_mm(lon: float, lat: float) -> None:
    assert geodesic_m(*crs.wgs84_to_gcj02(*crs.gcj02_to_wgs84(lon, lat)), lon, lat) < ONE_MM


@settings(max_examples=300, deadline=None)
@given(INNER_LON, INNER_LAT)
def test_wgs_bd_wgs_round_trip_under_1_mm(lon: float, lat: float) -> None:
    assert geodesic_m(*crs.bd09_to_wgs84(*crs.wgs84_to_bd09(lon, lat)), lon, lat) < ONE_MM


@settings(max_examples=300, deadline=None)
@given(WORLD_LON, st.floats(-89.0, 89.0))
def test_gcj_bd_gcj_round_trip_under_1_mm_anywhere(lon: float, lat: float) -> None:
    assert geodesic_m(*crs.bd09_to_gcj02(*crs.gcj02_to_bd09(lon, lat)), lon, lat) < ONE_MM


def test_round_trip_over_china_grid_vectorised() -> None:
    lon, lat = np.meshgrid(np.linspace(72.03, 137.8, 200), np.linspace(0.85, 55.8, 200))
    back = crs.gcj02_to_wgs84(*crs.wgs84_to_gcj02(lon, lat))
    assert geodesic_m(*back, lon, lat).max() < ONE_MM
    back_bd = crs.bd09_to_wgs84(*crs.wgs84_to_bd09(lon, lat))
    assert geodesic_m(*back_bd, lon, lat).max() < ONE_MM


# -- outside China ----------------------------------------------------------------------------


OUTSIDE = st.tuples(WORLD_LON, WORLD_LAT).filter(lambda p: bool(crs.out_of_china(*p)))


@settings(max_examples=300, deadline=None)
@given(OUTSIDE)
def test_outside_china_gcj02_is_identity_both_ways(point: tuple[float, float]) -> None:
    assert crs.wgs84_to_gcj02(*point) == point
    assert crs.gcj02_to_wgs84(*point) == point


@pytest.mark.parametrize(
    ("lon", "lat"),
    [
        (139.767, 35.681),  # Tokyo: prcoords' iterative inverse moves it by kilometres
        (-0.1276, 51.5072),  # London
        (72.0039, 30.0),  # just west of the box
        (100.0, 55.8272),  # just north of the box
        (0.0, 0.0),
    ],
)
def test_inverses_never_move_points_outside_the_box(lon: float, lat: float) -> None:
    assert crs.out_of_china(lon, lat)
    assert crs.gcj02_to_wgs84(lon, lat) == (lon, lat)
    assert crs.bd09_to_wgs84(*crs.wgs84_to_bd09(lon, lat)) == pytest.approx((lon, lat), abs=1e-11)


def test_the_box_is_rough_seoul_is_inside_it() -> None:
    # Every public implementation uses this rough box, so Seoul is shifted like Beijing.
    assert not crs.out_of_china(126.978, 37.566)
    assert geodesic_m(*crs.wgs84_to_gcj02(126.978, 37.566), 126.978, 37.566) > 100.0


def test_out_of_china_box_edges_are_inside() -> None:
    lon = np.array([72.004, 137.8347, 100.0, 100.0, 72.0039, 137.8348, 100.0, 100.0, np.nan])
    lat = np.array([30.0, 30.0, 0.8293, 55.8271, 30.0, 30.0, 0.8292, 55.8272, 30.0])
    expected = [False, False, False, False, True, True, True, True, True]
    assert crs.out_of_china(lon, lat).tolist() == expected
    assert crs.out_of_china(116.4, 39.9) is False


# -- arrays and scalars ---------------------------------------------------------------------

FUNCTIONS = [
    crs.wgs84_to_gcj02,
    crs.gcj02_to_wgs84,
    crs.gcj02_to_bd09,
    crs.bd09_to_gcj02,
    crs.wgs84_to_bd09,
    crs.bd09_to_wgs84,
]


@pytest.mark.parametrize("convert", FUNCTIONS, ids=lambda f: f.__name__)
def test_arrays_agree_with_scalars(convert) -> None:
    rng = np.random.default_rng(7)
    lon = np.concatenate([rng.uniform(73, 135, 40), rng.uniform(-180, 180, 10)])
    lat = np.concatenate([rng.uniform(4, 53, 40), rng.uniform(-80, 80, 10)])
    out_lon, out_lat = convert(lon, lat)
    assert isinstance(out_lon, np.ndarray) and out_lon.shape == lon.shape
    for i in range(lon.size):
        s_lon, s_lat = convert(float(lon[i]), float(lat[i]))
        assert type(s_lon) is float and type(s_lat) is float
        assert s_lon == pytest.approx(out_lon[i], abs=1e-12)
        assert s_lat == pytest.approx(out_lat[i], abs=1e-12)


@pytest.mark.parametrize("convert", FUNCTIONS, ids=lambda f: f.__name__)
def test_shapes_broadcast_and_inputs_are_not_modified(convert) -> None:
    lon = np.array([[116.40, 116.41], [116.42, 116.43]])
    lat = np.array([39.90, 39.91])
    lon_before, lat_before = lon.copy(), lat.copy()
    out_lon, out_lat = convert(lon, lat)
    assert out_lon.shape == out_lat.shape == (2, 2)
    assert np.array_equal(lon, lon_before) and np.array_equal(lat, lat_before)
    list_lon, _ = convert([116.40, 116.41], [39.90, 39.91])
    assert isinstance(list_lon, np.ndarray)


def test_nan_propagates() -> None:
    lon, lat = crs.gcj02_to_wgs84(np.array([np.nan, 116.4]), np.array([39.9, 39.9]))
    assert np.isnan(lon[0]) and np.isfinite(lon[1]) and np.isfinite(lat).all()


# -- the edge functions -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "to", "back"),
    [
        ("gcj02", crs.gcj02_to_wgs84, crs.wgs84_to_gcj02),
        ("bd09", crs.bd09_to_wgs84, crs.wgs84_to_bd09),
    ],
)
def test_to_and_from_wgs84_dispatch(name, to, back) -> None:
    lon = np.array([116.40, 121.47])
    lat = np.array([39.90, 31.23])
    assert np.array_equal(crs.to_wgs84(lon, lat, name)[0], to(lon, lat)[0])
    assert np.array_equal(crs.from_wgs84(lon, lat, name)[1], back(lon, lat)[1])
    assert crs.to_wgs84(116.4, 39.9, name.upper()) == to(116.4, 39.9)


def test_wgs84_is_identity_and_returns_copies() -> None:
    lon = np.array([116.4])
    lat = np.array([39.9])
    out_lon, out_lat = crs.to_wgs84(lon, lat, "wgs84")
    out_lon[0] = 0.0
    assert lon[0] == 116.4 and out_lat[0] == 39.9
    assert crs.from_wgs84(116.4, 39.9, " WGS84 ") == (116.4, 39.9)


@pytest.mark.parametrize("bad", ["epsg:4326", "gcj-02", "", None, 4326])
def test_unknown_crs_is_rejected_with_valid_names(bad) -> None:
    for convert in (crs.to_wgs84, crs.from_wgs84):
        with pytest.raises(GeodataError) as info:
            convert(116.4, 39.9, bad)
        assert info.value.field == "crs"
        assert all(name in str(info.value) for name in crs.CRS_NAMES)


def test_crs_name_is_the_one_check_and_names_field_and_choices_in_both_languages() -> None:
    assert crs.crs_name(" GCJ02 ") == "gcj02" and crs.crs_name("bd09", field="--crs") == "bd09"
    with pytest.raises(GeodataError) as info:
        crs.crs_name("gcj-02", field="area_crs")
    assert info.value.field == "area_crs"
    # The message is a catalog id with its parameters (stations renders it in Chinese).
    assert info.value.msgid == "unknown crs {shown}: expected one of {names}"
    assert info.value.params["shown"] == "'gcj-02'"
    text = str(info.value)
    assert "'gcj-02'" in text and all(name in text for name in crs.CRS_NAMES)


def test_bbox_to_wgs84_converts_both_corners_and_keeps_wgs84_boxes() -> None:
    box = (116.3, 39.7, 116.6, 39.9)
    assert crs.bbox_to_wgs84(box, "wgs84") == box
    for name in ("gcj02", "bd09"):
        west, south = crs.to_wgs84(box[0], box[1], name)
        east, north = crs.to_wgs84(box[2], box[3], name)
        out = crs.bbox_to_wgs84(box, name)
        assert out == (west, south, east, north)
        assert all(type(v) is float for v in out) and out != box
    with pytest.raises(GeodataError) as info:
        crs.bbox_to_wgs84(box, "mars")
    assert info.value.field == "crs"


def test_incompatible_shapes_are_rejected() -> None:
    with pytest.raises(GeodataError) as info:
        crs.wgs84_to_gcj02(np.zeros(3) + 116.0, np.zeros(2) + 39.0)
    assert info.value.field == "lon"
