"""Where riders search from, kept only as counts per H3 cell and local day.

``/api/v1/nearest`` is asked from where a rider stands, the best signal there is of where
riders are. No position is ever stored: the service turns each query's point into its H3
cell (resolution 8, about 0.7 km², so a cell is a neighbourhood, not a doorstep) in memory
and adds one to that cell's count; only counts reach the database. A cell is shown to anyone
(``cells(min_count=…)``) only once at least five searches fell in it, so a single rider's
habits cannot be read off the map.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date

from sqlalchemy import Connection, func, select

from stations.store.repository import Repository
from stations.store.visit_tables import search_cells_table
from stations.store.visits import upsert

__all__ = ["MIN_SHOWN", "SEARCH_RESOLUTION", "SqlSearchCells", "add_json", "add_plain"]

SEARCH_RESOLUTION = 8
MIN_SHOWN = 5

_S = search_cells_table

# The counts of a flush as one statement and one JSON parameter (PostgreSQL): rows of
# ``[cell, day, count]``, read by their columns' input functions.
_PG_ADD = """
INSERT INTO search_cells AS s (cell, day, count)
SELECT e->>0, (e->>1)::date, (e->>2)::integer FROM json_array_elements(%(rows)s::json) AS e
ON CONFLICT (cell, day) DO UPDATE SET count = s.count + excluded.count
"""


class SqlSearchCells(Repository):
    """Search counts per (H3 cell, local day)."""

    def add(self, counts: Mapping[tuple[str, date], int]) -> None:
        """Add ``counts`` (cell, day → searches) in one transaction.

        A flush holds a worker's interpreter while it runs, and riders searching across a
        country touch tens of thousands of cells in one: on PostgreSQL the rows go as one
        JSON parameter (``json.dumps`` is C) to one statement, rather than through the
        driver's per-row, per-value adaptation; elsewhere they go as one ``executemany``
        (the plain version the tests hold the statement to). Rows go in key order, so two
        workers' flushes lock the same rows in the same order.
        """
        if not counts:
            return
        with self._write() as conn, conn.begin():
            if conn.dialect.name == "postgresql":
                add_json(conn, counts)
            else:
                add_plain(conn, counts)

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


def add_plain(conn: Connection, counts: Mapping[tuple[str, date], int]) -> None:
    """Add ``counts`` with one ``executemany`` of SQLAlchemy's upsert (any engine)."""
    # Not one multi-row VALUES: that is compiled anew for every flush with a bind parameter
    # per value.
    ins = upsert(conn, _S)
    stmt = ins.on_conflict_do_update(
        index_elements=[_S.c.cell, _S.c.day],
        set_={"count": _S.c.count + ins.excluded.count},
    )
    conn.execute(stmt, [{"cell": c, "day": d, "count": n} for (c, d), n in sorted(counts.items())])


def add_json(conn: Connection, counts: Mapping[tuple[str, date], int]) -> None:
    """:func:`add_plain` on PostgreSQL as one statement with one JSON parameter."""
    rows = [(c, d.isoformat(), n) for (c, d), n in sorted(counts.items())]
    conn.exec_driver_sql(_PG_ADD, {"rows": json.dumps(rows)})
