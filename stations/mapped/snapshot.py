"""Stations decoded on demand from a mapped snapshot, and the snapshot the catalog searches.

:class:`MappedStations` is the catalog's sequence of stations by position when the arrays
are shared (:mod:`stations.mapped.files`): a station is decoded from its record the first
time it is asked for and kept in a slot, a bounded number of them (oldest dropped first),
so a worker holds the stations riders are near instead of all 200,000. The slots list is
what the compiled nearest search reads; an empty slot is filled through :meth:`fill`.

A decoded station stays the same object while its slot holds it: the nearest answer's
fragment cache (:mod:`stations.nearest.fragments`) is keyed by the station object, so the
bound here should not be below that cache's. When a new version is swapped in,
:meth:`MappedStations.carried_over` keeps the decoded stations whose record bytes did not
change, so a write elsewhere does not make every worker render every answer again.
A nearest answer's station missing from that cache is written from its record
(:attr:`MappedSnapshot.feature_parts`, :mod:`stations.mapped.render`), not through the dict
path: a mapped worker keeps few rendered features and misses most of a national load.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any, ClassVar, overload

import numpy as np

from geodata.spatial_index import GeodesicIndex
from stations.hours import is_open
from stations.mapped._render import FeatureParts
from stations.mapped.records import CODED, Columns
from stations.mapped.render import feature_parts
from stations.mapped.text import containing
from stations.model import Station
from stations.search import _Snapshot

__all__ = [
    "ById",
    "IdPositions",
    "MappedSnapshot",
    "MappedStations",
    "mapped_snapshot",
    "turned_positions",
]


class MappedStations(Sequence[Station]):
    """The stations of one mapped version by position, decoded when first read."""

    def __init__(self, columns: Columns, keep: int) -> None:
        self.columns = columns
        self.slots: list[Station | None] = [None] * len(columns)
        self._ring: deque[int] = deque()
        self._keep = max(1, keep)
        self._offsets = columns.arrays["offsets"]
        self._blob = columns.blob.data
        self._decode = columns.decoder.fast

    def __len__(self) -> int:
        return len(self.slots)

    @overload
    def __getitem__(self, pos: int) -> Station: ...

    @overload
    def __getitem__(self, pos: slice) -> list[Station]: ...

    def __getitem__(self, pos: int | slice) -> Station | list[Station]:
        if isinstance(pos, slice):
            return [self[i] for i in range(*pos.indices(len(self.slots)))]
        station = self.slots[pos]
        if station is None:
            return self.fill(pos if pos >= 0 else pos + len(self.slots))
        return station

    def __iter__(self) -> Iterator[Station]:
        """Every station, the decoded ones as held and the rest decoded without being kept
        (a full walk — tiles, coverage, exports — must not push riders' stations out).
        """
        slots = self.slots
        for pos in range(len(slots)):
            station = slots[pos]
            yield station if station is not None else self.decode(pos)

    def decode(self, pos: int) -> Station:
        """The station at ``pos`` decoded afresh (not kept)."""
        return self._decode(pos)  # type: ignore[no-any-return]

    def record(self, pos: int) -> memoryview:
        """The record bytes of the station at ``pos`` (compared when carrying over)."""
        off = self._offsets
        return self._blob[int(off[pos]) : int(off[pos + 1])]

    def fill(self, pos: int) -> Station:
        """Decode the station at ``pos`` (0 ≤ pos < n) into its slot, dropping the oldest
        decoded one past the bound; the station.
        """
        station = self._decode(pos)
        self.slots[pos] = station
        ring = self._ring
        ring.append(pos)
        while len(ring) > self._keep:
            self.slots[ring.popleft()] = None
        return station

    def evict(self, positions: Iterable[int]) -> None:
        """Forget these positions' decoded stations: the next read decodes new objects
        (the catalog does this when a station's freshness turned).
        """
        for pos in positions:
            self.slots[pos] = None

    def carried_over(self, old: MappedStations, positions: IdPositions) -> None:
        """Take ``old``'s decoded stations whose record is byte-identical here."""
        slots = old.slots
        for pos in list(old._ring):
            station = slots[pos]
            if station is None:
                continue
            new = positions.get(station.id)
            if new is not None and self.slots[new] is None and self.record(new) == old.record(pos):
                self.slots[new] = station
                self._ring.append(new)
        while len(self._ring) > self._keep:
            self.slots[self._ring.popleft()] = None


class IdPositions:
    """Station id → position, by binary search over the ids in id order (no 200,000-entry
    dict of Python ints per worker: that alone was ~20 MB); both arrays mapped.
    """

    def __init__(self, sorted_ids: np.ndarray, id_order: np.ndarray) -> None:
        # Searched as memoryviews: ``bisect`` over one reads Python ints straight from the
        # mapped bytes, ~5 times faster than a scalar ``np.searchsorted`` and its
        # conversions (one lookup per station of every nearest answer, ``app_coords``).
        self._order: Sequence[int] = _ints(id_order)
        self._sorted: Sequence[int] = _ints(sorted_ids)
        self._n = len(self._sorted)

    def get(self, station_id: int, default: int | None = None) -> int | None:
        """The position of ``station_id``, or ``default``."""
        i = bisect_left(self._sorted, station_id)
        if i < self._n and self._sorted[i] == station_id:
            return self._order[i]
        return default

    def __contains__(self, station_id: object) -> bool:
        return isinstance(station_id, int) and self.get(station_id) is not None


def _ints(array: np.ndarray) -> Sequence[int]:
    """A 1-D integer array as a sequence of Python ints without copying (a memoryview)."""
    return array.data if array.size else []  # type: ignore[return-value]


class ById(Sequence[Station]):
    """The stations in id order, a view (``StationCatalog.all``): iterating decodes without
    keeping; indexing reads through the slots.
    """

    def __init__(self, stations: MappedStations, id_order: np.ndarray) -> None:
        self._stations = stations
        self._order = id_order

    def __len__(self) -> int:
        return len(self._stations)

    @overload
    def __getitem__(self, i: int) -> Station: ...

    @overload
    def __getitem__(self, i: slice) -> list[Station]: ...

    def __getitem__(self, i: int | slice) -> Station | list[Station]:
        if isinstance(i, slice):
            return [self._stations[int(p)] for p in self._order[i].tolist()]
        return self._stations[int(self._order[i])]

    def __iter__(self) -> Iterator[Station]:
        stations = self._stations
        slots = stations.slots
        for pos in self._order.tolist():
            station = slots[pos]
            yield station if station is not None else stations.decode(pos)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


def turned_positions(
    columns: Columns, stations: MappedStations, before: datetime, now: datetime, stale: timedelta
) -> list[int]:
    """Positions whose freshness (``stations.trust.recheck.freshness``) differs between
    ``before`` and ``now``: candidates from the mapped epoch seconds, confirmed exactly.
    """
    from stations.trust.recheck import freshness

    verified = columns.arrays["verified_at"]
    s = stale.total_seconds()
    lo, hi = before.timestamp() - s - 1.0, now.timestamp() - s + 1.0
    with np.errstate(invalid="ignore"):
        candidates = np.flatnonzero((verified >= lo) & (verified <= hi))
    out = []
    for pos in candidates.tolist():
        v = stations.decode(pos).verified_at
        if freshness(v, before) != freshness(v, now):
            out.append(pos)
    return out


@dataclass
class _Codes:
    """A coded column: values' indices in ``table``."""

    codes: np.ndarray
    table: list[Any]

    def isin(self, values: Iterable[Any]) -> np.ndarray:
        wanted = [i for i, v in enumerate(self.table) if v in set(values)]
        return np.isin(self.codes, wanted)

    def values(self) -> np.ndarray:
        table = np.empty(len(self.table), object)
        table[:] = self.table
        return table[self.codes]


@dataclass
class MappedSnapshot(_Snapshot):
    """The catalog's snapshot over a mapped version: the arrays are the version's files,
    ``stations`` a :class:`MappedStations` (see the module docstring).
    """

    columns: Columns | None = None
    counter: int = 0

    @property
    def _cols(self) -> Columns:
        assert self.columns is not None
        return self.columns

    @cached_property
    def ids(self) -> np.ndarray:
        """Station ids by position (mapped)."""
        return self._cols.arrays["ids"]

    @cached_property
    def lon(self) -> np.ndarray:
        """Longitudes by position (mapped)."""
        return self._cols.arrays["lon"]

    @cached_property
    def lat(self) -> np.ndarray:
        """Latitudes by position (mapped)."""
        return self._cols.arrays["lat"]

    @cached_property
    def id_order(self) -> np.ndarray:
        """Positions sorted by station id (mapped)."""
        return self._cols.arrays["id_order"].astype(np.intp, copy=False)

    @cached_property
    def by_id(self) -> IdPositions:  # type: ignore[override]
        """Station id → position, by binary search."""
        return IdPositions(self._cols.arrays["sorted_ids"], self.id_order)

    @cached_property
    def in_id_order(self) -> ById:  # type: ignore[override]
        """The stations by id, a view decoding on demand."""
        return ById(self._mapped, self.id_order)

    @cached_property
    def index(self) -> GeodesicIndex:
        """The nearest index as the writer built it, searched in the mapped arrays: no
        per-worker build, no copy of the tree (``GeodesicIndex.from_built``).
        """
        a = self._cols.arrays
        built = {name: a[name] for name in GeodesicIndex.BUILT}
        built["tree_perm"] = built["tree_perm"].astype(np.intp, copy=False)
        return GeodesicIndex.from_built(self.ids, self.lon, self.lat, built)

    def text_matches(self, word: str, positions: np.ndarray) -> np.ndarray:  # type: ignore[override]
        """The positions (of ``positions``) whose name or address contains ``word``, read
        from the shared text (:func:`stations.mapped.text.containing`): no per-worker list.
        """
        a = self._cols.arrays
        return containing(a["text"], a["text_offsets"], positions, word)

    @cached_property
    def app_coords(self) -> memoryview:  # type: ignore[override]
        """Navigation points, 4 doubles a station (mapped)."""
        return self._cols.arrays["app_coords"].data.cast("B")

    @cached_property
    def amenity_bits(self) -> np.ndarray:
        """Amenity bits by position (mapped)."""
        return self._cols.arrays["amenity_bits"]

    @cached_property
    def no_smartphone_ok(self) -> np.ndarray:
        """Usable without a smartphone, by position (mapped)."""
        return self._cols.arrays["no_smartphone_ok"]

    @cached_property
    def org_ids(self) -> np.ndarray:
        """Organisations by position (mapped)."""
        return self._cols.arrays["org_id"]

    @property
    def _mapped(self) -> MappedStations:
        return self.stations  # type: ignore[return-value]

    @cached_property
    def held(self) -> list[Station | None]:  # type: ignore[override]
        """The decoded stations' slots, None where not decoded."""
        return self._mapped.slots

    @property
    def fill(self) -> Any:
        """Decodes a position into its slot."""
        return self._mapped.fill

    @cached_property
    def _writer(self) -> FeatureParts:
        return feature_parts(self._cols)

    @property
    def feature_parts(self) -> Callable[[Station], tuple[bytes, ...] | None]:
        """Writes a held station's cut nearest feature from its record."""
        return self._written

    def _written(self, station: Station) -> tuple[bytes, ...] | None:
        """The cut feature of ``station`` if it is the one this snapshot holds at its
        position (not one replaced since the query read it), or None.
        """
        pos = self.by_id.get(station.id)
        if pos is None or self._mapped.slots[pos] is not station:
            return None
        return self._writer.parts(pos)

    @cached_property
    def coded(self) -> dict[str, _Codes]:
        """Status, host type and entry as codes and their tables."""
        cols = self._cols
        return {name: _Codes(cols.arrays[name], cols.tables[name]) for name in CODED}

    @cached_property
    def status(self) -> np.ndarray:
        """Status values by position (built when asked)."""
        return self.coded["status"].values()

    @cached_property
    def host_type(self) -> np.ndarray:
        """Host types by position (built when asked)."""
        return self.coded["host_type"].values()

    @cached_property
    def entry(self) -> np.ndarray:
        """Entry methods by position (built when asked)."""
        return self.coded["entry"].values()

    def isin(self, name: str, values: Iterable[Any]) -> np.ndarray:
        """Mask of a coded column in ``values``, compared as codes."""
        return self.coded[name].isin(values)

    def hours_states(self, minute: datetime) -> np.ndarray:
        """Open states from the (hours, status) table, one evaluation an entry."""
        cols = self._cols
        table = np.empty(len(cols.tables["hours"]), np.int8)
        for i, (hours, status) in enumerate(cols.tables["hours"]):
            state = is_open(hours, status, minute, self.tz)
            table[i] = -1 if state is None else int(state)
        return table[cols.arrays["hours_of"]]

    _WARM: ClassVar[tuple[str, ...]] = (
        "ids",
        "id_order",
        "lon",
        "lat",
        "by_id",
        "index",
        "app_coords",
        "_writer",
    )


def mapped_snapshot(columns: Columns, counter: int, tz: str, keep: int) -> MappedSnapshot:
    """The catalog's snapshot over ``columns`` (a mapped version at feed ``counter``),
    keeping up to ``keep`` decoded stations.
    """
    return MappedSnapshot(
        MappedStations(columns, keep),  # type: ignore[arg-type]
        tz,
        columns=columns,
        counter=counter,
    )
