"""The station catalog: every live station in memory, answering nearest and list queries.

The store is the source of truth; this is a read model of it. A process keeps one catalog,
refreshed incrementally from the store's change log (its own writes and other processes'),
so nearest queries never touch the database. Filters become boolean masks handed to the
geodesic index, and masks are cached per filter combination (and per minute for "open
now"), so a selective filter costs neither a full scan nor a recomputation per query.
"""

from __future__ import annotations

import gc
import struct
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any, ClassVar, NamedTuple

import numpy as np

from geodata.spatial_index import GeodesicIndex, z_order
from stations.errors import NotFound
from stations.hours import DEFAULT_TZ, is_open
from stations.i18n import Message
from stations.mapped.files import SnapshotFiles, Version
from stations.model import Station
from stations.navigation import AppCoords, navigation_coords
from stations.nearest.rows import nearest_rows
from stations.store.base import StationStore
from stations.trust.recheck import freshness
from stations.vocabulary import AMENITIES

__all__ = ["Hit", "NearestQuery", "ListQuery", "NO_FILTER", "StationCatalog", "StationFilter"]

_AMENITY_BIT = {code: np.uint16(1 << i) for i, code in enumerate(AMENITIES)}


@dataclass(frozen=True)
class StationFilter:
    """What a station must satisfy; empty sets mean "any"."""

    amenities: frozenset[str] = frozenset()
    status: frozenset[str] = frozenset()
    host_types: frozenset[str] = frozenset()
    open_now: bool = False
    #: Entry methods (``ENTRY_METHODS`` codes), any of them; and usable without a smartphone.
    entries: frozenset[str] = frozenset()
    no_smartphone_ok: bool = False

    def is_empty(self) -> bool:
        """True when it lets every station through (as :data:`NO_FILTER`), told without
        the dataclass ``__eq__`` that builds and compares two field tuples.
        """
        return not (
            self.amenities
            or self.status
            or self.host_types
            or self.open_now
            or self.entries
            or self.no_smartphone_ok
        )


#: The empty filter; queries default to this very object, so "no filter" is an identity test.
NO_FILTER = StationFilter()


def station_filter(
    *,
    amenity: Sequence[str] | None = None,
    status: Sequence[str] | None = None,
    host_type: Sequence[str] | None = None,
    open_now: bool = False,
    entry: Sequence[str] | None = None,
    no_smartphone_ok: bool = False,
) -> StationFilter:
    """The filter for what a user asked, in codes, Chinese labels or comma lists.

    The one place the API's query parameters and the command line's options become a
    :class:`StationFilter`: every unknown code is reported at once (``ValidationFailed``
    naming the field), and asking for nothing gives :data:`NO_FILTER` itself.
    """
    from stations.vocabulary import codes

    if not (amenity or status or host_type or open_now or entry or no_smartphone_ok):
        return NO_FILTER
    return StationFilter(
        amenities=codes("amenity", list(amenity or ())),
        status=codes("status", list(status or ())),
        host_types=codes("host_type", list(host_type or ())),
        open_now=open_now,
        entries=codes("entry", list(entry or ())),
        no_smartphone_ok=no_smartphone_ok,
    )


class NearestQuery(NamedTuple):
    """A rider's question. A named tuple, as :class:`Hit`: built once per request."""

    lon: float
    lat: float
    k: int = 5
    max_distance_m: float | None = None
    filter: StationFilter = NO_FILTER
    at: datetime | None = None


@dataclass(frozen=True)
class ListQuery:
    """A page of the station list: box, text, filter and paging."""

    bbox: tuple[float, float, float, float] | None = None
    q: str | None = None
    filter: StationFilter = NO_FILTER
    at: datetime | None = None
    limit: int = 100
    offset: int = 0
    #: Only stations of these organisations (a reader's scope); None: every one.
    orgs: frozenset[int] | None = None


class Hit(NamedTuple):
    """One answer row. A named tuple: a nearest request makes five, and a frozen
    dataclass's ``__init__`` costs ~1 µs apiece.
    """

    station: Station
    distance_m: float | None
    open_now: bool | None


