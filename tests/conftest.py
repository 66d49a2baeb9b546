"""Shared fixtures: real stores on both engines, station builders.

PostgreSQL tests read ``STATIONS_TEST_POSTGRES_URL`` and skip without it on a laptop; when
``STATIONS_REQUIRE_ALL=1`` (set by ``.ci/run``) a missing PostgreSQL or Chromium is a failure,
not a skip, so CI cannot pass by skipping them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from stations.model import StationData, validate_station
from stations.store.sql import SqlStationStore

POSTGRES_ENV = "STATIONS_TEST_POSTGRES_URL"


def require(condition: bool, what: str) -> None:
    """Skip (laptop) or fail (CI, STATIONS_REQUIRE_ALL=1) when ``what`` is missing."""
    if condition:
        return
    if os.environ.get("STATIONS_REQUIRE_ALL") == "1":
        pytest.fail(f"{what} is required in CI but missing")
    pytest.skip(f"{what} not available")


def postgres_url() -> str:
    url = os.environ.get(POSTGRES_ENV, "")
    require(bool(url), f"PostgreSQL + PostGIS ({POSTGRES_ENV})")
    return url


@contextmanager
def pg_schema(url: str) -> Iterator[str]:
    """A fresh schema (dropped afterwards) and a URL whose search_path points at it."""
    from sqlalchemy import create_engine, text

    schema = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in url else "?"
    try:
        yield f"{url}{sep}options=-csearch_path%3D{schema},public"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    with pg_schema(postgres_url()) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Any) -> str:
    return "sqlite:///" + str(tmp_path / "stations.db")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    if request.param == "sqlite":
        return "sqlite:///" + str(tmp_path / "stations.db")
    return request.getfixturevalue("pg_schema_url")


@pytest.fixture
def store(store_url: str) -> Iterator[SqlStationStore]:
    s = SqlStationStore(store_url)
    try:
        yield s
    finally:
        s.close()


def make_station(**overrides: Any) -> StationData:
    """A valid E-Town station; override any field."""
    raw: dict[str, Any] = {
        "name": "荣华中路暖心驿站",
        "lon": 116.5068,
        "lat": 39.7954,
        "address": "北京市大兴区荣华中路10号",
        "host_type": "express_depot",
        "host_org": "顺丰速运",
        "amenities": ["hot_water", "charging", "toilet"],
        "opening_hours": "Mo-Su 08:00-22:00",
        "status": "open",
    }
    raw.update(overrides)
    return validate_station(raw)
