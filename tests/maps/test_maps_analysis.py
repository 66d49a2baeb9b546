"""Coverage and gap maps: from real geodata results to a page, in the basemap's CRS."""

from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import box, shape

from geodata.crs import from_wgs84
from geodata.demand import demand_points
from geodata.distance import geodesic_m
from maps.analysis_data import analysis_data
from maps.analysis_maps import CELL_COLOURS, analysis_map, demand_classes
from maps.basemaps import get_basemap
from stations.errors import ValidationFailed
from tests.maps.map_builders import STATIONS, Stores, json_blocks, make_store

AREA = box(116.48, 39.76, 116.54, 39.82)  # ~5 × 6.7 km around the test stations


@pytest.fixture(scope="module")
def stations(module_store_url: str) -> list:
    store = make_store(module_store_url)
    try:
        return store.all()
    finally:
        store.close()


def test_cells_carry_covered_flags_that_match_geodesic_distance(stations: list) -> None:
    data = analysis_data(stations, AREA, radius_m=600)
    feats = data.cells["features"]
    assert len(feats) > 100
    slon = np.array([s.data.lon for s in stations])
    slat = np.array([s.data.lat for s in stations])
    for f in feats[::7]:
        ring = np.array(f["geometry"]["coordinates"][0])
        cx, cy = ring[:-1, 0].mean(), ring[:-1, 1].mean()  # ≈ the cell centre
        d = geodesic_m(cx, cy, slon, slat).min()
        if abs(d - 600) > 30:  # away from the edge, the centre decides clearly
            assert f["properties"]["covered"] == (d <= 600)
    assert all(f["properties"]["weight"] == 1.0 for f in feats)  # uniform demand
    assert data.summary["n_stations"] == len(stations)
    assert 0 < data.summary["covered_weight_share"] < 1
    ranks = [g["properties"]["rank"] for g in data.gaps["features"]]
    assert ranks == list(range(1, len(ranks) + 1)) and ranks


def test_point_demand_is_summed_per_cell(stations: list) -> None:
    demand = demand_points([116.5068, 116.5068, 116.52], [39.7954, 39.7954, 39.79], [2.0, 3.0, 7.0])
    data = analysis_data(stations, AREA, demand=demand, radius_m=500)
    weights = sorted(
        f["properties"]["weight"] for f in data.cells["features"] if f["properties"]["weight"] > 0
    )
    assert weights == [5.0, 7.0]


def test_planner_sites_are_ranked_uncovered_and_raise_coverage(stations: list) -> None:
    data = analysis_data(stations, AREA, radius_m=500, new_sites=3)
    props = [f["properties"] for f in data.sites["features"]]
    assert [p["rank"] for p in props] == [1, 2, 3]
    slon = np.array([s.data.lon for s in stations])
    slat = np.array([s.data.lat for s in stations])
    for p in props:  # each suggestion lies where no station reaches
        assert geodesic_m(p["lon"], p["lat"], slon, slat).min() > 500
        assert p["added_weight"] > 0
        assert p["added_share"] == pytest.approx(p["added_weight"] / data.summary["total_weight"])
    shares = [p["cumulative_share"] for p in props]
    assert data.summary["covered_weight_share"] < shares[0] < shares[1] < shares[2]
    assert data.summary["covered_share_with_sites"] == pytest.approx(shares[-1])
    assert [f["properties"]["added_weight"] for f in data.sites["features"]] == sorted(
        (p["added_weight"] for p in props), reverse=True
    )


def test_sites_chosen_elsewhere_are_drawn_as_given(stations: list) -> None:
    sites = [
        {"lon": 116.49, "lat": 39.77, "marginal_gain": 30.0},
        {"lon": 116.53, "lat": 39.81, "marginal_gain": 12.0},
    ]
    data = analysis_data(stations, AREA, radius_m=500, sites=sites)
    props = [f["properties"] for f in data.sites["features"]]
    assert [(p["rank"], p["lon"], p["added_weight"]) for p in props] == [
        (1, 116.49, 30.0),
        (2, 116.53, 12.0),
    ]


def test_too_fine_a_grid_is_refused_with_advice(stations: list) -> None:
    with pytest.raises(ValidationFailed, match="coarser resolution"):
        analysis_data(stations, box(115.5, 39.4, 117.5, 41.0), resolution=10)


def test_demand_classes_by_terciles_and_uniform_demand_as_one_class() -> None:
    classes, breaks = demand_classes(np.array([0, 1, 2, 3, 4, 5, 6], float))
    assert classes.tolist() == [0, 1, 1, 2, 2, 3, 3] and len(breaks) == 2
    classes, breaks = demand_classes(np.array([0, 1, 1, 1], float))
    assert classes.tolist() == [0, 2, 2, 2] and breaks == []


