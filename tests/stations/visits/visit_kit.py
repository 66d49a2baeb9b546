"""Small builders for visit tests: a station store with stations and its visit store."""

from __future__ import annotations

from datetime import timedelta

from stations.store.sql import SqlStationStore
from stations.store.visits import SqlVisitStore, VisitPolicy
from tests.conftest import make_station


def stations_with_visits(
    store: SqlStationStore, n: int = 3, *, window_h: float = 2, keep_raw_days: int | None = None
) -> tuple[SqlVisitStore, list[int]]:
    """``n`` stations in two districts and two host types, and a visit store beside them."""
    ids = []
    for i in range(n):
        data = make_station(
            name=f"驿站{i + 1}",
            external_id=f"YZ-{i + 1:03d}",
            district="亦庄镇" if i % 2 == 0 else "旧宫镇",
            host_type="bank" if i == 0 else "express_depot",
            lon=116.50 + i * 0.01,
        )
        ids.append(store.create(data, actor="test").id)
    policy = VisitPolicy(window=timedelta(hours=window_h), keep_raw_days=keep_raw_days)
    return SqlVisitStore.beside(store, policy), ids