_BITS_OF: dict[tuple[str, ...], int] = {}


def _bits(station: Station) -> int:
    codes = station.data.amenities
    bits = _BITS_OF.get(codes)
    if bits is None:
        bits = _BITS_OF[codes] = sum(int(_AMENITY_BIT[c]) for c in codes)
    return bits


@dataclass
class _Snapshot:
    """An immutable-by-convention view; refresh builds a new one and swaps the reference.

    Positions follow a Z-order curve over the map (see :func:`_in_space_order`), not ids:
    a nearest query then reads its neighbours' rows, states and coordinates from a few
    cache lines. Pages and :meth:`StationCatalog.all` go by id through :attr:`id_order`.
    """

    stations: list[Station]
    tz: str
    masks: dict[tuple[object, ...], np.ndarray] = field(default_factory=dict)
    last_open: tuple[datetime | None, np.ndarray, bytes] = (None, np.empty(0, np.int8), b"")

    @cached_property
    def by_id(self) -> dict[int, int]:
        return {s.id: i for i, s in enumerate(self.stations)}

    @cached_property
    def id_order(self) -> np.ndarray:
        """Positions sorted by station id."""
        return np.argsort(self.ids, kind="stable")

    @cached_property
    def in_id_order(self) -> list[Station]:
        return [self.stations[p] for p in self.id_order.tolist()]

    @cached_property
    def ids(self) -> np.ndarray:
        return np.fromiter((s.id for s in self.stations), np.int64, len(self.stations))

    @cached_property
    def lon(self) -> np.ndarray:
        return np.fromiter((s.data.lon for s in self.stations), float, len(self.stations))

    @cached_property
    def lat(self) -> np.ndarray:
        return np.fromiter((s.data.lat for s in self.stations), float, len(self.stations))

    @cached_property
    def index(self) -> GeodesicIndex:
        return GeodesicIndex(self.ids, self.lon, self.lat)

    @cached_property
    def app_coords(self) -> bytes:
        """Every station's navigation points (:func:`navigation_coords`), 4 doubles each.

        Why: converting a page's missed stations to GCJ-02 and BD-09 was about a third of
        rendering them; converted here once per snapshot, a rider's answer reads 32 bytes
        per station. Bytes, because ``struct.unpack_from`` gives the four floats at once.
        """
        return navigation_coords(self.lon, self.lat).tobytes()

    @cached_property
    def amenity_bits(self) -> np.ndarray:
        return np.fromiter((_bits(s) for s in self.stations), np.uint16, len(self.stations))

    @cached_property
    def status(self) -> np.ndarray:
        return np.array([s.data.status for s in self.stations], dtype=object)

    @cached_property
    def host_type(self) -> np.ndarray:
        return np.array([s.data.host_type for s in self.stations], dtype=object)

    @cached_property
    def entry(self) -> np.ndarray:
        """Entry method codes (built on the first filter that asks; edits rebuild it)."""
        return np.array([s.data.entry for s in self.stations], dtype=object)

    @cached_property
    def no_smartphone_ok(self) -> np.ndarray:
        return np.fromiter(
            (s.data.no_smartphone_ok is True for s in self.stations), bool, len(self.stations)
        )

    @cached_property
    def org_ids(self) -> np.ndarray:
        """Each station's organisation (scoped lists)."""
        return np.fromiter((s.org_id for s in self.stations), np.int64, len(self.stations))

    @property
    def held(self) -> list[Any]:
        """The stations by position as the compiled search reads them (None: not decoded
        yet, see :attr:`fill`).
        """
        return self.stations

    @property
    def fill(self) -> Callable[[int], Station] | None:
        """Decodes the station at a position into :attr:`held` (a mapped snapshot); None."""
        return None

    @property
    def feature_parts(self) -> Callable[[Station], tuple[bytes, ...] | None] | None:
        """Writes a held station's cut nearest feature from a mapped snapshot's record
        (``stations.nearest.fragments``); None: the dict path renders every one.
        """
        return None

    def isin(self, name: str, values: Iterable[object]) -> np.ndarray:
        """Mask of stations whose ``name`` column (status, host_type, entry) is in ``values``."""
        return np.isin(getattr(self, name), list[Any](values))

    def hours_states(self, minute: datetime) -> np.ndarray:
        """Per station: 1 open, 0 closed, -1 unknown in ``minute``, one evaluation a group."""
        states = np.full(len(self.stations), -1, np.int8)
        for (hours, status), positions in self.hours_groups.items():
            state = is_open(hours, status, minute, self.tz)
            states[positions] = -1 if state is None else int(state)
        return states

    @cached_property
    def hours_groups(self) -> dict[tuple[str, str], np.ndarray]:
        """Positions grouped by (hours, status): "open now" is evaluated once per group."""
        groups: dict[tuple[str, str], list[int]] = {}
        for i, s in enumerate(self.stations):
            groups.setdefault((s.data.opening_hours, s.data.status), []).append(i)
        return {key: np.asarray(pos, np.intp) for key, pos in groups.items()}

    def text_matches(self, word: str, positions: np.ndarray) -> Sequence[int]:
        """The positions (of ``positions``, in order) whose case-folded name or address
        contains ``word`` (case-folded too): a ``q`` search.
        """
        text = self.text
        return [p for p in positions.tolist() if word in text[p]]

    @cached_property
    def text(self) -> list[str]:
        """Name and address, case-folded, for ``q`` searches: built on the first one.

        Not warmed with the rest: ~14 MB per worker at 100k stations, which riders' nearest
        and map traffic never needs (the first text search pays ~0.1 s instead).
        """
        return [f"{s.data.name}\n{s.data.address}".casefold() for s in self.stations]

    _WARM: ClassVar[tuple[str, ...]] = (
        "by_id",
        "ids",
        "id_order",
        "lon",
        "lat",
        "index",
        "amenity_bits",
        "app_coords",
        "status",
        "host_type",
        "hours_groups",
    )

    def warm(self) -> _Snapshot:
        """Build every derived array now (off the request path: the refresher calls this)."""
        for name in self._WARM:
            getattr(self, name)
        return self

    def patched(self, updates: dict[int, Station]) -> _Snapshot:
        """A new snapshot with the stations at these positions replaced (ids unchanged).

        Why: rebuilding every array and the k-d tree for one edited station cost ~0.3 s of
        CPU per worker at 100k stations. Arrays are copied and patched; the tree is kept
        unless a station moved, and the hours groups unless hours or status changed.
        """
        stations = list(self.stations)
        for pos, station in updates.items():
            stations[pos] = station
        new = _Snapshot(stations, self.tz)
        old = self.__dict__
        olds = {pos: self.stations[pos] for pos in updates}
        moved = any(
            (olds[p].data.lon, olds[p].data.lat) != (st.data.lon, st.data.lat)
            for p, st in updates.items()
        )
        rehours = any(
            (olds[p].data.opening_hours, olds[p].data.status)
            != (st.data.opening_hours, st.data.status)
            for p, st in updates.items()
        )
        for name in ("by_id", "ids", "id_order"):
            if name in old:
                new.__dict__[name] = old[name]
        if "index" in old and not moved:
            new.__dict__["index"] = old["index"]
        if "hours_groups" in old and not rehours:
            new.__dict__["hours_groups"] = old["hours_groups"]
        if "app_coords" in old:
            coords = bytearray(old["app_coords"])
            for pos, st in updates.items():
                row = navigation_coords([st.data.lon], [st.data.lat])
                coords[pos * _COORDS_SIZE : (pos + 1) * _COORDS_SIZE] = row.tobytes()
            new.__dict__["app_coords"] = bytes(coords)
        for name, value in (
            ("lon", lambda st: st.data.lon),
            ("lat", lambda st: st.data.lat),
            ("status", lambda st: st.data.status),
            ("host_type", lambda st: st.data.host_type),
            ("amenity_bits", _bits),
            ("text", lambda st: f"{st.data.name}\n{st.data.address}".casefold()),
        ):
            if name in old:
                arr = old[name].copy()
                for pos, st in updates.items():
                    arr[pos] = value(st)
                new.__dict__[name] = arr
        return new

    def open_states(self, minute: datetime) -> np.ndarray:
        """Per station: 1 open, 0 closed, -1 unknown, in ``minute`` (see :func:`_minute`)."""
        last = self.last_open
        if last[0] is minute:  # "now" is one shared object per minute: skip the hashing
            return last[1]
        key: tuple[object, ...] = ("open", minute)
        cached = self.masks.get(key)
        if cached is None:
            cached = self.hours_states(minute)
            if len(self.masks) > 256:
                self.masks.clear()
            self.masks[key] = cached
        # The same states as bytes (state + 1 per station): indexing bytes gives a Python int
        # at once, where a numpy scalar costs ~0.1 µs apiece to read and convert.
        self.last_open = (minute, cached, (cached + 1).astype(np.uint8).tobytes())
        return cached

    def open_codes(self, minute: datetime) -> bytes:
        """:meth:`open_states` as bytes, state + 1 per station (indexes ``_OPEN_STATE``)."""
        self.open_states(minute)
        return self.last_open[2]

    def mask(self, flt: StationFilter, minute: datetime) -> np.ndarray | None:
        """Boolean mask of stations passing ``flt`` in ``minute``; None: nothing filtered."""
        if flt is NO_FILTER or flt.is_empty():
            return None
        key: tuple[object, ...] = (flt, minute if flt.open_now else None)
        cached = self.masks.get(key)
        if cached is not None:
            return cached
        mask = np.ones(len(self.stations), bool)
        if flt.amenities:
            need = np.uint16(0)
            for code in flt.amenities:
                need |= _AMENITY_BIT[code]
            mask &= (self.amenity_bits & need) == need
        if flt.status:
            mask &= self.isin("status", flt.status)
        if flt.host_types:
            mask &= self.isin("host_type", flt.host_types)
        if flt.entries:
            mask &= self.isin("entry", flt.entries)
        if flt.no_smartphone_ok:
            mask &= self.no_smartphone_ok
        if flt.open_now:
            mask &= self.open_states(minute) == 1
        if len(self.masks) > 256:
            self.masks.clear()
        self.masks[key] = mask
        return mask


