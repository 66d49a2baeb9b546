"""Probable duplicates: near-identical names within 30 m, in the file or against the store.

Flagged as warnings, never refused (two stations in one mall can be genuine). The check must
stay O(n log n) in time and bounded in memory whatever the data: a sheet where thousands of
rows sit on one point (every address geocoded to a district centroid, a column pasted down)
once produced every pair of them. So:

1. Identical points are collapsed first (one sort). A point shared by more than
   :data:`CROWD` rows or stations is reported *once* ("N rows share this point"); a few rows
   on one point are compared pairwise by name.
2. The distinct points go into :class:`geodata.spatial_index.GeodesicIndex`; each is asked
   for its neighbours within 30 geodesic metres. A point with more than :data:`CROWD`
   distinct neighbours is again reported once, and its neighbourhood is not searched again.

Every pair compared therefore involves at most ``CROWD`` points on each side, so the work is
the index's (n log n) plus at most ``n · CROWD²`` name comparisons.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from geodata.spatial_index import GeodesicIndex
from stations.errors import FieldError
from stations.i18n import Message, translate
from stations.model import Station, StationData

__all__ = ["CROWD", "DUPLICATE_RADIUS_M", "probable_duplicates"]

#: Two stations with near-identical names closer than this are flagged as probable duplicates.
DUPLICATE_RADIUS_M = 30.0
#: More rows than this on one point, or distinct points within the radius of one, are
#: reported once as a crowd instead of pair by pair.
CROWD = 8
#: Names at least this similar (difflib ratio, after normalising) count as near-identical.
_NAME_SIMILARITY = 0.9
_DROP_CATEGORIES = ("P", "S", "Z", "C")
_SHOWN = 5


def _name_key(name: str) -> str:
    text = unicodedata.normalize("NFKC", name).casefold()
    return "".join(ch for ch in text if not unicodedata.category(ch).startswith(_DROP_CATEGORIES))


def _similar(a: str, b: str) -> bool:
    if a == b:
        return True
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() >= _NAME_SIMILARITY


@dataclass(frozen=True)
class _Listing:
    """Rows and stations named in one message, in the reader's language (``、`` in Chinese)."""

    names: list[Message]
    more: int

    def text(self, lang: str) -> str:
        shown = translate(", ", lang).join(m.text(lang) for m in self.names)
        return shown + (translate(" and {more} more", lang, more=self.more) if self.more else "")


@dataclass(frozen=True)
class _Item:
    from_file: bool
    ref: int  # sheet row number, or stored station id
    name: str
    key: str

    def what(self) -> Message:
        if self.from_file:
            return Message("row {ref}", ref=self.ref)
        return Message("station {ref}", ref=self.ref)


def probable_duplicates(
    numbers: Sequence[int],
    validated: Sequence[StationData | None],
    matched: Sequence[Station | None],
    bad_rows: set[int],
    stored: Sequence[Station],
) -> list[FieldError]:
    """Warnings for near-duplicate pairs and crowded points; each involves a file row.

    Parameters
    ----------
    numbers, validated, matched : sequences, one entry per sheet row
        Row numbers, validated data (None when invalid) and the stored station each row
        updates (None for new rows).
    bad_rows : set of int
        Rows refused; they take no part.
    stored : sequence of Station
        The live stations; those a row updates are replaced by that row.
    """
    items: list[_Item] = []
    lons: list[float] = []
    lats: list[float] = []
    touched = set()
    for number, data, station in zip(numbers, validated, matched, strict=True):
        if station is not None:
            touched.add(station.id)
        if data is None or number in bad_rows:
            continue
        items.append(_Item(True, number, data.name, _name_key(data.name)))
        lons.append(data.lon)
        lats.append(data.lat)
    if not items:
        return []
    for s in stored:
        if s.id not in touched:
            items.append(_Item(False, s.id, s.data.name, _name_key(s.data.name)))
            lons.append(s.data.lon)
            lats.append(s.data.lat)
    if len(items) < 2:
        return []
    found = _Finder(items, np.asarray(lons), np.asarray(lats)).run()
    found.sort(key=lambda e: e.row or 0)
    return found


