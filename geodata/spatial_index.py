"""Exact nearest-neighbour and radius queries under WGS-84 geodesic distance.

How it stays exact
------------------
Each point is placed on the surface of the WGS-84 ellipsoid in Earth-centred Cartesian
coordinates (ECEF, metres) and a k-d tree is built over those 3-D points. The straight line
between two surface points (the *chord*) is never longer than the geodesic between them, since
the geodesic is also a curve joining them in 3-D space::

    geodesic_m(p, q) >= chord_m(p, q)                                     (1)

The usual alternative — unit vectors on a sphere with ``geodesic >= R_lower · chord`` — needs
``R_lower = b`` (the semi-minor axis, using parametric latitude) and is then up to 0.34 % loose,
which costs extra candidates; chords between points on the ellipsoid itself need no constant:
(1) holds exactly, and over a few kilometres the two differ by ``d³ / 24R²`` (about a
micrometre at 1 km), so the chord ranking is nearly always the geodesic ranking already. A query fetches ``k + 1`` points by chord, measures the geodesic to the
candidates with :class:`pyproj.Geod` and accepts them only when the (k+1)-th chord is longer
than the k-th geodesic plus a 1 µm slack for rounding (both computations are good to ~10 nm):
by (1) nothing unfetched can then beat or tie the k-th result. Otherwise — duplicate points,
ties, a distance cap, a filter — it fetches every point whose chord is within the k-th geodesic
found so far (which by (1) contains every point that could rank) and ranks those. Results are
sorted by (geodesic metres, id), exactly as a brute-force geodesic ranking would be.

Filters (``allowed``)
---------------------
The caller's filters (amenities, open now, status…) arrive as a boolean mask over positions.
The k-d tree skips masked-out points during the search itself, so a filter that
passes a fair share of points costs little more than none. When very few points pass, the
tree search has to wade through many rejected ones (about ``(k+1)·N/m`` of them for ``m``
allowed points) and scanning the allowed points directly is cheaper: measured on 100,000
points the crossover is at ``m ≈ 24·(k+1)``, and below it the query measures chords to the
allowed points only (one vectorised pass) and geodesics to a handful of them. A strided
sample of the mask decides the common case without counting all N entries.

Radius queries collect the ball ``chord <= radius`` (a superset, by (1)) from the same tree,
skipping masked-out points, then keep the points whose geodesic is within the radius.

Speed
-----
The common query — k up to 64, no distance cap, a filter passing a fair share of points —
runs in one compiled call (:class:`geodata._chordtree.ChordTree`): the k-d tree search over
the ECEF points and the k geodesics, with GeographicLib's ``geod_inverse`` from the very PROJ
library pyproj calls (looked up by :func:`_proj_geodesic`), so distances are bit-identical
to :data:`geodata.distance.WGS84_GEOD`. Through pykdtree's and pyproj's Python interfaces the
same work cost ~16 µs, most of it argument handling; in one call it is ~4 µs at 100,000
points. Ties, caps, very selective filters and large k take the general path below, which
uses the same tree. Building the index takes ~40 ms at 100,000 points, so the service
rebuilds it after structural writes (``bench/nearest_bench.py`` measures both).
"""

from __future__ import annotations

import array
import ctypes
import functools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from geodata._chordtree import ChordTree
from geodata.distance import WGS84_GEOD
from geodata.errors import GeodataError

__all__ = ["GeodesicIndex", "spread_bits", "z_order"]

_A = float(WGS84_GEOD.a)
_E2 = float(WGS84_GEOD.es)
# Slack for rounding in the chord (~1e-9 m) and in GeographicLib's geodesic (~1.5e-8 m).
_SLACK_M = 1e-6
# Scan the allowed points directly when fewer than this many per wanted result pass.
_SCAN_PER_RESULT = 24
# Up to this many candidates, geodesics go through pyproj's scalar fast path one by one.
_SCALAR_CANDIDATES = 16
# How many masks' counts are kept (each entry keeps its mask alive).
_COUNTED_MASKS = 16

IdArray = NDArray[np.int64]
PosArray = NDArray[np.intp]
FloatArray = NDArray[np.float64]