@pytest.mark.parametrize("kind", ["coverage", "gaps"])
def test_amap_analysis_page_shifts_every_layer_and_osm_does_not(stations: list, kind: str) -> None:
    data = analysis_data(
        stations, AREA, radius_m=500, sites=[{"lon": 116.49, "lat": 39.77, "added_weight": 3.0}]
    )
    osm = json_blocks(analysis_map(kind, data, get_basemap("osm")).render())["ws-analysis"]
    amap = json_blocks(analysis_map(kind, data, get_basemap("amap")).render())["ws-analysis"]
    for part in ("area", "stations", "cells", "gaps", "sites"):
        o = np.array(_first_position(osm[part]))
        a = np.array(_first_position(amap[part]))
        np.testing.assert_allclose(o, _first_position(getattr(data, part)), atol=1e-6)
        np.testing.assert_allclose(a, from_wgs84(o[0], o[1], "gcj02"), atol=2e-6)


def _first_position(obj: dict) -> list[float]:
    geom = obj["features"][0]["geometry"] if obj.get("type") == "FeatureCollection" else obj
    c = geom["coordinates"]
    while isinstance(c[0], list | tuple):
        c = c[0]
    return [float(c[0]), float(c[1])]


def test_gap_page_leads_with_uncovered_cells_and_says_what_colours_mean(stations: list) -> None:
    data = analysis_data(stations, AREA, radius_m=500)
    html = analysis_map("gaps", data, get_basemap("osm")).render()
    blocks = json_blocks(html)
    layers = blocks["ws-analysis"]
    assert all(not f["properties"]["covered"] for f in layers["cells"]["features"])
    # The first 30 gaps get their rank label at a point inside them (more would clutter).
    labels = layers["gap_labels"]["features"]
    assert [f["properties"]["rank"] for f in labels] == [
        g["properties"]["rank"] for g in layers["gaps"]["features"][:30]
    ]
    for label, gap in zip(labels, data.gaps["features"][: len(labels)], strict=True):
        assert shape(gap["geometry"]).contains(shape(label["geometry"]))
    legend = blocks["ws-config"]["legend"]
    labels = [i["label"] for i in legend["items"]]
    assert any(lab.startswith("未覆盖网格") for lab in labels)
    assert not any(lab.startswith("已覆盖网格") for lab in labels)
    assert any(lab.startswith("空白区") for lab in labels)
    assert {i["color"] for i in legend["items"]} & set(CELL_COLOURS["uncovered"])
    assert any("测地距离 ≤ 500 m" in n for n in legend["notes"])
    cover = json_blocks(analysis_map("coverage", data, get_basemap("osm")).render())
    cover_labels = [i["label"] for i in cover["ws-config"]["legend"]["items"]]
    assert any(lab.startswith("已覆盖网格") for lab in cover_labels)
    assert any("覆盖圈" in lab for lab in cover_labels)
    with pytest.raises(ValueError, match="kind"):
        analysis_map("heat", data, get_basemap("osm"))


def test_station_names_in_analysis_pages_are_escaped(map_store: Stores) -> None:
    store = map_store([{**STATIONS[0], "name": "</script><img src=x>"}])
    html = analysis_map("coverage", analysis_data(store.all(), AREA), get_basemap("osm")).render()
    assert (
        "<img" not in html
        and "</script><"
        not in html.split("<body>")[1].split('id="ws-analysis">')[1].split("</script>")[0]
    )


def test_coverage_page_on_a_network_draws_street_reach(stations: list, tmp_path) -> None:
    from geodata.network.synthetic import river_grid

    lon, lat = stations[0].data.lon, stations[0].data.lat
    net = river_grid((lon - 0.003, lat - 0.003))  # the grid around the first station
    pbf = net.write(str(tmp_path / "streets.osm.pbf"))
    data = analysis_data(stations, AREA, radius_m=600, network=pbf, new_sites=0)
    assert data.reach_areas["features"]
    assert "路网" in data.reach_label and "streets.osm.pbf" in data.reach_label
    blocks = json_blocks(analysis_map("coverage", data, get_basemap("osm")).render())
    assert blocks["ws-analysis"]["reach_areas"]["features"]
    legend = blocks["ws-config"]["legend"]
    assert any("沿街" in item["label"] for item in legend["items"])
    assert any("路网" in note for note in legend["notes"])
    # the isochrone of a station lies within its straight-line circle
    first = shape(data.reach_areas["features"][0]["geometry"])
    ring = (
        np.asarray(first.exterior.coords)
        if first.geom_type == "Polygon"
        else np.asarray(first.geoms[0].exterior.coords)
    )
    d = geodesic_m(lon, lat, ring[:, 0], ring[:, 1])
    assert float(np.max(d)) <= 600 + 50 + 1  # reach plus the drawn street frontage
