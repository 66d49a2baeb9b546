"""Where riders search from, kept only as counts per H3 cell and local day.

``/api/v1/nearest`` is asked from where a rider stands, the best signal there is of where
riders are. No position is ever stored: the service turns each query's point into its H3
cell (resolution 8, about 0.7 km², so a cell is a neighbourhood, not a doorstep) in memory
and adds one to that cell's count; only counts reach the database. A cell is shown to anyone
(``cells(min_count=…)``) only once at least five searches fell in it, so a single rider's
habits cannot be read off the map.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlalchemy import func, select

from stations.store.repository import Repository
from stations.store.visit_tables import search_cells_table
from stations.store.visits import upsert

__all__ = ["MIN_SHOWN", "SEARCH_RESOLUTION", "SqlSearchCells"]

SEARCH_RESOLUTION = 8
MIN_SHOWN = 5

_S = search_cells_table


class SqlSearchCells(Repository):
    """Search counts per (H3 cell, local day)."""

    def add(self, counts: Mapping[tuple[str, date], int]) -> None:
        """Add ``counts`` (cell, day → searches) in one transaction."""
        if not counts:
            return
        with self._write() as conn, conn.begin():
            # One statement run for many rows (executemany), not one multi-row VALUES: that
            # is compiled anew for every flush with a bind parameter per value, which cost
            # the worker's shared interpreter more than the searches it counted.
            ins = upsert(conn, _S)
            stmt = ins.on_conflict_do_update(
                index_elements=[_S.c.cell, _S.c.day],
                set_={"count": _S.c.count + ins.excluded.count},
            )
            conn.execute(
                stmt, [{"cell": c, "day": d, "count": n} for (c, d), n in sorted(counts.items())]
            )

    def cells(self, since: date, *, min_count: int = MIN_SHOWN) -> list[tuple[str, int]]:
        """Cells with at least ``min_count`` searches since ``since`` (never fewer than 5)."""
        total = func.sum(_S.c.count).label("n")
        query = (
            select(_S.c.cell, total)
            .where(_S.c.day >= since)
            .group_by(_S.c.cell)
            .having(total >= max(min_count, MIN_SHOWN))
            .order_by(_S.c.cell)
        )
        with self.engine.connect() as conn:
            return [(str(c), int(n)) for c, n in conn.execute(query)]
