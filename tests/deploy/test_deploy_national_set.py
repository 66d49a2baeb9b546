"""The synthetic national set used to size deployments (bench/national.py) is importable,
deterministic, clustered by population, and its rider points sit near stations."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from bench.national import (
    CITIES,
    allocate,
    national_stations,
    read_queries_csv,
    rider_queries,
    write_queries_csv,
    write_stations_csv,
)
from geodata.spatial_index import GeodesicIndex
from stations.io.importing import run_import
from stations.store.sql import SqlStationStore

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    return national_stations(3000, seed=11)


def test_allocation_is_exact_and_follows_population() -> None:
    counts = allocate(100_000)
    assert sum(counts) == 100_000
    assert len({c.code for c in CITIES}) == len(CITIES), "city codes must be unique"
    by_city = dict(zip((c.code for c in CITIES), counts, strict=True))
    population = {c.code: c.population_m for c in CITIES}
    # Shanghai (largest) gets the most, Lhasa (smallest) among the fewest, ratios kept.
    assert max(by_city, key=by_city.__getitem__) == "SH"
    assert by_city["SH"] / by_city["LS"] == pytest.approx(
        population["SH"] / population["LS"], rel=0.02
    )
    assert allocate(0) == [0] * len(CITIES)
    with pytest.raises(ValueError, match="n must be"):
        allocate(-1)


def test_same_seed_same_rows_other_seed_other_rows(rows: list[dict[str, str]]) -> None:
    assert national_stations(3000, seed=11) == rows
    assert national_stations(3000, seed=12) != rows


def test_rows_are_unique_plausible_and_clustered(rows: list[dict[str, str]]) -> None:
    assert len(rows) == 3000
    ids = [r["external_id"] for r in rows]
    assert len(set(ids)) == len(ids)
    prefixes = Counter(i.split("-")[0] for i in ids)
    assert prefixes["SH"] > prefixes["LS"] > 0
    lon = np.array([float(r["lon"]) for r in rows])
    lat = np.array([float(r["lat"]) for r in rows])
    # Every station lies within its city's cap (3.5 spreads) of the city centre.
    centre = {c.code: c for c in CITIES}
    for r, x, y in zip(rows, lon, lat, strict=True):
        city = centre[r["external_id"].split("-")[0]]
        dx = (x - city.lon) * 111.32 * np.cos(np.radians(city.lat))
        dy = (y - city.lat) * 110.574
        assert np.hypot(dx, dy) <= 3.5 * city.spread_km + 0.01, r
    # Mixes of host types, hours and statuses, like a real network.
    assert len({r["host_type"] for r in rows}) == 8
    assert Counter(r["status"] for r in rows)["open"] / len(rows) > 0.85
    assert len({r["opening_hours"] for r in rows}) >= 6


def test_the_csv_imports_without_a_single_invalid_row(
    rows: list[dict[str, str]], tmp_path: Path, store_url: str
) -> None:
    path = write_stations_csv(tmp_path / "national.csv", rows)
    store = SqlStationStore(store_url)
    try:
        report = run_import(store, path)
        assert (report.added, report.invalid) == (3000, 0)
        assert not report.warnings, report.warnings[:3]
        stored = {s.data.external_id: s for s in store.all()}
    finally:
        store.close()
    first = rows[0]
    station = stored[first["external_id"]]
    assert station.data.name == first["name"]
    assert station.data.amenities == tuple(first["amenities"].split(";"))
    assert station.data.lon == pytest.approx(float(first["lon"]), abs=1e-9)


def test_riders_ask_from_near_stations(rows: list[dict[str, str]], tmp_path: Path) -> None:
    points = rider_queries(rows, 500, seed=3)
    assert points.shape == (500, 2)
    back = read_queries_csv(write_queries_csv(tmp_path / "q.csv", points))
    np.testing.assert_array_equal(back, points)
    lon = np.array([float(r["lon"]) for r in rows])
    lat = np.array([float(r["lat"]) for r in rows])
    index = GeodesicIndex(np.arange(len(rows), dtype=np.int64), lon, lat)
    nearest = [float(index.nearest(x, y, 1)[1][0]) for x, y in points.tolist()]
    assert max(nearest) <= 5_100  # offsets are capped at 5 km (+ the degree approximation)
    assert np.median(nearest) < 1_500
    with pytest.raises(ValueError, match="no stations"):
        rider_queries([], 1)


def test_script_writes_both_files(tmp_path: Path) -> None:
    out, queries = tmp_path / "n.csv", tmp_path / "q.csv"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "make_national.py"),
            "-o",
            str(out),
            "--n",
            "200",
            "--queries",
            str(queries),
            "--n-queries",
            "50",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert len(out.read_text(encoding="utf-8").splitlines()) == 201
    assert read_queries_csv(queries).shape == (50, 2)
    bad = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "make_national.py"),
            "-o",
            str(tmp_path / "n.xlsx"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert bad.returncode == 2 and ".csv" in bad.stderr
