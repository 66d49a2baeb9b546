"""The catalog as columns: what a shared snapshot holds, built from stations and back.

A snapshot is a handful of NumPy arrays in the catalog's space order (what the nearest
search and the filters read: ids, coordinates, amenity bits, codes for status, host type
and entry, an hours-table index, organisations, navigation points), the nearest index
built over them (``GeodesicIndex.built``: the k-d tree's points, order and axes), one blob
of compact JSON records from which a :class:`~stations.model.Station` is decoded when it is
asked for, and one of the case-folded names and addresses text search reads
(:func:`search_text`). Every worker of a host maps the same files, so these bytes exist
once per host instead of once per worker as 200,000 Python objects and their copies.

A record is a JSON array of what the arrays do not hold (no keys; coordinates, codes, hours,
organisation and amenities come from the station's row of the arrays), UTF-8 with Chinese
kept as is (3 bytes a character, not a 6-byte escape), UTC times as integer microseconds:
about 235 bytes a national station, where the full record took 460. Floats are read back
bit for bit from the arrays, so a decoded station equals the stored one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from geodata.spatial_index import GeodesicIndex, z_order
from stations.mapped._decode import Maker, RecordDecoder
from stations.model import Station, StationData
from stations.navigation import navigation_coords
from stations.vocabulary import AMENITIES

__all__ = [
    "Columns",
    "build_columns",
    "decode_record",
    "encode_record",
    "patched_columns",
    "search_text",
]

_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
_AMENITY_BIT = {code: 1 << i for i, code in enumerate(AMENITIES)}
_UTC_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

#: The coded columns: each value is stored as its index in the snapshot's own table.
CODED = ("status", "host_type", "entry", "opening_hours_text")


def _when(value: datetime | None) -> int | str | None:
    """A UTC time as integer microseconds since the epoch (16 digits where ``isoformat``
    writes 32), any other as ISO text; both read back exactly.
    """
    if value is None:
        return None
    if value.tzinfo is UTC:
        return (value - _UTC_EPOCH) // timedelta(microseconds=1)
    return value.isoformat()


_from_ts = datetime.fromtimestamp


def _time(value: int | str | None) -> datetime | None:
    if value is None:
        return None
    if type(value) is int:
        seconds, micros = divmod(value, 1_000_000)
        return _from_ts(seconds, UTC).replace(microsecond=micros)
    return datetime.fromisoformat(value)  # type: ignore[arg-type]


def _canonical(amenities: tuple[str, ...]) -> bool:
    """Whether ``amenities`` is what the amenity bits give back (vocabulary order)."""
    return amenities == tuple(c for c in AMENITIES if c in amenities)


def encode_record(station: Station) -> bytes:
    """What of ``station`` the arrays do not hold, as one JSON array.

    Coordinates, status, host type, entry, hours, organisation are read from the arrays;
    amenities too when they are in vocabulary order (as validation writes them).
    """
    d = station.data
    return _ENCODE(
        [
            station.id,
            station.version,
            _when(station.created_at),
            _when(station.updated_at),
            station.deleted,
            _when(station.verified_at),
            d.name,
            d.external_id,
            d.address,
            d.district,
            d.host_org,
            None if _canonical(d.amenities) else list(d.amenities),
            d.phone,
            d.notes,
            d.geocoded,
            d.no_smartphone_ok,
            list(d.photos),
        ]
    ).encode()


_parse = json.JSONDecoder().decode
# The dataclasses filled in C (every field given, as the decoder always does; they have no
# __post_init__), where their generated __init__ sets each field from Python.
_make_data = Maker(StationData, [f.name for f in fields(StationData)])
_make_station = Maker(Station, [f.name for f in fields(Station)])


# Where the record (a JSON list, :func:`encode_record`) keeps amenities and photos.
_AMENITIES_AT = 11
_PHOTOS_AT = 16


def _amenities_of(bits: int) -> tuple[str, ...]:
    """The amenity codes set in ``bits``, in vocabulary order."""
    return tuple(c for c in AMENITIES if bits & _AMENITY_BIT[c])


class _Decoder:
    """Reads a station back from its record and its row of the arrays.

    Calling it decodes in C (:class:`~stations.mapped._decode.RecordDecoder`: the record
    parsed where it lies, the objects made without Python-level calls), with
    :meth:`_fields` (the JSON parse) for a record that parser leaves alone;
    :meth:`reference` is the plain decoding a test holds it to.
    """

    def __init__(self, columns: Columns) -> None:
        # The arrays as memoryviews: indexing one gives a Python int or float at once, where
        # a numpy scalar costs ~0.2 µs to make and convert; a decode reads nine of them.
        a, t = {k: _view(v) for k, v in columns.arrays.items()}, columns.tables
        self.blob = columns.blob.data
        self.offsets = a["offsets"]
        self.lon, self.lat = a["lon"], a["lat"]
        self.org_id = a["org_id"]
        self.bits = a["amenity_bits"]
        self.hours_of = a["hours_of"]
        self.hours = [h[0] for h in t["hours"]]
        self.coded = [(a[name], t[name]) for name in CODED]
        self.amenities: dict[int, tuple[str, ...]] = {}
        self.fast = RecordDecoder(
            columns.arrays,
            columns.blob,
            columns.tables,
            self._fields,
            _amenities_of,
            _make_data,
            _make_station,
        )

    def _fields(self, pos: int) -> list[Any]:
        """The record at ``pos`` parsed, its amenities a tuple (from the bits when the record
        leaves them out), its photos a tuple: the fields both decoders build from.
        """
        off = self.offsets
        f = _parse(str(self.blob[off[pos] : off[pos + 1]], "utf-8"))
        amenities = f[_AMENITIES_AT]
        if amenities is None:
            bits = self.bits[pos]
            found = self.amenities.get(bits)
            if found is None:
                found = self.amenities[bits] = _amenities_of(bits)
            f[_AMENITIES_AT] = found
        else:
            f[_AMENITIES_AT] = tuple(amenities)
        f[_PHOTOS_AT] = tuple(f[_PHOTOS_AT])
        return f

    def _data_args(self, pos: int, f: list[Any]) -> tuple[Any, ...]:
        """``StationData``'s fields in order, from the record's ``f`` and the arrays."""
        (status, statuses), (host, hosts), (entry, entries), (text, texts) = self.coded
        return (
            f[6],  # name
            self.lon[pos],
            self.lat[pos],
            f[7],  # external_id
            f[8],  # address
            f[9],  # district
            hosts[host[pos]],
            f[10],  # host_org
            f[_AMENITIES_AT],
            self.hours[self.hours_of[pos]],
            texts[text[pos]],
            f[12],  # phone
            statuses[status[pos]],
            f[13],  # notes
            f[14],  # geocoded
            entries[entry[pos]],
            f[15],  # no_smartphone_ok
            f[_PHOTOS_AT],
        )

    def __call__(self, pos: int) -> Station:
        return self.fast(pos)  # type: ignore[no-any-return]

    def reference(self, pos: int) -> Station:
        """The plain decoding (the dataclasses' own constructors, ``datetime`` from a
        timestamp) that :meth:`__call__` is held to by a test.
        """
        f = self._fields(pos)
        sid, version, created, updated, deleted, verified = f[:6]
        return Station(
            sid,
            StationData(*self._data_args(pos, f)),
            version,
            _time(created),  # type: ignore[arg-type]
            _time(updated),  # type: ignore[arg-type]
            deleted,
            self.org_id[pos],
            _time(verified),
        )


def _view(array: np.ndarray) -> Any:
    """A 1-D array's memoryview (2-D arrays, not read when decoding, stay as they are)."""
    return array.data if array.ndim == 1 and array.size else array


