"""Visits and searches as demand: spread around stations, counted per H3 cell, shown only
where at least five searches fell, and never a stored position."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import h3
import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect

from api.app import create_app
from geodata.distance import geodesic_m
from stations.errors import ValidationFailed
from stations.store.search_cells import SqlSearchCells
from stations.visits.demand import search_demand, visit_demand
from tests.api.staff_kit import test_settings
from tests.stations.visits.visit_kit import stations_with_visits

TODAY = date(2026, 11, 30)


def test_visits_spread_around_their_stations(store) -> None:
    visits, ids = stations_with_visits(store, 2)
    codes = visits.codes()
    for n in range(6):
        visits.check_in(
            codes[ids[0]], f"phone-{n:05d}", "delivery", at=datetime(2026, 11, 20, 3, tzinfo=UTC)
        )
    visits.set_tallies([(ids[1], date(2026, 11, 21), 4)], actor="clerk")
    demand = visit_demand(store, today=TODAY, resolution=9)
    assert demand.weight.sum() == pytest.approx(10)
    assert demand.weight.size > 2  # spread over cells, not put on two doors
    for sid in ids:
        s = store.get(sid)
        d = geodesic_m(
            np.full(demand.lon.size, s.lon), np.full(demand.lon.size, s.lat), demand.lon, demand.lat
        )
        assert np.min(d) < 200
    assert (
        np.max(
            geodesic_m(
                np.full(demand.lon.size, store.get(ids[0]).lon),
                np.full(demand.lon.size, store.get(ids[0]).lat),
                demand.lon,
                demand.lat,
            )
        )
        < 2500
    )
    with pytest.raises(ValidationFailed):
        visit_demand(store, today=date(2027, 6, 1), days=30)


def test_search_cells_shown_only_from_five(store) -> None:
    cells = SqlSearchCells(store.engine)
    busy = h3.latlng_to_cell(39.79, 116.50, 8)
    quiet = h3.latlng_to_cell(39.70, 116.40, 8)
    cells.add({(busy, date(2026, 11, 20)): 3, (quiet, date(2026, 11, 20)): 4})
    cells.add({(busy, date(2026, 11, 21)): 2})
    assert cells.cells(date(2026, 11, 1)) == [(busy, 5)]
    assert cells.cells(date(2026, 11, 1), min_count=1) == [(busy, 5)]  # never below five
    demand = search_demand(store, today=TODAY)
    assert demand.weight.tolist() == [5.0]
    assert h3.latlng_to_cell(float(demand.lat[0]), float(demand.lon[0]), 8) == busy


def test_nearest_queries_are_counted_by_cell_only(store: Any) -> None:
    stations_with_visits(store, 1)
    with TestClient(create_app(test_settings(), store=store)) as client:
        for _ in range(5):
            assert client.get("/api/v1/nearest?lat=39.7954&lon=116.5068").status_code == 200
        client.get("/api/v1/nearest?lat=39.6&lon=116.2")
        client.get("/api/v1/nearest?lat=abc&lon=116.2")  # refused by the route, not counted
    columns = {c["name"] for c in inspect(store.engine).get_columns("search_cells")}
    assert columns == {"cell", "day", "count"}
    shown = SqlSearchCells(store.engine).cells(date(2000, 1, 1))
    assert shown == [(h3.latlng_to_cell(39.7954, 116.5068, 8), 5)]
    assert (
        sum(n for _c, n in SqlSearchCells(store.engine).cells(date(2000, 1, 1), min_count=5)) == 5
    )


@pytest.mark.postgres
def test_search_counts_as_one_json_statement_match_the_plain_upsert(pg_schema_url: str) -> None:
    """A flush's one-statement PostgreSQL path adds exactly what the plain upsert adds: the
    same cells and days, repeats summed, across flushes (random counts, two schemas)."""
    from sqlalchemy import create_engine, text

    from stations.store.search_cells import add_json, add_plain
    from stations.store.sql import SqlStationStore

    rng = np.random.default_rng(8)
    cells = [h3.latlng_to_cell(39.7 + i / 500, 116.4 + i / 700, 8) for i in range(60)]
    days = [date(2026, 11, 20), date(2026, 11, 21), date(2026, 12, 31)]
    flushes = [
        {
            (cells[int(c)], days[int(d)]): int(n)
            for c, d, n in zip(
                rng.integers(0, 60, 80),
                rng.integers(0, 3, 80),
                rng.integers(1, 40, 80),
                strict=True,
            )
        }
        for _ in range(3)
    ]
    SqlStationStore(pg_schema_url).close()  # the schema's tables
    engine = create_engine(pg_schema_url)
    tables = {}
    try:
        for name, add in (("json", add_json), ("plain", add_plain)):
            with engine.begin() as conn:
                conn.execute(text("DELETE FROM search_cells"))
                for counts in flushes:
                    add(conn, counts)
                tables[name] = sorted(
                    conn.execute(text("SELECT cell, day, count FROM search_cells"))
                )
    finally:
        engine.dispose()
    expected: dict[tuple[str, date], int] = {}
    for counts in flushes:
        for key, n in counts.items():
            expected[key] = expected.get(key, 0) + n
    assert tables["json"] == tables["plain"]
    assert {(c, d): n for c, d, n in tables["json"]} == expected
