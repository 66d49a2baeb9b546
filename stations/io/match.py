"""Which stored station each imported row updates: by the union's number, else by system id.

Rows match by ``external_id`` (编号, the union's own number) first, else by the store ``id``
(系统ID) an export carries; unmatched rows create stations. Two rows of one file with the same
编号, or two rows landing on one station, are errors on *both* rows, each naming the other:
writing either would silently drop the other's data.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from stations.errors import FieldError, NotFound
from stations.io.cells import Cells
from stations.model import Station
from stations.store.base import StationStore

__all__ = ["StoreLookup", "match_rows"]


class StoreLookup:
    """Store reads an import needs, each done at most once."""

    def __init__(self, store: StationStore) -> None:
        self.store = store
        self._all: list[Station] | None = None

    def all(self) -> list[Station]:
        """Every live station (read once; the duplicate check needs them too)."""
        if self._all is None:
            self._all = self.store.all()
        return self._all

    def by_external_ids(self, keys: Iterable[str]) -> dict[str, Station]:
        """Stations by 编号, deleted ones included."""
        # The duplicate check reads every live station anyway; match from that read and ask
        # the store only for the rest (deleted stations, or none when the store is empty).
        wanted = set(keys)
        found = {s.data.external_id: s for s in self.all() if s.data.external_id in wanted}
        missing = wanted - found.keys()
        if missing:
            found.update(self.store.by_external_ids(missing))
        return {k: v for k, v in found.items() if k is not None}

    def by_ids(self, ids: Iterable[int]) -> dict[int, Station]:
        """Stations by system id, deleted ones included."""
        wanted = set(ids)
        found: dict[int, Station] = {}
        if len(wanted) > 50:  # one scan beats thousands of single-row reads
            found = {s.id: s for s in self.all() if s.id in wanted}
        for station_id in wanted - found.keys():
            try:
                found[station_id] = self.store.get(station_id, include_deleted=True)
            except NotFound:
                pass
        return found


def match_rows(
    cells: Cells, lookup: StoreLookup, warnings: list[FieldError]
) -> list[Station | None]:
    """The stored station each row updates: by external_id first, else by id, else None.

    Problems (repeated 编号, several rows on one station) go to ``cells.problems``.
    """
    numbers, keys, ids, problems = cells.numbers, cells.keys, cells.ids, cells.problems
    rows_by_key: dict[str, list[int]] = defaultdict(list)
    for number, key in zip(numbers, keys, strict=True):
        if key is not None:
            rows_by_key[key].append(number)
    for key, rows in rows_by_key.items():
        if len(rows) > 1:
            for number in rows:
                others = ", ".join(str(r) for r in rows if r != number)
                problems[number].append(
                    FieldError.from_catalog(
                        "external_id",
                        "appears more than once in the file (also row {others})",
                        key,
                        number,
                        others=others,
                    )
                )
    by_key = lookup.by_external_ids(rows_by_key) if rows_by_key else {}
    need_ids = [
        i
        for i, k in zip(ids, keys, strict=True)
        if i is not None and (k is None or k not in by_key)
    ]
    by_id = lookup.by_ids(need_ids) if need_ids else {}

    matched: list[Station | None] = []
    for number, key, sid in zip(numbers, keys, ids, strict=True):
        station = by_key.get(key) if key is not None else None
        if station is not None:
            if sid is not None and sid != station.id:
                warnings.append(
                    FieldError.from_catalog(
                        "id",
                        "external_id {key} belongs to station {station}, which this "
                        "row updates (the id column says {sid})",
                        sid,
                        number,
                        key=repr(key),
                        station=station.id,
                        sid=sid,
                    )
                )
        elif sid is not None:
            station = by_id.get(sid)
            old = station.data.external_id if station is not None else None
            if station is not None and key is not None and old is not None and old != key:
                warnings.append(
                    FieldError.from_catalog(
                        "external_id",
                        "station {sid} changes its external_id from {old} to {key}",
                        key,
                        number,
                        sid=sid,
                        old=repr(old),
                        key=repr(key),
                    )
                )
        matched.append(station)
    _one_row_per_station(numbers, matched, problems)
    return matched


def _one_row_per_station(
    numbers: list[int], matched: list[Station | None], problems: dict[int, list[FieldError]]
) -> None:
    rows_by_station: dict[int, list[int]] = defaultdict(list)
    for number, station in zip(numbers, matched, strict=True):
        if station is not None:
            rows_by_station[station.id].append(number)
    for station_id, rows in rows_by_station.items():
        if len(rows) > 1:
            for number in rows:
                problems[number].append(
                    FieldError.from_catalog(
                        "id",
                        "rows {rows} all match station {station}; keep one",
                        station_id,
                        number,
                        rows=", ".join(map(str, rows)),
                        station=station_id,
                    )
                )
