"""``stations coverage | gaps | plan``: the analysis commands end to end on a real store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from cli import main
from stations.demo import load_demo
from stations.store.sql import SqlStationStore


@pytest.fixture
def demo_url(store_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    store = SqlStationStore(store_url)
    try:
        load_demo(store)
    finally:
        store.close()
    monkeypatch.setenv("STATIONS_DATABASE_URL", store_url)
    return store_url


def test_coverage_gaps_and_plan(
    demo_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["coverage", "--json"])
    coverage = json.loads(capsys.readouterr().out)
    assert coverage["radius_m"] == 500.0 and 0 < coverage["covered_area_share"] < 1
    assert coverage["reach"] == {"kind": "straight_line", "radius_m": 500.0}
    assert 0 < coverage["double_covered_weight_share"] < coverage["covered_weight_share"]
    main(["gaps", "--json", "--top", "3"])
    gaps = json.loads(capsys.readouterr().out)
    assert 1 <= len(gaps["gaps"]) <= 3 and gaps["number_matched"] > 3
    # the demo's uncovered land comes out as ranked pieces of at most 1 km²
    assert all(g["area_km2"] <= 1.0 for g in gaps["gaps"])
    out = tmp_path / "plan.xlsx"
    # uniform demand: every site would add well under 1 % — none is proposed, and it says why
    main(["plan", "--new-sites", "5", "--json"])
    plan = json.loads(capsys.readouterr().out)
    assert plan["sites"] == [] and plan["negligible_sites"] == 5
    text = " ".join(plan["explanation_zh"])
    assert "1%" in text and "均匀" in text and "km²" in text and "H3" not in text
    main(["plan", "--new-sites", "2", "--min-gain", "0", "--json", "-o", str(out)])
    plan = json.loads(capsys.readouterr().out)
    assert len(plan["sites"]) == 2 and plan["sites"][0]["label"].startswith("候选点 ")
    assert len(load_workbook(out).sheetnames) >= 2  # summary and ranked sites at least


def test_double15_at_a_time_and_what_if(
    demo_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["coverage", "--rule", "double15", "--json"])
    rule = json.loads(capsys.readouterr().out)
    assert rule["reach"] == {"kind": "straight_line", "radius_m": 1000.0}  # no network given
    main(["coverage", "--json"])
    base = json.loads(capsys.readouterr().out)
    some = base["stations"][0]
    main(["coverage", "--json", "--close", str(some["id"])])
    fewer = json.loads(capsys.readouterr().out)
    assert fewer["n_stations"] == base["n_stations"] - 1
    assert fewer["closed_what_if"] == [some["id"]]
    assert fewer["covered_weight"] == pytest.approx(
        base["covered_weight"] - some["criticality 关键度（仅本站覆盖）"]
    )
    main(["coverage", "--json", "--close-host-type", "bank"])
    banks = json.loads(capsys.readouterr().out)
    assert banks["closed_what_if"]
    main(["coverage", "--json", "--at", "2026-12-08T03:00"])
    night = json.loads(capsys.readouterr().out)
    assert night["at"].startswith("2026-12-08T03:00")
    assert (
        night["n_stations"] + len(night["closed_at_time"]) + len(night["unknown_hours"])
        == (base["n_stations"])
    )
    assert night["n_stations"] < base["n_stations"]
    with pytest.raises(SystemExit):
        main(["coverage", "--close", "no-such-station"])
    err = capsys.readouterr().err
    # Chinese first (the reason, then the header's title), the English after it.
    assert "错误 error: 输入有误 Validation failed" in err
    line = next(x for x in err.splitlines() if "no-such-station" in x)
    assert line.strip().startswith("close：没有编号或系统ID为“no-such-station”的驿站")
    assert "(close: no station has the id or external_id 'no-such-station'" in line
    main(["coverage", "--profile", "--json"])
    prof = json.loads(capsys.readouterr().out)["profile"]
    assert len(prof) == 24 and prof[3]["工作日 weekday 开放站数 open"] <= base["n_stations"]


def test_nearest_bad_amenity_is_an_error_naming_it(
    demo_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unknown amenity was a traceback; it is a field error like the API's, all at once."""
    with pytest.raises(SystemExit) as done:
        main(["nearest", "39.79", "116.5", "--amenity", "magic", "--amenity", "热水,wings"])
    assert done.value.code == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "'magic'" in err and "'wings'" in err
    assert "amenity" in err
    main(["nearest", "39.79", "116.5", "--amenity", "热水,charging", "--json"])
    found = json.loads(capsys.readouterr().out)["features"]
    assert found and all(
        {"hot_water", "charging"} <= set(f["properties"]["amenities"]) for f in found
    )


def test_the_shared_options_reach_every_analysis_command(
    demo_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The options declared once for coverage, gaps and plan arrive in each of them."""
    at = "2026-12-07T03:00:00+08:00"
    scope = ["--radius-m", "800", "--at", at, "--json"]
    main(["coverage", *scope])
    coverage = json.loads(capsys.readouterr().out)
    main(["gaps", *scope, "--max-gap-km2", "0.5"])
    gaps = json.loads(capsys.readouterr().out)
    main(["plan", "--new-sites", "1", "--min-gain", "0", *scope])
    plan = json.loads(capsys.readouterr().out)
    for body in (coverage, gaps, plan):
        assert body["reach"] == {"kind": "straight_line", "radius_m": 800.0}
        assert body["at"] == at
    assert gaps["gaps"] and all(g["area_km2"] <= 0.5 for g in gaps["gaps"])
    assert len(plan["sites"]) == 1


def test_a_bad_area_file_is_told_in_chinese_then_english(
    demo_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Staff pass their district's outline with --area: what is wrong with it, and in which
    file, reads Chinese first, then the same in English; no traceback."""
    broken = tmp_path / "district.geojson"
    broken.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    with pytest.raises(SystemExit) as done:
        main(["coverage", "--area", str(broken)])
    assert done.value.code == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    zh, _, en = err.partition(" / ")
    assert "district.geojson：不是有效的 GeoJSON" in zh
    assert "district.geojson: not valid GeoJSON" in en
    metres = tmp_path / "metres.geojson"
    ring = [[500000, 4400000], [501000, 4400000], [501000, 4401000], [500000, 4400000]]
    metres.write_text(json.dumps({"type": "Polygon", "coordinates": [ring]}), encoding="utf-8")
    with pytest.raises(SystemExit):
        main(["coverage", "--area", str(metres)])
    zh, _, en = capsys.readouterr().err.partition(" / ")
    assert "metres.geojson：区域坐标不是经纬度" in zh and "请注明它的坐标系" in zh
    assert en.startswith("metres.geojson: the area is not in lon/lat degrees")


def test_a_bad_network_file_is_told_in_chinese_then_english(
    demo_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A street network that is not an OpenStreetMap file: said in both languages."""
    wrong = tmp_path / "streets.csv"
    wrong.write_text("a,b\n", encoding="utf-8")
    with pytest.raises(SystemExit) as done:
        main(["coverage", "--minutes", "10", "--network", str(wrong)])
    assert done.value.code == 1
    zh, _, en = capsys.readouterr().err.partition(" / ")
    assert "streets.csv：街道网络必须是 OpenStreetMap 文件" in zh
    assert en.startswith("streets.csv: a street network must be an OpenStreetMap file")
