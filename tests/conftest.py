"""Shared fixtures: real stores on both engines, station builders.

Every store-backed test runs on SQLite and on PostgreSQL + PostGIS: it takes ``store``,
``store_url``, ``new_store_url`` or ``module_store_url``, all driven by the module-scoped
``engine`` fixture, so its ids carry ``[sqlite]`` or ``[postgres]`` (``-k sqlite`` runs one
engine). A test that is about one engine only (SQLite's WAL or file, PostGIS geometry) takes
``sqlite_url`` or ``pg_schema_url`` instead and says why.

PostgreSQL tests read ``STATIONS_TEST_POSTGRES_URL`` and skip without it on a laptop; when
``STATIONS_REQUIRE_ALL=1`` (set by ``.ci/run``) a missing PostgreSQL or Chromium is a failure,
not a skip, so CI cannot pass by skipping them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest

from stations.model import StationData, validate_station
from stations.store.sql import SqlStationStore
from tests.s3_kit import s3_server  # noqa: F401  (a fixture: moto's S3 server over HTTP)

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
    """For what only SQLite has (WAL, its file, ``data_version``); say why where it is used."""
    return "sqlite:///" + str(tmp_path / "stations.db")


#: The engines every store-backed test runs on; its ids carry ``[sqlite]``/``[postgres]``.
ENGINES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@contextmanager
def fresh_database(engine: str, folder: Path) -> Iterator[str]:
    """The URL of a new, empty database on ``engine``: a SQLite file in ``folder`` or a
    PostgreSQL schema (dropped afterwards; skips or fails as ``postgres_url`` says)."""
    if engine == "sqlite":
        yield "sqlite:///" + str(folder / f"stations-{uuid.uuid4().hex[:8]}.db")
        return
    with pg_schema(postgres_url()) as url:
        yield url


@pytest.fixture(scope="module", params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    """The store engine of this test: ``sqlite`` or ``postgres``.

    Module-scoped, so a module's shared stores (``module_store_url``) and its per-test ones
    (``store_url``, ``new_store_url``) are on the same engine, and pytest runs a module's
    tests on SQLite first, then on PostgreSQL."""
    return str(request.param)


@pytest.fixture
def store_url(engine: str, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database for one test, on each engine in turn."""
    with fresh_database(engine, tmp_path) as url:
        yield url


@pytest.fixture
def new_store_url(engine: str, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """``new_store_url()`` → another fresh database on this test's engine (for tests that
    need several); all are removed after the test."""
    with ExitStack() as stack:
        yield lambda: stack.enter_context(fresh_database(engine, tmp_path))


@pytest.fixture(scope="module")
def module_store_url(engine: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One fresh database shared by a module's tests, on each engine in turn."""
    with fresh_database(engine, tmp_path_factory.mktemp("db")) as url:
        yield url


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
