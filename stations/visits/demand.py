"""Visits and searches as demand layers for coverage, gaps and plans.

``--demand visits``: each station's check-ins and hand tallies of the last ``days`` days,
spread evenly over the H3 cells within about 500 m of it (riders come from around a
station, not from its door), so planning follows where workers actually are.

``--demand searches``: where riders asked for the nearest station, from the per-cell counts
of ``stations.store.search_cells`` (cells with fewer than five searches are left out), so a
union sees where riders look for a station and find none near.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import numpy as np

from geodata.demand import Demand
from stations.errors import FieldError, ValidationFailed
from stations.i18n import N_
from stations.store.base import StationStore
from stations.store.search_cells import SqlSearchCells
from stations.store.visit_stats import VisitStats

__all__ = ["DEMAND_SOURCES", "demand_from_store", "search_demand", "visit_demand"]

DEMAND_SOURCES = ("visits", "searches")
SPREAD_M = 500.0


def _none(msgid: str, **params: Any) -> ValidationFailed:
    return ValidationFailed([FieldError.from_catalog("demand", msgid, **params)])


def visit_demand(
    store: StationStore, *, today: date, days: int = 90, resolution: int = 9
) -> Demand:
    """Visits (scans + tallies) of the last ``days`` days, spread around each station."""
    import h3

    engine = store.engine
    start = today - timedelta(days=days - 1)
    rows = VisitStats(engine).visits("station", "all", start, today + timedelta(days=1))
    counts = {int(r.key): r.visits for r in rows if r.visits > 0}
    if not counts:
        raise _none(N_("no visits in the last {days} days"), days=days)
    ring = max(1, round(SPREAD_M / h3.average_hexagon_edge_length(resolution, unit="m") / 1.5))
    weights: dict[str, float] = defaultdict(float)
    for station in store.get_many(counts):
        if station.deleted:
            continue
        cells = h3.grid_disk(h3.latlng_to_cell(station.lat, station.lon, resolution), ring)
        share = counts[station.id] / len(cells)
        for cell in cells:
            weights[cell] += share
    return _cells_demand(weights, resolution, f"visits, last {days} days")


def search_demand(store: StationStore, *, today: date, days: int = 90) -> Demand:
    """Nearest-station searches of the last ``days`` days, per cell with ≥ 5 of them."""
    from stations.store.search_cells import SEARCH_RESOLUTION

    found = SqlSearchCells.beside(store).cells(today - timedelta(days=days - 1))
    if not found:
        raise _none(N_("no area with 5 or more searches in the last {days} days"), days=days)
    return _cells_demand(
        {c: float(n) for c, n in found}, SEARCH_RESOLUTION, f"searches, last {days} days"
    )


def _cells_demand(weights: dict[str, float], resolution: int, label: str) -> Demand:
    import h3

    cells = sorted(weights)
    centres = np.array([h3.cell_to_latlng(c) for c in cells], dtype=float)
    return Demand(
        lon=centres[:, 1],
        lat=centres[:, 0],
        weight=np.array([weights[c] for c in cells], dtype=float),
        label=label,
    )


def demand_from_store(
    store: StationStore, source: str, *, today: date, resolution: int = 9, days: int = 90
) -> Demand:
    """The named demand layer (``visits`` or ``searches``) from the stations database."""
    if source == "visits":
        return visit_demand(store, today=today, days=days, resolution=resolution)
    if source == "searches":
        return search_demand(store, today=today, days=days)
    raise _none(N_("unknown demand source {source!r}"), source=source)