@functools.cache
def _proj_geodesic() -> tuple[int, int]:
    """Addresses of PROJ's ``geod_inverse`` and ``geod_init``, the C code behind pyproj.Geod.

    They are looked up through pyproj's own extension module (``dlsym`` searches a library's
    dependencies too), so the compiled index calls the same library build as
    :data:`WGS84_GEOD` — a wheel's bundled PROJ or the system's — and its distances are
    bit-identical to ``WGS84_GEOD.inv``.
    """
    import pyproj._geod

    lib = ctypes.CDLL(pyproj._geod.__file__)
    inverse = ctypes.cast(lib.geod_inverse, ctypes.c_void_p).value
    init = ctypes.cast(lib.geod_init, ctypes.c_void_p).value
    if not inverse or not init:  # pragma: no cover - PROJ has exported both since 4.9
        raise ImportError("PROJ's geod_inverse/geod_init not found through pyproj")
    return inverse, init


def spread_bits(v: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """Put bit i of each (up to 32-bit) value at bit 2i: the Morton interleave (the one
    used by the nearest index's order and by the vector tiles' runs).
    """
    for shift, keep in (
        (16, 0x0000FFFF0000FFFF),
        (8, 0x00FF00FF00FF00FF),
        (4, 0x0F0F0F0F0F0F0F0F),
        (2, 0x3333333333333333),
        (1, 0x5555555555555555),
    ):
        v = (v | (v << np.uint64(shift))) & np.uint64(keep)
    return v


def z_order(lon: ArrayLike, lat: ArrayLike) -> PosArray:
    """Positions sorted along a Z-order (Morton) curve over lon/lat, ties by position.

    Why: laying per-point data out in this order puts points that are near in space near in
    memory, so a query that touches a handful of neighbours reads a handful of cache lines
    instead of one per neighbour. 21 bits per axis: cells of ~19 m.
    """
    lon_a = np.asarray(lon, dtype=np.float64)
    lat_a = np.asarray(lat, dtype=np.float64)
    scale = float((1 << 21) - 1)
    x = np.clip((lon_a + 180.0) / 360.0, 0.0, 1.0) * scale
    y = np.clip((lat_a + 90.0) / 180.0, 0.0, 1.0) * scale
    code = spread_bits(x.astype(np.uint64)) | (spread_bits(y.astype(np.uint64)) << np.uint64(1))
    return np.argsort(code, kind="stable").astype(np.intp, copy=False)


def _ecef(lon: FloatArray, lat: FloatArray) -> FloatArray:
    """Points on the WGS-84 ellipsoid surface as an (n, 3) array of ECEF metres."""
    lam = np.radians(lon)
    phi = np.radians(lat)
    sin_phi = np.sin(phi)
    cos_phi = np.cos(phi)
    normal = _A / np.sqrt(1.0 - _E2 * sin_phi * sin_phi)
    xyz = np.empty((lon.shape[0], 3), dtype=np.float64)
    xyz[:, 0] = normal * cos_phi * np.cos(lam)
    xyz[:, 1] = normal * cos_phi * np.sin(lam)
    xyz[:, 2] = normal * (1.0 - _E2) * sin_phi
    return xyz


def _ecef_point(lon: float, lat: float) -> FloatArray:
    lam = math.radians(lon)
    phi = math.radians(lat)
    sin_phi = math.sin(phi)
    cos_phi = math.cos(phi)
    normal = _A / math.sqrt(1.0 - _E2 * sin_phi * sin_phi)
    return np.array(
        [
            [
                normal * cos_phi * math.cos(lam),
                normal * cos_phi * math.sin(lam),
                normal * (1.0 - _E2) * sin_phi,
            ]
        ]
    )


def _check_point(lon: Any, lat: Any) -> tuple[float, float]:
    try:
        x = float(lon)
    except (TypeError, ValueError):
        raise GeodataError.from_catalog(
            "lon", "{what} must be a number, got {given}", what="lon", given=repr(lon)
        ) from None
    try:
        y = float(lat)
    except (TypeError, ValueError):
        raise GeodataError.from_catalog(
            "lat", "{what} must be a number, got {given}", what="lat", given=repr(lat)
        ) from None
    if not -180.0 <= x <= 180.0:  # also rejects NaN
        raise GeodataError.from_catalog(
            "lon",
            "{what} must be finite and within ±{limit} degrees, got {given}",
            what="lon",
            limit=180,
            given=repr(x),
        )
    if not -90.0 <= y <= 90.0:
        raise GeodataError.from_catalog(
            "lat",
            "{what} must be finite and within ±{limit} degrees, got {given}",
            what="lat",
            limit=90,
            given=repr(y),
        )
    return x, y


def _check_k(k: Any) -> int:
    if type(k) is int and k >= 1:
        return k
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise GeodataError.from_catalog(
            "k", "k must be an integer of at least 1, got {given}", given=repr(k)
        )
    return int(k)


def _check_distance(value: Any, field: str) -> float:
    try:
        metres = float(value)
    except (TypeError, ValueError):
        raise GeodataError.from_catalog(
            field, "{what} must be a number of metres, got {given}", what=field, given=repr(value)
        ) from None
    if not metres >= 0.0:  # also rejects NaN
        raise GeodataError.from_catalog(
            field, "{what} must be ≥ 0 metres, got {given}", what=field, given=repr(metres)
        )
    return metres


def _readonly(arr: np.ndarray) -> np.ndarray:
    """``arr`` itself if it is read-only, else a read-only view of it (the caller's array
    stays writable: the index must not change under a query, nor change its caller's flags).
    """
    if not arr.flags.writeable:
        return arr
    view = arr.view()
    view.setflags(write=False)
    return view


def _empty() -> tuple[IdArray, FloatArray]:
    return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)


