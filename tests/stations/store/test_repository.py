"""Every repository beside the station store: one database, reads and writes on their own pools.

The write pool is the point: a burst of reads (or a leak) that takes every read connection
must not stop staff from writing, whichever table the write goes to, and the other way round.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.exc import TimeoutError as PoolTimeout

from stations.errors import ConfigurationError
from stations.store.accounts import SqlAccountStore
from stations.store.confirmations import SqlConfirmationStore
from stations.store.geocode_cache import GeocodeCacheStore
from stations.store.orgs import SqlOrgStore
from stations.store.outage import StoreLimits
from stations.store.photos import SqlPhotoStore
from stations.store.reports import SqlReportStore
from stations.store.repository import Repository, pools_of
from stations.store.search_cells import SqlSearchCells
from stations.store.sql import SqlStationStore
from stations.store.visits import SqlVisitStore
from stations.store.webhooks import SqlWebhookStore
from tests.conftest import make_station

REPOSITORIES: list[type[Repository]] = [
    SqlAccountStore,
    SqlConfirmationStore,
    GeocodeCacheStore,
    SqlOrgStore,
    SqlPhotoStore,
    SqlReportStore,
    SqlSearchCells,
    SqlVisitStore,
    SqlWebhookStore,
]


@pytest.fixture
def small_pools(store_url: str) -> Iterator[SqlStationStore]:
    """A store whose pools give up after 0.2 s (so an exhausted pool is seen quickly)."""
    s = SqlStationStore(store_url, limits=StoreLimits(pool_size=2, max_overflow=0, pool_wait_s=0.2))
    try:
        yield s
    finally:
        s.close()


def _drain(engine: Engine, stack: ExitStack) -> int:
    """Check out every connection ``engine``'s pool has; returns how many."""
    for taken in range(100):
        try:
            stack.enter_context(engine.connect())
        except PoolTimeout:
            return taken
    raise AssertionError("the pool never ran out")


@pytest.mark.parametrize("repository", REPOSITORIES, ids=lambda r: r.__name__)
def test_every_repository_shares_the_store_pools(
    store: SqlStationStore, repository: type[Repository]
) -> None:
    repo = repository.beside(store)
    assert repo.engine is store.engine
    assert repo.write_engine is store.write_engine
    assert store.write_engine is not store.engine  # a file or server database: two pools


def test_a_store_without_an_engine_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="no SQL engine"):
        SqlOrgStore.beside(object())
    lone = create_engine("sqlite://")
    try:

        class OneEngine:
            engine = lone

        assert pools_of(OneEngine()) == (lone, lone)  # no write pool: writes share it
    finally:
        lone.dispose()


def test_writes_go_on_while_every_read_connection_is_taken(
    small_pools: SqlStationStore,
) -> None:
    store = small_pools
    orgs = SqlOrgStore.beside(store)
    accounts = SqlAccountStore.beside(store)
    cache = GeocodeCacheStore.beside(store)
    with ExitStack() as stack:
        assert _drain(store.engine, stack) >= 2
        with pytest.raises(PoolTimeout):
            store.get(1)  # reads wait for a connection, and give up
        station = store.create(make_station(), actor="t")
        org = orgs.add("亦庄")
        user = accounts.add_user("yz", "editor")
        cache.put("nominatim", "荣华中路10号", {"lon": 116.5, "lat": 39.8, "candidates": 1})
    assert store.get(station.id).data.name == make_station().name
    assert orgs.get(org.id).name == "亦庄" and accounts.get_user(user.name).role == "editor"
    assert cache.get("nominatim", "荣华中路10号") == {
        "lon": 116.5,
        "lat": 39.8,
        "address": None,
        "candidates": 1,
    }


def test_reads_go_on_while_every_write_connection_is_taken(
    small_pools: SqlStationStore,
) -> None:
    store = small_pools
    station = store.create(make_station(), actor="t")
    with ExitStack() as stack:
        assert _drain(store.write_engine, stack) >= 2
        with pytest.raises(PoolTimeout):
            SqlOrgStore.beside(store).add("亦庄")
        assert store.get(station.id).id == station.id
        assert SqlOrgStore.beside(store).list()[0].name