def decode_record(columns: Columns, pos: int) -> Station:
    """The station at ``pos`` of ``columns``: its record and its row of the arrays."""
    return columns.decoder.fast(pos)  # type: ignore[no-any-return]


class Columns:
    """One snapshot's arrays and tables, in memory (to be written) or mapped (opened).

    ``arrays`` by name, each of length ``n`` in space order except ``offsets`` (n + 1:
    record ``p`` is ``blob[offsets[p]:offsets[p + 1]]``); ``tables`` holds the coded
    columns' values and the (hours, status) pairs that ``hours_of`` indexes.
    """

    __slots__ = ("_decoder", "arrays", "blob", "tables")

    def __init__(
        self, arrays: dict[str, np.ndarray], blob: np.ndarray, tables: dict[str, list[Any]]
    ) -> None:
        self.arrays = arrays
        self.blob = blob
        self.tables = tables
        self._decoder: _Decoder | None = None

    @property
    def decoder(self) -> _Decoder:
        """Decodes the station at a position (built on first use)."""
        if self._decoder is None:
            self._decoder = _Decoder(self)
        return self._decoder

    def __len__(self) -> int:
        return int(self.arrays["ids"].shape[0])

    def record(self, pos: int) -> memoryview:
        """The record bytes of the station at ``pos``."""
        off = self.arrays["offsets"]
        return self.blob.data[int(off[pos]) : int(off[pos + 1])]