class GeodesicIndex:
    """In-memory index of points answering exact geodesic k-nearest and radius queries.

    Parameters
    ----------
    ids : array_like of int
        One unique integer id per point; results tie-break on it.
    lon, lat : array_like of float
        WGS-84 degrees, same length as ``ids``.

    Raises
    ------
    GeodataError
        Mismatched lengths, non-integer or duplicate ids, or a coordinate that is not
        finite or out of range (``field`` names the argument, the message the position).

    Notes
    -----
    Positions ``0..N-1`` follow the input order: ``index.ids[pos]`` is the id at ``pos`` and
    an ``allowed`` mask is indexed by position. The index is immutable; rebuild it after
    writes. Queries are safe to run from several threads at once.
    """

    def __init__(self, ids: ArrayLike, lon: ArrayLike, lat: ArrayLike) -> None:
        ids_in = np.asarray(ids)
        lon_a = np.array(lon, dtype=np.float64)
        lat_a = np.array(lat, dtype=np.float64)
        n = ids_in.shape[0] if ids_in.ndim == 1 else -1
        if n < 0 or lon_a.shape != (n,) or lat_a.shape != (n,):
            raise GeodataError(
                "ids, lon and lat must be 1-D and of equal length, got shapes "
                f"{ids_in.shape}, {lon_a.shape}, {lat_a.shape}",
                field="ids",
            )
        self._ids = self._checked_ids(ids_in)
        for name, values, limit in (("lon", lon_a, 180.0), ("lat", lat_a, 90.0)):
            bad = ~(np.abs(values) <= limit)
            if bad.any():
                pos = int(np.flatnonzero(bad)[0])
                raise GeodataError(
                    f"{name} at position {pos} must be finite and within ±{limit:g} degrees, "
                    f"got {float(values[pos])!r}",
                    field=name,
                )
        self._n = n
        self._counted: dict[int, tuple[NDArray[np.bool_], int]] = {}  # see _few_allowed
        self._lon = lon_a
        self._lat = lat_a
        # Plain C arrays: reading a handful of candidates from them by Python index costs a
        # third of a numpy gather plus ``tolist()``, which matters at ~10 µs a query.
        self._lon_c: Sequence[float] = array.array("d", lon_a.tobytes())
        self._lat_c: Sequence[float] = array.array("d", lat_a.tobytes())
        self._xyz = _ecef(lon_a, lat_a)
        inverse, init = _proj_geodesic()
        self._tree = ChordTree(
            self._xyz, self._ids, lon_a, lat_a, _A, float(WGS84_GEOD.f), inverse, init, _SLACK_M
        )
        for arr in (self._lon, self._lat, self._xyz):
            arr.setflags(write=False)

    #: What :meth:`built` gives and :meth:`from_built` takes, by name.
    BUILT = ("ecef", "tree_xyz", "tree_perm", "tree_axis")

    def built(self) -> dict[str, np.ndarray]:
        """The index's derived arrays by name (:data:`BUILT`): the points in ECEF metres,
        and the tree's points, order and split axes. Written beside ``ids``, ``lon`` and
        ``lat`` (a file many processes map), they give the same index back through
        :meth:`from_built` without building or copying anything.
        """
        tree_xyz, perm, axis = self._tree.built()
        return {
            "ecef": self._xyz,
            "tree_xyz": tree_xyz,
            "tree_perm": perm.astype(np.int64, copy=False),
            "tree_axis": axis,
        }

    @classmethod
    def from_built(
        cls, ids: NDArray[np.int64], lon: FloatArray, lat: FloatArray, built: dict[str, Any]
    ) -> GeodesicIndex:
        """The index over ``ids``, ``lon`` and ``lat`` whose derived arrays are ``built``
        (:meth:`built` of an index over the same points in the same order), reading every
        array where it lies: read-only memory-mapped arrays stay shared by every process
        that maps them, where :class:`GeodesicIndex` would copy them (~19 MB at 200,000
        points). Checked for shapes and types, not contents: the arrays must come from
        :meth:`built`.

        Raises
        ------
        GeodataError
            An array of the wrong type or length.
        """
        n = int(ids.shape[0]) if ids.ndim == 1 else -1
        want = {
            "ids": (ids, np.int64, (n,)),
            "lon": (lon, np.float64, (n,)),
            "lat": (lat, np.float64, (n,)),
            "ecef": (built["ecef"], np.float64, (n, 3)),
            "tree_xyz": (built["tree_xyz"], np.float64, (n, 3)),
            "tree_perm": (built["tree_perm"], np.intp, (n,)),
            "tree_axis": (built["tree_axis"], np.int8, (max(n, 1),)),
        }
        for name, (arr, dtype, shape) in want.items():
            if (
                not isinstance(arr, np.ndarray)
                or arr.dtype != dtype
                or arr.shape != shape
                or not arr.flags.c_contiguous
            ):
                raise GeodataError(
                    f"{name} must be a C-contiguous {np.dtype(dtype)} array of shape {shape}",
                    field=name,
                )
        self = cls.__new__(cls)
        self._n = n
        self._counted = {}
        self._ids = _readonly(ids)
        self._lon = _readonly(lon)
        self._lat = _readonly(lat)
        # Memoryviews index as fast as the C arrays built otherwise, without a copy.
        self._lon_c = lon.data  # type: ignore[assignment]
        self._lat_c = lat.data  # type: ignore[assignment]
        self._xyz = _readonly(built["ecef"])
        inverse, init = _proj_geodesic()
        self._tree = ChordTree.from_built(
            built["tree_xyz"],
            built["tree_perm"],
            built["tree_axis"],
            ids,
            lon,
            lat,
            _A,
            float(WGS84_GEOD.f),
            inverse,
            init,
            _SLACK_M,
        )
        return self

    @staticmethod
    def _checked_ids(ids: np.ndarray) -> IdArray:
        if ids.size and not np.issubdtype(ids.dtype, np.integer):
            raise GeodataError(f"ids must be integers, got dtype {ids.dtype}", field="ids")
        if ids.size and ids.dtype.kind == "u" and ids.max() > np.iinfo(np.int64).max:
            raise GeodataError("ids must fit in a signed 64-bit integer", field="ids")
        out = ids.astype(np.int64, copy=True)
        if out.size > 1:
            ordered = np.sort(out)
            dup = np.flatnonzero(ordered[1:] == ordered[:-1])
            if dup.size:
                raise GeodataError(
                    f"ids must be unique, {int(ordered[dup[0]])} repeats", field="ids"
                )
        out.setflags(write=False)
        return out

    def __len__(self) -> int:
        return self._n

    def __repr__(self) -> str:
        return f"GeodesicIndex(<{self._n} points>)"

    @property
    def ids(self) -> IdArray:
        """The ids by position (read-only int64 array)."""
        return self._ids

    @property
    def chord_tree(self) -> ChordTree:
        """The compiled tree, for compiled callers that ``cimport`` its C-level certified
        k-NN (``geodata/_chordtree.pxd``) and build their own answers from positions.
        """
        return self._tree

    def prefers_scan(self, allowed: ArrayLike, k: int) -> bool:
        """Whether so few points pass ``allowed`` that :meth:`nearest_positions` scans them
        instead of searching the tree; a caller with its own compiled use of
        :attr:`chord_tree` asks this first and leaves such queries to this index.

        Raises
        ------
        GeodataError
            ``allowed`` is not a boolean mask over the positions.
        """
        return self._few_allowed(self._check_allowed(allowed), k)

    # -- queries ---------------------------------------------------------------------------

    def nearest(
        self,
        lon: float,
        lat: float,
        k: int,
        *,
        max_distance_m: float | None = None,
        allowed: ArrayLike | None = None,
    ) -> tuple[IdArray, FloatArray]:
        """The ``k`` points geodesically nearest to a WGS-84 point, as ids.

        See :meth:`nearest_positions` for the parameters; this returns ``(ids,
        distances_m)`` instead of positions.
        """
        positions, metres = self.nearest_positions(
            lon, lat, k, max_distance_m=max_distance_m, allowed=allowed
        )
        return self._ids.take(positions), metres

    def nearest_positions(
        self,
        lon: float,
        lat: float,
        k: int,
        *,
        max_distance_m: float | None = None,
        allowed: ArrayLike | None = None,
    ) -> tuple[PosArray, FloatArray]:
        """The ``k`` points geodesically nearest to a WGS-84 point, as positions.

        Positions are what a caller holding per-position data (the station catalog) wants:
        it skips an id-to-position lookup per result.

        Parameters
        ----------
        lon, lat : float
            Query point, WGS-84 degrees.
        k : int
            How many to return (at least 1; fewer come back if fewer qualify).
        max_distance_m : float, optional
            Only points at most this many geodesic metres away.
        allowed : array_like of bool, optional
            Mask over positions; only ``True`` positions may be returned. This is how the
            caller's filters (amenities, open now, status) compose with the search.

        Returns
        -------
        positions : numpy.ndarray of intp
        distances_m : numpy.ndarray of float64
            Sorted by (distance, id) — identical to ranking every point by
            :func:`geodata.distance.geodesic_m` and breaking ties by id.

        Raises
        ------
        GeodataError
            ``k < 1``, a coordinate not finite or out of range, a negative or NaN
            ``max_distance_m``, or an ``allowed`` mask of the wrong type or length.
        """
        qlon, qlat = _check_point(lon, lat)
        k = _check_k(k)
        max_d = None
        if max_distance_m is not None:
            max_d = _check_distance(max_distance_m, "max_distance_m")
            if max_d == math.inf:
                max_d = None
        mask = None if allowed is None else self._check_allowed(allowed)
        if self._n == 0:
            return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.float64)
        if mask is not None and self._few_allowed(mask, k):
            q = _ecef_point(qlon, qlat)
            return self._nearest_among(qlon, qlat, q, k, max_d, np.flatnonzero(mask))
        if max_d is None:
            found = self._tree.nearest_certified(qlon, qlat, k, mask)
            if found is not None:
                return found
        return self._nearest_tree(qlon, qlat, k, max_d, mask)

    def within(
        self,
        lon: float,
        lat: float,
        radius_m: float,
        *,
        allowed: ArrayLike | None = None,
    ) -> tuple[IdArray, FloatArray]:
        """Every point within ``radius_m`` geodesic metres of a WGS-84 point.

        Parameters
        ----------
        lon, lat : float
            Query point, WGS-84 degrees.
        radius_m : float
            Geodesic radius in metres (≥ 0; the boundary is included).
        allowed : array_like of bool, optional
            Mask over positions, as for :meth:`nearest`.

        Returns
        -------
        ids : numpy.ndarray of int64
        distances_m : numpy.ndarray of float64
            Sorted by (distance, id).

        Raises
        ------
        GeodataError
            A coordinate not finite or out of range, a negative, NaN or infinite radius, or
            a bad ``allowed`` mask.
        """
        qlon, qlat = _check_point(lon, lat)
        radius = _check_distance(radius_m, "radius_m")
        if radius == math.inf:
            raise GeodataError.from_catalog("radius_m", "radius_m must be finite")
        mask = None if allowed is None else self._check_allowed(allowed)
        if self._n == 0:
            return _empty()
        # By (1), every point within the radius has its chord within it too.
        positions = self._tree.within(_ecef_point(qlon, qlat)[0], radius + _SLACK_M, mask)
        found, metres = self._rank(qlon, qlat, positions, None, radius)
        return self._ids.take(found), metres

    # -- internals -------------------------------------------------------------------------

    def _check_allowed(self, allowed: ArrayLike) -> NDArray[np.bool_]:
        mask = np.asarray(allowed)
        if mask.dtype != np.bool_ or mask.shape != (self._n,):
            raise GeodataError(
                f"allowed must be a boolean array of length {self._n}, "
                f"got dtype {mask.dtype} and shape {mask.shape}",
                field="allowed",
            )
        return mask

    def _few_allowed(self, mask: NDArray[np.bool_], k: int) -> bool:
        """Whether so few points pass that scanning them beats a masked tree search.

        A mask's count is kept while the mask lives (the station catalog asks with one
        cached mask per filter all minute long, so this was a strided count per query).
        Only the strategy depends on the count — both paths give the same exact answer —
        so a mask changed in place after it was counted costs speed, never correctness.
        """
        entry = self._counted.get(id(mask))
        if entry is None or entry[0] is not mask:
            if len(self._counted) >= _COUNTED_MASKS:
                self._counted.clear()
            entry = self._counted[id(mask)] = (mask, int(np.count_nonzero(mask)))
        return entry[1] < _SCAN_PER_RESULT * (k + 1)

    def _nearest_tree(
        self,
        qlon: float,
        qlat: float,
        k: int,
        max_d: float | None,
        mask: NDArray[np.bool_] | None,
    ) -> tuple[PosArray, FloatArray]:
        """General k-NN: widen the chord search until (1) proves the top k complete."""
        n = self._n
        q = _ecef_point(qlon, qlat)[0]
        bound = -1.0 if max_d is None else max_d + _SLACK_M
        want = min(k + 1, n)
        while True:
            chord, positions = self._tree.query(q, want, bound, mask)
            # Fewer hits than asked for: every allowed point within ``bound`` was fetched.
            complete = positions.size < want or want >= n
            dist = self._geodesic(qlon, qlat, positions)
            ok = dist <= max_d if max_d is not None else np.ones(dist.shape, dtype=bool)
            ok_dist = dist[ok]
            kth = np.partition(ok_dist, k - 1)[k - 1] if ok_dist.size >= k else math.inf
            if complete or chord[-1] > kth + _SLACK_M:
                # Every unfetched point has chord >= chord[-1] > kth, so by (1) it cannot rank.
                return self._order(positions[ok], ok_dist, k)
            if kth < math.inf:
                bound = kth + _SLACK_M  # everything that can rank has its chord within this
            want = min(want * 4, n)

    def _nearest_among(
        self,
        qlon: float,
        qlat: float,
        q: FloatArray,
        k: int,
        max_d: float | None,
        positions: NDArray[np.intp],
    ) -> tuple[PosArray, FloatArray]:
        """Exact k-NN restricted to ``positions``, by a vectorised chord pass over them."""
        if max_d is not None:
            positions = self._chord_filter(q, positions, max_d + _SLACK_M)
        if positions.size > k:
            chord = self._chords(q, positions)
            first = np.argpartition(chord, k - 1)[:k]
            kth = float(self._geodesic(qlon, qlat, positions[first]).max())
            if max_d is not None:
                kth = min(kth, max_d)
            positions = positions[chord <= kth + _SLACK_M]
        return self._rank(qlon, qlat, positions, k, max_d)

    def _chords(self, q: FloatArray, positions: NDArray[np.intp]) -> FloatArray:
        diff = self._xyz[positions] - q
        return np.sqrt(np.einsum("ij,ij->i", diff, diff))

    def _chord_filter(
        self, q: FloatArray, positions: NDArray[np.intp], limit: float
    ) -> NDArray[np.intp]:
        return positions[self._chords(q, positions) <= limit]

    def _geodesic(self, qlon: float, qlat: float, positions: NDArray[np.intp]) -> FloatArray:
        """Geodesic metres from the query to ``positions`` (bit-identical either way)."""
        if positions.size <= _SCALAR_CANDIDATES:
            inv = WGS84_GEOD.inv
            lons = self._lon_c
            lats = self._lat_c
            return np.array(
                [inv(qlon, qlat, lons[i], lats[i])[2] for i in positions.tolist()], dtype=np.float64
            )
        lons1 = np.full(positions.size, qlon)
        lats1 = np.full(positions.size, qlat)
        lons2 = self._lon[positions]
        lats2 = self._lat[positions]
        dist = WGS84_GEOD.inv(lons1, lats1, lons2, lats2, inplace=True, return_back_azimuth=False)[
            2
        ]
        return np.asarray(dist, dtype=np.float64)

    def _rank(
        self,
        qlon: float,
        qlat: float,
        positions: NDArray[np.intp],
        k: int | None,
        max_d: float | None,
    ) -> tuple[PosArray, FloatArray]:
        dist = self._geodesic(qlon, qlat, positions)
        if max_d is not None:
            keep = dist <= max_d
            positions = positions[keep]
            dist = dist[keep]
        return self._order(positions, dist, k)

    def _order(
        self, positions: NDArray[np.intp], dist: FloatArray, k: int | None
    ) -> tuple[PosArray, FloatArray]:
        """Positions and metres sorted by (metres, id), the first ``k``."""
        order = np.lexsort((self._ids[positions], dist))[:k]
        return positions[order], dist[order]