class _Finder:
    def __init__(self, items: list[_Item], lon: NDArray[np.float64], lat: NDArray[np.float64]):
        self.items = items
        # Collapse identical points: ``groups[u]`` are the items at distinct point ``u``.
        points = np.column_stack([lon, lat])
        unique, inverse = np.unique(points, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        order = np.argsort(inverse, kind="stable")
        bounds = np.searchsorted(inverse[order], np.arange(len(unique) + 1))
        self.groups = [order[bounds[u] : bounds[u + 1]].tolist() for u in range(len(unique))]
        self.ulon = unique[:, 0]
        self.ulat = unique[:, 1]
        self.has_file = np.array([any(items[i].from_file for i in g) for g in self.groups])
        self.found: list[FieldError] = []

    def run(self) -> list[FieldError]:
        crowded = np.zeros(len(self.groups), dtype=bool)
        for u, group in enumerate(self.groups):
            if len(group) > CROWD:
                crowded[u] = True
                if self.has_file[u]:
                    self._shared_point(u, group)
            elif len(group) > 1:
                self._compare(group, group, 0.0)
        if len(self.groups) < 2:
            return self.found
        index = GeodesicIndex(np.arange(len(self.groups)), self.ulon, self.ulat)
        searched = crowded.copy()
        for u in np.flatnonzero(self.has_file & ~crowded).tolist():
            if searched[u]:
                continue
            near, metres = index.within(
                float(self.ulon[u]), float(self.ulat[u]), DUPLICATE_RADIUS_M
            )
            if len(near) - 1 > CROWD:
                self._crowd(u, len(near))
                searched[near] = True
                continue
            for v, d in zip(near.tolist(), metres.tolist(), strict=True):
                if v == u or crowded[v] or (self.has_file[v] and v < u):
                    continue  # itself, a crowd already reported, or a pair seen from v
                self._compare(self.groups[u], self.groups[v], d)
        return self.found

    def _compare(self, left: list[int], right: list[int], metres: float) -> None:
        same = left is right
        for a_pos, a in enumerate(left):
            for b in right[a_pos + 1 :] if same else right:
                ia, ib = self.items[a], self.items[b]
                if not (ia.from_file or ib.from_file) or not _similar(ia.key, ib.key):
                    continue
                # Report on a file row; name the other as a row or a stored station.
                here, other = (ib, ia) if ib.from_file else (ia, ib)
                self.found.append(
                    FieldError.from_catalog(
                        "name",
                        "probable duplicate of {what} ({other}, {metres} m apart)",
                        here.name,
                        here.ref,
                        what=other.what(),
                        other=repr(other.name),
                        metres=f"{metres:.1f}",
                    )
                )

    def _listing(self, group: list[int]) -> tuple[_Item, _Listing]:
        members = [self.items[i] for i in group]
        first = next(m for m in members if m.from_file)
        shown = members[:_SHOWN]
        return first, _Listing([m.what() for m in shown], len(members) - len(shown))

    def _shared_point(self, u: int, group: list[int]) -> None:
        first, listing = self._listing(group)
        lon, lat = float(self.ulon[u]), float(self.ulat[u])
        self.found.append(
            FieldError.from_catalog(
                "lon/lat",
                "{n} rows and stations share this point ({lon}, {lat}): {listing}; "
                "check they are not one station, or a geocoded district centre",
                (lon, lat),
                first.ref,
                n=len(group),
                lon=f"{lon:.6f}",
                lat=f"{lat:.6f}",
                listing=listing,
            )
        )

    def _crowd(self, u: int, n: int) -> None:
        first, _ = self._listing(self.groups[u])
        self.found.append(
            FieldError.from_catalog(
                "lon/lat",
                "{n} distinct points lie within {radius} m of this row; "
                "duplicates there were not compared one by one, please check them on the map",
                (float(self.ulon[u]), float(self.ulat[u])),
                first.ref,
                n=n,
                radius=f"{DUPLICATE_RADIUS_M:g}",
            )
        )