def _coded(values: Sequence[Any]) -> tuple[np.ndarray, list[Any]]:
    table = sorted(set(values), key=repr)
    code = {v: i for i, v in enumerate(table)}
    dtype = np.uint8 if len(table) <= 256 else np.int32
    return np.fromiter((code[v] for v in values), dtype, len(values)), table


def _epoch(value: datetime | None) -> float:
    return np.nan if value is None else value.timestamp()


#: Per-station values copied as they are from one snapshot to the next.
_PLAIN = ("ids", "lon", "lat", "amenity_bits", "no_smartphone_ok", "org_id", "verified_at")
# The _PLAIN arrays, the coded values (lists), and two byte strings per station as ranges
# (:class:`_Ranges`): "records" (what a station is decoded from) and "text" (its name and
# address as text search reads them, :func:`search_text`).
_Rows = dict[str, Any]


class _Ranges:
    """One byte string per row, as ranges: row r is
    ``buffers[source[r]][start[r]:start[r] + length[r]]``.

    Ranges, not one bytes object per row: a patch copies 200,000 records from the mapped
    blob without making 200,000 small objects the heap would keep afterwards.
    """

    __slots__ = ("buffers", "length", "source", "start")

    def __init__(
        self, buffers: list[Any], source: np.ndarray, start: np.ndarray, length: np.ndarray
    ) -> None:
        self.buffers, self.source, self.start, self.length = buffers, source, start, length

    @classmethod
    def of(cls, values: Sequence[bytes]) -> _Ranges:
        """Fresh byte strings, joined into one buffer."""
        length = np.fromiter((len(b) for b in values), np.int64, len(values))
        start = np.zeros(len(values), np.int64)
        if len(values):
            np.cumsum(length[:-1], out=start[1:])
        return cls([memoryview(b"".join(values))], np.zeros(len(values), np.int32), start, length)

    @classmethod
    def kept(cls, blob: np.ndarray, offsets: np.ndarray, keep: np.ndarray) -> _Ranges:
        """Rows ``keep`` of a laid-out blob (:meth:`laid_out`), not copied yet."""
        return cls(
            [blob.data],
            np.zeros(len(keep), np.int32),
            offsets[keep],
            offsets[keep + 1] - offsets[keep],
        )

    def __add__(self, other: _Ranges) -> _Ranges:
        return _Ranges(
            [*self.buffers, *other.buffers],
            np.concatenate([self.source, other.source + len(self.buffers)]),
            np.concatenate([self.start, other.start]),
            np.concatenate([self.length, other.length]),
        )

    def laid_out(self, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(offsets, blob)``: the rows in ``order`` copied into one array, row p at
        ``blob[offsets[p]:offsets[p + 1]]``.
        """
        n = len(order)
        length = self.length[order]
        offsets = np.zeros(n + 1, np.int64)
        np.cumsum(length, out=offsets[1:])
        blob = np.empty(int(offsets[-1]), np.uint8)
        out = blob.data
        buffers = self.buffers
        for o, src, s, ln in zip(
            offsets[:-1].tolist(),
            self.source[order].tolist(),
            self.start[order].tolist(),
            length.tolist(),
            strict=True,
        ):
            out[o : o + ln] = buffers[src][s : s + ln]
        return offsets, blob


def search_text(station: Station) -> bytes:
    """What a text search (``q``) looks for a word in: name and address, case-folded, as
    UTF-8 — the in-memory catalog's text (``stations.search._Snapshot.text``) encoded, so
    a word is in one exactly when its encoding is in the other (UTF-8 never matches part
    of a character).
    """
    text = f"{station.data.name}\n{station.data.address}".casefold()
    return text.encode("utf-8", "surrogatepass")


def _rows_of(stations: Sequence[Station]) -> _Rows:
    n = len(stations)
    return {
        "ids": np.fromiter((s.id for s in stations), np.int64, n),
        "lon": np.fromiter((s.data.lon for s in stations), float, n),
        "lat": np.fromiter((s.data.lat for s in stations), float, n),
        "amenity_bits": np.fromiter(
            (sum(_AMENITY_BIT[c] for c in s.data.amenities) for s in stations), np.uint16, n
        ),
        "no_smartphone_ok": np.fromiter(
            (s.data.no_smartphone_ok is True for s in stations), bool, n
        ),
        "org_id": np.fromiter((s.org_id for s in stations), np.int64, n),
        "verified_at": np.fromiter((_epoch(s.verified_at) for s in stations), float, n),
        **{name: [getattr(s.data, name) for s in stations] for name in CODED},
        "hours": [(s.data.opening_hours, s.data.status) for s in stations],
        "records": _Ranges.of([encode_record(s) for s in stations]),
        "text": _Ranges.of([search_text(s) for s in stations]),
    }


def _rows_kept(old: Columns, keep: np.ndarray) -> _Rows:
    """The rows of ``old`` at positions ``keep``, without decoding a station."""
    a = old.arrays
    rows: _Rows = {name: a[name][keep] for name in _PLAIN}
    for name in CODED:
        table = old.tables[name]
        rows[name] = [table[c] for c in a[name][keep].tolist()]
    hours = [tuple(h) for h in old.tables["hours"]]
    rows["hours"] = [hours[c] for c in a["hours_of"][keep].tolist()]
    rows["records"] = _Ranges.kept(old.blob, a["offsets"], keep)
    rows["text"] = _Ranges.kept(a["text"], a["text_offsets"], keep)
    return rows


def _columns(rows: _Rows) -> Columns:
    """The rows laid out in space order: a Z-order curve over the map, ties by id (the
    catalog's order, see ``stations.search._in_space_order``); the nearest index built
    over them once here (``GeodesicIndex.built``), so no reader builds or copies it.
    """
    ids0 = rows["ids"]
    n = int(ids0.shape[0])
    by_id = np.argsort(ids0, kind="stable")
    order = by_id[z_order(rows["lon"][by_id], rows["lat"][by_id])] if n else by_id
    arrays = {name: np.ascontiguousarray(rows[name][order]) for name in _PLAIN}
    arrays["id_order"] = np.argsort(arrays["ids"], kind="stable").astype(np.int64)
    arrays["sorted_ids"] = arrays["ids"][arrays["id_order"]]
    coords = navigation_coords(arrays["lon"], arrays["lat"])
    arrays["app_coords"] = np.ascontiguousarray(coords, np.float64).reshape(n, 4)
    positions = order.tolist()
    tables: dict[str, list[Any]] = {}
    for name in CODED:
        values = rows[name]
        arrays[name], tables[name] = _coded([values[p] for p in positions])
    hours = rows["hours"]
    hours_of, hours_table = _coded([hours[p] for p in positions])
    arrays["hours_of"] = hours_of.astype(np.int32)
    tables["hours"] = [list(h) for h in hours_table]
    arrays["offsets"], blob = rows["records"].laid_out(order)
    arrays["text_offsets"], arrays["text"] = rows["text"].laid_out(order)
    index = GeodesicIndex(arrays["ids"], arrays["lon"], arrays["lat"])
    arrays.update(index.built())
    return Columns(arrays, blob, tables)


def build_columns(stations: Sequence[Station]) -> Columns:
    """The columns of ``stations`` (live ones), laid out in the catalog's space order."""
    return _columns(_rows_of(stations))


def patched_columns(old: Columns, changed: Sequence[Station]) -> Columns:
    """``old`` with ``changed`` applied: a deleted station leaves, any other replaces the
    station of its id or joins. Unchanged stations are copied as arrays and record bytes,
    never decoded: a patch of a 200,000-station snapshot costs a fraction of a load.
    """
    replaced = np.fromiter((s.id for s in changed), np.int64, len(changed))
    keep = np.flatnonzero(~np.isin(old.arrays["ids"], replaced))
    kept = _rows_kept(old, keep)
    fresh = _rows_of([s for s in changed if not s.deleted])
    rows: _Rows = {}
    for name, value in kept.items():
        other = fresh[name]
        if isinstance(value, np.ndarray):
            rows[name] = np.concatenate([value, other])
        else:  # lists and ranges
            rows[name] = value + other
    return _columns(rows)
