"""Coverage, gaps and planning wired to stored stations, and the staff report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from shapely.geometry import Point

from geodata.projection import from_metric, to_metric, utm_crs_for
from stations.analysis.report import write_report
from stations.analysis.service import Analysis, load_candidates, reach_metres
from stations.errors import ValidationFailed
from stations.store.sql import SqlStationStore
from tests.conftest import make_station

CENTRE = (116.52, 39.79)


def _disc(radius_m: float) -> object:
    crs = utm_crs_for(*CENTRE)
    return from_metric(to_metric(Point(*CENTRE), crs).buffer(radius_m, 256), crs)


def test_only_open_stations_cover(store_url: str) -> None:
    store = SqlStationStore(store_url)
    store.create(make_station(lon=CENTRE[0], lat=CENTRE[1], status="temporarily_closed"), actor="t")
    area = _disc(2000)
    closed_only = Analysis.for_stations(store.all(), area=area, radius_m=500)
    assert closed_only.coverage().covered_weight_share == 0
    store.create(make_station(lon=CENTRE[0], lat=CENTRE[1]), actor="t")
    both = Analysis.for_stations(store.all(), area=area, radius_m=500)
    share = both.coverage().covered_area_share
    assert share == pytest.approx((500 / 2000) ** 2, rel=0.01)
    store.close()


def test_plan_picks_the_far_cluster_and_reports(tmp_path: Path, store_url: str) -> None:
    store = SqlStationStore(store_url)
    store.create(make_station(lon=CENTRE[0], lat=CENTRE[1]), actor="t")
    area = _disc(3000)
    a = Analysis.for_stations(store.all(), area=area, radius_m=500, resolution=9)
    cands_csv = tmp_path / "cands.csv"
    # candidate 1 sits on the existing station (adds nothing), candidate 2 far away
    cands_csv.write_text(
        "名称,经度,纬度\n银行甲,116.52,39.79\n便利店乙,116.54,39.80\n", encoding="utf-8"
    )
    cands = load_candidates(cands_csv)
    plan, used = a.plan(1, cands)
    assert used.labels[plan.sites[0].candidate_index] == "便利店乙"
    assert plan.sites[0].marginal_gain > 0
    with pytest.raises(ValidationFailed, match="only 2 candidates"):
        a.plan(3, cands)
    report = write_report(tmp_path / "r.xlsx", a, plan=plan, cands=used, kind="plan")
    wb = load_workbook(report)
    assert wb.sheetnames[:2] == ["摘要 summary", "新增站点 sites"]
    assert wb["新增站点 sites"]["B2"].value == "便利店乙"
    gj = json.loads(write_report(tmp_path / "g.geojson", a, kind="gaps").read_text("utf-8"))
    assert gj["features"] and gj["features"][0]["properties"]["rank"] == 1
    store.close()


def test_min_sites_reaches_target(store_url: str) -> None:
    store = SqlStationStore(store_url)
    a = Analysis.for_stations(store.all(), area=_disc(1500), radius_m=600, resolution=9)
    plan, _ = a.min_sites(0.9)
    assert plan.covered_share >= 0.9 and len(plan.sites) >= 2
    store.close()


def test_reach_from_minutes_and_bad_values() -> None:
    assert reach_metres(minutes=10, speed="ebike") == pytest.approx(2500)
    assert reach_metres(minutes=2, speed="walk") == pytest.approx(150)
    with pytest.raises(ValidationFailed):
        reach_metres(radius_m=0)
    with pytest.raises(ValidationFailed):
        reach_metres(radius_m=100, minutes=3)


def test_resolution_guard_refuses_huge_grids(store_url: str) -> None:
    store = SqlStationStore(store_url)
    a = Analysis.for_stations(store.all(), area=_disc(60_000), radius_m=500, resolution=11)
    with pytest.raises(ValidationFailed, match="resolution"):
        a.coverage()
    store.close()


def test_bad_candidate_rows_are_named(tmp_path: Path) -> None:
    f = tmp_path / "c.csv"
    f.write_text("name,lon,lat\nok,116.5,39.8\nbad,abc,39.8\n", encoding="utf-8")
    with pytest.raises(ValidationFailed) as info:
        load_candidates(f)
    assert info.value.errors[0].row == 3
