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
    main(["gaps", "--json", "--top", "3"])
    gaps = json.loads(capsys.readouterr().out)
    assert 1 <= len(gaps) <= 3
    out = tmp_path / "plan.xlsx"
    main(["plan", "--new-sites", "2", "--json", "-o", str(out)])
    plan = json.loads(capsys.readouterr().out)
    assert len(plan["sites"]) == 2 and plan["sites"][0]["label"].startswith("H3 ")
    assert len(load_workbook(out).sheetnames) >= 2  # summary and ranked sites at least


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