_OPEN_STATE = (None, False, True)  # by state + 1: unknown, closed, open
_COORDS = struct.Struct("4d")
_COORDS_SIZE = _COORDS.size
_minute_now: tuple[int, datetime] = (-1, datetime.min)


def _minute(at: datetime | None) -> datetime:
    """``at`` (default: now) truncated to its minute — the granularity of opening hours.

    "Now" is the hot case: one ``time.time()`` call, and the aware datetime is only built
    when the minute changes.
    """
    global _minute_now
    if at is not None:
        return at.replace(second=0, microsecond=0)
    whole = int(time.time()) // 60
    cached = _minute_now
    if cached[0] != whole:
        cached = _minute_now = (whole, datetime.fromtimestamp(whole * 60).astimezone())
    return cached[1]


def _in_space_order(stations: list[Station], *, recreate: bool = False) -> list[Station]:
    """The stations along a Z-order curve (ties by id); ``recreate``: as new objects.

    Why: a nearest query touches its five answers' rows, open states, coordinates and
    Station objects. In id order these lie anywhere in arrays of 100k entries and a heap of
    ~100 MB, and the scattered cache and TLB misses were about half of a catalog query
    that had to wait for memory. In space order, neighbours share cache lines; re-created
    in that order at load (~0.1 s per 100k), the objects share pages too. Later edits
    replace single stations and barely disturb it.
    """
    stations = sorted(stations, key=lambda s: s.id)
    order = z_order(
        np.fromiter((s.data.lon for s in stations), float, len(stations)),
        np.fromiter((s.data.lat for s in stations), float, len(stations)),
    )
    if not recreate:
        return [stations[p] for p in order.tolist()]
    return [replace(s) for s in (stations[p] for p in order.tolist())]


