"""The catalog as columns: what a shared snapshot holds, built from stations and back.

A snapshot is a handful of NumPy arrays in the catalog's space order (what the nearest
search and the filters read: ids, coordinates, amenity bits, codes for status, host type
and entry, an hours-table index, organisations, navigation points) and one blob of compact
JSON records from which a :class:`~stations.model.Station` is decoded when it is asked for.
Every worker of a host maps the same files, so these bytes exist once per host instead of
once per worker as 200,000 Python objects.

A record is a JSON array of the station's fields in a fixed order (no keys: about half the
bytes of the dict form), UTF-8 with Chinese kept as is (3 bytes a character, not a 6-byte
escape). Floats are written by ``repr`` and read back bit for bit, datetimes by
``isoformat`` and ``fromisoformat``, so a decoded station equals the stored one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np

from geodata.spatial_index import z_order
from stations.model import Station, StationData
from stations.navigation import navigation_coords
from stations.vocabulary import AMENITIES

__all__ = ["Columns", "build_columns", "decode_record", "encode_record", "patched_columns"]

#: Station fields after ``id``, then the StationData fields, in record order.
_DATA = (
    "name",
    "lon",
    "lat",
    "external_id",
    "address",
    "district",
    "host_type",
    "host_org",
    "amenities",
    "opening_hours",
    "opening_hours_text",
    "phone",
    "status",
    "notes",
    "geocoded",
    "entry",
    "no_smartphone_ok",
    "photos",
)
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
_AMENITY_BIT = {code: 1 << i for i, code in enumerate(AMENITIES)}

#: The coded columns: each value is stored as its index in the snapshot's own table.
CODED = ("status", "host_type", "entry")


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def encode_record(station: Station) -> bytes:
    """``station`` as one compact JSON array (see the module docstring)."""
    d = station.data
    return _ENCODE(
        [
            station.id,
            station.version,
            station.created_at.isoformat(),
            station.updated_at.isoformat(),
            station.deleted,
            station.org_id,
            _iso(station.verified_at),
            *(getattr(d, name) for name in _DATA),
        ]
    ).encode()


_parse = json.JSONDecoder().decode
_from_iso = datetime.fromisoformat


def decode_record(raw: bytes | memoryview) -> Station:
    """The station :func:`encode_record` wrote."""
    v: list[Any] = _parse(bytes(raw).decode())
    (
        sid,
        version,
        created,
        updated,
        deleted,
        org_id,
        verified,
        name,
        lon,
        lat,
        external_id,
        address,
        district,
        host_type,
        host_org,
        amenities,
        hours,
        hours_text,
        phone,
        status,
        notes,
        geocoded,
        entry,
        no_smartphone_ok,
        photos,
    ) = v
    data = StationData(
        name,
        float(lon),
        float(lat),
        external_id,
        address,
        district,
        host_type,
        host_org,
        tuple(amenities),
        hours,
        hours_text,
        phone,
        status,
        notes,
        geocoded,
        entry,
        no_smartphone_ok,
        tuple(photos),
    )
    return Station(
        sid,
        data,
        version,
        _from_iso(created),
        _from_iso(updated),
        deleted,
        org_id,
        None if verified is None else _from_iso(verified),
    )


class Columns:
    """One snapshot's arrays and tables, in memory (to be written) or mapped (opened).

    ``arrays`` by name, each of length ``n`` in space order except ``offsets`` (n + 1:
    record ``p`` is ``blob[offsets[p]:offsets[p + 1]]``); ``tables`` holds the coded
    columns' values and the (hours, status) pairs that ``hours_of`` indexes.
    """

    __slots__ = ("arrays", "blob", "tables")

    def __init__(
        self, arrays: dict[str, np.ndarray], blob: np.ndarray, tables: dict[str, list[Any]]
    ) -> None:
        self.arrays = arrays
        self.blob = blob
        self.tables = tables

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
# The _PLAIN arrays, the coded values (lists), and the records as byte ranges: row r is
# ``buffers[source[r]][start[r]:start[r] + length[r]]`` ("buffers", "source", "start",
# "length"). Ranges, not one bytes object per record: a patch copies 200,000 records from
# the mapped blob without making 200,000 small objects the heap would keep afterwards.
_Rows = dict[str, Any]


def _fresh_records(stations: Sequence[Station]) -> dict[str, Any]:
    encoded = [encode_record(s) for s in stations]
    length = np.fromiter((len(b) for b in encoded), np.int64, len(encoded))
    start = np.zeros(len(encoded), np.int64)
    if len(encoded):
        np.cumsum(length[:-1], out=start[1:])
    return {
        "buffers": [memoryview(b"".join(encoded))],
        "source": np.zeros(len(encoded), np.int32),
        "start": start,
        "length": length,
    }


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
        **_fresh_records(stations),
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
    off = a["offsets"]
    rows["buffers"] = [old.blob.data]
    rows["source"] = np.zeros(len(keep), np.int32)
    rows["start"] = off[keep]
    rows["length"] = off[keep + 1] - off[keep]
    return rows


def _columns(rows: _Rows) -> Columns:
    """The rows laid out in space order: a Z-order curve over the map, ties by id (the
    catalog's order, see ``stations.search._in_space_order``).
    """
    ids0 = rows["ids"]
    n = int(ids0.shape[0])
    by_id = np.argsort(ids0, kind="stable")
    order = by_id[z_order(rows["lon"][by_id], rows["lat"][by_id])] if n else by_id
    arrays = {name: np.ascontiguousarray(rows[name][order]) for name in _PLAIN}
    arrays["id_order"] = np.argsort(arrays["ids"], kind="stable").astype(np.int64)
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
    length = rows["length"][order]
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(length, out=offsets[1:])
    arrays["offsets"] = offsets
    blob = np.empty(int(offsets[-1]), np.uint8)
    out = blob.data
    buffers = rows["buffers"]
    for o, src, s, ln in zip(
        offsets[:-1].tolist(),
        rows["source"][order].tolist(),
        rows["start"][order].tolist(),
        length.tolist(),
        strict=True,
    ):
        out[o : o + ln] = buffers[src][s : s + ln]
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
        if name == "buffers":
            rows[name] = [*value, *other]
        elif name == "source":
            rows[name] = np.concatenate([value, other + len(kept["buffers"])])
        elif isinstance(value, np.ndarray):
            rows[name] = np.concatenate([value, other])
        else:
            rows[name] = [*value, *other]
    return _columns(rows)