class StationCatalog:
    """All live stations, kept in step with a ``StationStore``.

    Two ways to hold them, with the same answers (a property test compares them):

    * in memory (the default, and the reference): every station a Python object in this
      process, arrays derived from them;
    * ``shared``: one memory-mapped snapshot per host (:mod:`stations.mapped`), written by
      whichever process notices a change and mapped by every worker; stations are decoded
      from it on demand, up to ``keep_decoded`` of them kept.
    """

    def __init__(
        self,
        store: StationStore,
        *,
        tz: str = DEFAULT_TZ,
        shared: SnapshotFiles | None = None,
        keep_decoded: int = 16_384,
    ) -> None:
        self.store = store
        self.tz = tz
        self.shared = shared
        self._keep_decoded = keep_decoded
        self._lock = threading.Lock()
        self._by_id: dict[tuple[object, ...], tuple[np.ndarray | None, np.ndarray]] = {}
        self._by_id_of: _Snapshot | None = None
        self.refreshed_at = datetime.now().astimezone()
        self._swept_at = self.refreshed_at
        if shared is not None:
            self._snap = self._open_shared(shared)
            self._counter = self._snap.counter  # type: ignore[attr-defined]
            self._freeze()
            self.refresh()  # changes committed after the version found
            return
        # The change feed's numbers are gapless and in commit order (``change_clock``): read
        # before the stations, every change committed later has a higher number, and one
        # already in the load is only re-read, never missed.
        self._counter = store.feed_head()
        self._snap = _Snapshot(_in_space_order(store.all(), recreate=True), tz).warm()
        self._freeze()

    # -- a shared snapshot ---------------------------------------------------------------
    def _mapped(self, version: Version) -> _Snapshot:
        from stations.mapped.snapshot import mapped_snapshot

        columns, _ = SnapshotFiles.open(version)
        return mapped_snapshot(columns, version.counter, self.tz, self._keep_decoded).warm()

    def _valid(self, version: Version) -> bool:
        """Whether ``version`` was written from this store's history: the feed entry at its
        position names the same station (a database recreated or restored from an older
        backup under the same URL does not).
        """
        if version.counter == 0:  # empty then: everything since is re-read from the feed
            return True
        if self.store.feed_head() < version.counter:
            return False
        try:
            _, meta = SnapshotFiles.open(version)
        except FileNotFoundError:
            return False
        entry = self.store.feed_changes(version.counter - 1)[:1]
        return [list(e) for e in entry] == [[version.counter, meta.get("station_id")]]

    def _open_shared(self, shared: SnapshotFiles) -> _Snapshot:
        """The newest valid version, written first from the store if there is none."""
        from stations.mapped.build import write_first_version

        with shared.locked():
            newest = shared.newest()
            if newest is not None and self._valid(newest):
                try:
                    return self._mapped(newest)
                except FileNotFoundError:  # pragma: no cover - removed under the lock
                    pass
            shared.discard_all()
            return self._mapped(write_first_version(self.store, shared))

    def _refresh_shared(self, shared: SnapshotFiles, changes: list[tuple[int, int]]) -> None:
        """Swap to the version after ``changes``: one another process wrote already, or
        one written here from the current version and the changed stations.
        """
        from stations.mapped.build import publish
        from stations.mapped.records import patched_columns

        with shared.locked():
            snap, counter = self._snap, self._counter
            newest = shared.newest()
            if newest is not None and newest.counter > counter and self._valid(newest):
                try:
                    snap, counter = self._mapped(newest), newest.counter
                    changes = self.store.feed_changes(counter)
                except FileNotFoundError:
                    pass
            if changes:
                changed = self.store.get_many({s for _, s in changes})
                columns = patched_columns(snap.columns, changed)  # type: ignore[attr-defined]
                version = publish(self.store, shared, columns, changes[-1][0])
                snap, counter = self._mapped(version), version.counter
        if snap is not self._snap:
            snap.stations.carried_over(self._snap.stations, snap.by_id)  # type: ignore[attr-defined]
            self._snap, self._counter = snap, counter

    @staticmethod
    def _freeze() -> None:
        # 100k stations are ~300k long-lived objects: without this every full GC pass walks
        # them all (~150 ms pauses, the p99 spikes seen under load).
        gc.collect()
        gc.freeze()

    # -- keeping in step ---------------------------------------------------------------
    def refresh(self) -> bool:
        """Pull writes made since the last refresh (by any process). True if anything changed."""
        with self._lock:
            changes = self.store.feed_changes(self._counter)
            self.refreshed_at = datetime.now().astimezone()
            if self.shared is not None:
                turned_positions = self._freshness_turned_mapped(self.refreshed_at)
                if changes:
                    self._refresh_shared(self.shared, changes)
                return bool(changes or turned_positions)
            turned = self._freshness_turned(self.refreshed_at)
            if not changes:
                if turned:
                    self._apply(turned)
                return bool(turned)
            self._counter = changes[-1][0]
            changed = self.store.get_many({s for _, s in changes})
            ids = {s.id for s in changed}
            self._apply([*changed, *(s for s in turned if s.id not in ids)])
            return True

    def _freshness_turned(self, now: datetime) -> list[Station]:
        """Copies of the stations whose ``freshness`` turned since the last sweep (at most
        hourly): new objects, so answers cached per station object are rendered again.
        """
        if now < self._swept_at + timedelta(hours=1):
            return []
        before, self._swept_at = self._swept_at, now
        return [
            replace(s)
            for s in self._snap.stations
            if s.verified_at is not None
            and freshness(s.verified_at, before) != freshness(s.verified_at, now)
        ]

    def _freshness_turned_mapped(self, now: datetime) -> list[int]:
        """:meth:`_freshness_turned` for a shared snapshot: the turned stations' decoded
        objects are dropped (new ones are decoded on the next read), nothing is written.
        """
        from stations.mapped.snapshot import turned_positions
        from stations.trust.recheck import STALE_DAYS

        if now < self._swept_at + timedelta(hours=1):
            return []
        before, self._swept_at = self._swept_at, now
        snap = self._snap
        stations = snap.stations
        turned = turned_positions(
            snap.columns,  # type: ignore[attr-defined]
            stations,  # type: ignore[arg-type]
            before,
            now,
            timedelta(days=STALE_DAYS),
        )
        stations.evict(turned)  # type: ignore[attr-defined]
        return turned

    def _apply(self, changed: Iterable[Station]) -> None:
        snap = self._snap
        updates: dict[int, Station] = {}
        structural = False
        changed = list(changed)
        for station in changed:
            pos = snap.by_id.get(station.id)
            if pos is None:
                structural = structural or not station.deleted  # a new station
            elif station.deleted:
                structural = True
            else:
                updates[pos] = station
        if not structural:
            self._snap = snap.patched(updates).warm()
            return
        current = {s.id: s for s in snap.stations}
        for station in changed:
            if station.deleted:
                current.pop(station.id, None)
            else:
                current[station.id] = station
        self._snap = _Snapshot(_in_space_order(list(current.values())), self.tz).warm()

    @property
    def counter(self) -> int:
        """The change feed's number the catalog has caught up with (``store.feed_head()``)."""
        return self._counter

    def __len__(self) -> int:
        return len(self._snap.stations)

    def all(self) -> Sequence[Station]:
        """Every live station, by id (the same list object until the next change)."""
        return self._snap.in_id_order

    def points(self) -> tuple[np.ndarray, np.ndarray]:
        """Every live station's longitude and latitude in :meth:`all`'s order (by id), from
        the snapshot's arrays: for callers that need the points only, no station is read
        (with a shared snapshot, a walk over :meth:`all` decodes every station).
        """
        snap = self._snap
        order = snap.id_order
        return snap.lon[order], snap.lat[order]

    def get(self, station_id: int) -> Station:
        """One live station by id; ``NotFound`` if there is none."""
        snap = self._snap
        pos = snap.by_id.get(station_id)
        if pos is None:
            raise NotFound(Message("station {id} not found", id=station_id))
        return snap.stations[pos]

    def states_by_id(
        self, flt: StationFilter | None = None, at: datetime | None = None
    ) -> tuple[datetime, np.ndarray | None, np.ndarray]:
        """For maps drawn from arrays in :meth:`all`'s order (by id): the minute evaluated,
        the mask of stations passing ``flt`` (None: nothing filtered) and every station's
        open state (1 open, 0 closed, -1 unknown), from one snapshot, kept for the minute.
        """
        snap = self._snap
        minute = _minute(at)
        if self._by_id_of is not snap:
            self._by_id, self._by_id_of = {}, snap
        key = (flt, minute)
        found = self._by_id.get(key)
        if found is None:
            order = snap.id_order
            mask = snap.mask(flt or NO_FILTER, minute)
            found = (None if mask is None else mask[order], snap.open_states(minute)[order])
            if len(self._by_id) > 64:
                self._by_id.clear()
            self._by_id[key] = found
        return minute, found[0], found[1]

    def app_coords(self, stations: Sequence[Station]) -> list[AppCoords]:
        """The navigation points of ``stations`` (:func:`navigation_coords` rows), read from
        the snapshot's, or converted for a station the snapshot no longer holds.
        """
        snap = self._snap
        buf = snap.app_coords
        held = snap.held
        by_id = snap.by_id
        out = []
        for station in stations:
            pos = by_id.get(station.id)
            if pos is not None and held[pos] is station:
                out.append(_COORDS.unpack_from(buf, pos * _COORDS_SIZE))
            else:  # replaced since the query read it: its own point, not the new one's
                row = navigation_coords([station.data.lon], [station.data.lat])
                out.append(tuple(row[0].tolist()))
        return out  # type: ignore[return-value]

    @property
    def feature_parts(self) -> Callable[[Station], tuple[bytes, ...] | None] | None:
        """A faster writer of a nearest answer's missed features (a shared snapshot's, from
        its records; ``stations.mapped.render``), or None.
        """
        return self._snap.feature_parts

    def open_now(self, station: Station, at: datetime) -> bool | None:
        """Whether ``station`` is open at ``at`` (None when its hours are unknown)."""
        return is_open(station.data.opening_hours, station.data.status, at, self.tz)

    # -- queries -----------------------------------------------------------------------
    def nearest(self, query: NearestQuery) -> list[Hit]:
        """The k nearest stations passing the filter, by geodesic distance (ties by id)."""
        snap = self._snap
        if not snap.stations:
            return []
        minute = _minute(query.at)
        allowed = snap.mask(query.filter, minute)
        return nearest_rows(
            snap.index,
            query.lon,
            query.lat,
            query.k,
            snap.held,
            snap.open_codes(minute),
            _OPEN_STATE,
            Hit,
            max_distance_m=query.max_distance_m,
            allowed=allowed,
            fill=snap.fill,
        )

    def search(self, query: ListQuery) -> tuple[list[Hit], int]:
        """A page of stations (by id) matching bbox, text and filters, and the total count."""
        snap = self._snap
        minute = _minute(query.at)
        n = len(snap.stations)
        mask = snap.mask(query.filter, minute)
        mask = np.ones(n, bool) if mask is None else mask.copy()
        if query.bbox is not None:
            west, south, east, north = query.bbox
            in_lat = (snap.lat >= south) & (snap.lat <= north)
            if west <= east:
                in_lon = (snap.lon >= west) & (snap.lon <= east)
            else:  # bbox across the antimeridian
                in_lon = (snap.lon >= west) | (snap.lon <= east)
            mask &= in_lat & in_lon
        if query.orgs is not None:
            orgs = query.orgs
            mask &= np.isin(snap.org_ids, list(orgs))
        if query.q:
            keep = snap.text_matches(query.q.strip().casefold(), np.flatnonzero(mask))
            mask[:] = False
            mask[keep] = True
        positions = np.flatnonzero(mask)
        if positions.size * 16 < n:  # a map view or a filter: sort the few by id
            positions = positions[np.argsort(snap.ids[positions])]
        else:  # most of the catalog: walk it in id order
            order = snap.id_order
            positions = order[mask[order]]
        page = positions[query.offset : query.offset + query.limit]
        states = snap.open_states(minute)
        hits = []
        for pos in page.tolist():
            state = int(states[pos])
            hits.append(Hit(snap.stations[pos], None, None if state < 0 else bool(state)))
        return hits, int(positions.size)
