# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""A k-d tree over ECEF points, and the certified geodesic k-NN that runs in one C call.

Why this exists: a nearest query over 100,000 stations is answered from memory, and the
ranking itself (tree search plus five exact geodesics) takes about 2 µs of machine work.
Reaching it through pykdtree's and pyproj's Python interfaces cost ~15 µs of argument
handling, array creation and per-call dispatch — slower than the work by 7× and only ~8×
faster than a PostGIS KNN round trip. Here the search and the geodesics run without
returning to Python in between.

The geodesics are GeographicLib's ``geod_inverse`` from the PROJ library that pyproj
itself calls (its address is looked up at import, see
``geodata.spatial_index._proj_geodesic``), with
the ellipsoid parameters of :data:`geodata.distance.WGS84_GEOD`, so every distance is
bit-identical to ``WGS84_GEOD.inv``. The proof of exactness is the one in
:mod:`geodata.spatial_index`: a chord is never longer than the geodesic.
"""

from libc.math cimport sin, cos, sqrt, M_PI
from libc.stdint cimport int64_t
from libc.stdlib cimport free, malloc, realloc

import numpy as np

cimport numpy as cnp

cnp.import_array()

ctypedef void (*geod_init_t)(void* g, double a, double f) noexcept nogil

cdef enum:
    # ``struct geod_geodesic`` is 51 doubles in PROJ's geodesic.h; room for growth is kept.
    GEOD_STRUCT_DOUBLES = 128
    # Points per leaf: small enough to prune well, large enough to keep the tree shallow.
    LEAF = 8
    # Stack entries for an iterative descent (a balanced tree over 2**60 points).
    STACK = 128


cdef inline bint _worse(double da, Py_ssize_t pa, double db, Py_ssize_t pb) noexcept nogil:
    return da > db or (da == db and pa > pb)


cdef inline void _heap_push(Heap* h, double d2, Py_ssize_t pos) noexcept nogil:
    cdef Py_ssize_t i, parent
    if h.size < h.cap:
        i = h.size
        h.size += 1
        while i > 0:
            parent = (i - 1) >> 1
            if not _worse(d2, pos, h.d2[parent], h.pos[parent]):
                break
            h.d2[i] = h.d2[parent]
            h.pos[i] = h.pos[parent]
            i = parent
        h.d2[i] = d2
        h.pos[i] = pos
        return
    if not _worse(h.d2[0], h.pos[0], d2, pos):
        return
    # Replace the root and sift down.
    cdef Py_ssize_t child
    i = 0
    while True:
        child = 2 * i + 1
        if child >= h.size:
            break
        if child + 1 < h.size and _worse(h.d2[child + 1], h.pos[child + 1], h.d2[child],
                                         h.pos[child]):
            child += 1
        if not _worse(h.d2[child], h.pos[child], d2, pos):
            break
        h.d2[i] = h.d2[child]
        h.pos[i] = h.pos[child]
        i = child
    h.d2[i] = d2
    h.pos[i] = pos


cdef inline double _heap_limit(Heap* h, double bound2) noexcept nogil:
    """Squared chord a candidate must not exceed to still enter the heap."""
    if h.size < h.cap:
        return bound2
    return h.d2[0] if h.d2[0] < bound2 else bound2


cdef void _heap_sort(Heap* h) noexcept nogil:
    """Sort the heap's arrays ascending by (chord², position) in place (heapsort)."""
    cdef Py_ssize_t n = h.size
    cdef Py_ssize_t end, i, child
    cdef double d
    cdef Py_ssize_t p
    end = n - 1
    while end > 0:
        d = h.d2[end]
        p = h.pos[end]
        h.d2[end] = h.d2[0]
        h.pos[end] = h.pos[0]
        i = 0
        while True:
            child = 2 * i + 1
            if child >= end:
                break
            if child + 1 < end and _worse(h.d2[child + 1], h.pos[child + 1], h.d2[child],
                                          h.pos[child]):
                child += 1
            if not _worse(h.d2[child], h.pos[child], d, p):
                break
            h.d2[i] = h.d2[child]
            h.pos[i] = h.pos[child]
            i = child
        h.d2[i] = d
        h.pos[i] = p
        end -= 1


cdef void _build(const double[:, ::1] xyz, Py_ssize_t[::1] perm, signed char[::1] axis,
                 Py_ssize_t lo, Py_ssize_t hi) noexcept nogil:
    """Order ``perm[lo:hi]`` into the implicit tree (see :class:`ChordTree`), noting each
    node's split axis in ``axis``."""
    cdef Py_ssize_t stack_lo[STACK]
    cdef Py_ssize_t stack_hi[STACK]
    cdef Py_ssize_t top = 0, mid, i, p
    cdef int ax, d
    cdef double mn[3]
    cdef double mx[3]
    cdef double v, best
    stack_lo[0] = lo
    stack_hi[0] = hi
    top = 1
    while top > 0:
        top -= 1
        lo = stack_lo[top]
        hi = stack_hi[top]
        if hi - lo <= LEAF:
            continue
        for d in range(3):
            mn[d] = 1e300
            mx[d] = -1e300
        for i in range(lo, hi):
            p = perm[i]
            for d in range(3):
                v = xyz[p, d]
                if v < mn[d]:
                    mn[d] = v
                if v > mx[d]:
                    mx[d] = v
        ax = 0
        best = mx[0] - mn[0]
        for d in range(1, 3):
            if mx[d] - mn[d] > best:
                best = mx[d] - mn[d]
                ax = d
        mid = (lo + hi) >> 1
        _select(xyz, perm, lo, hi, mid, ax)
        axis[mid] = <signed char> ax
        stack_lo[top] = lo
        stack_hi[top] = mid
        top += 1
        stack_lo[top] = mid + 1
        stack_hi[top] = hi
        top += 1


cdef void _select(const double[:, ::1] xyz, Py_ssize_t[::1] perm, Py_ssize_t lo, Py_ssize_t hi,
                  Py_ssize_t k, int ax) noexcept nogil:
    """Quickselect on ``perm[lo:hi]`` by coordinate ``ax`` so ``perm[k]`` is the median."""
    cdef Py_ssize_t left = lo, right = hi - 1, i, j, tmp
    cdef double pivot
    while right > left:
        # Median of three as the pivot keeps sorted or clustered inputs O(n).
        i = (left + right) >> 1
        if xyz[perm[i], ax] < xyz[perm[left], ax]:
            tmp = perm[i]; perm[i] = perm[left]; perm[left] = tmp
        if xyz[perm[right], ax] < xyz[perm[left], ax]:
            tmp = perm[right]; perm[right] = perm[left]; perm[left] = tmp
        if xyz[perm[right], ax] < xyz[perm[i], ax]:
            tmp = perm[right]; perm[right] = perm[i]; perm[i] = tmp
        pivot = xyz[perm[i], ax]
        i = left
        j = right
        while i <= j:
            while xyz[perm[i], ax] < pivot:
                i += 1
            while xyz[perm[j], ax] > pivot:
                j -= 1
            if i <= j:
                tmp = perm[i]; perm[i] = perm[j]; perm[j] = tmp
                i += 1
                j -= 1
        if k <= j:
            right = j
        elif k >= i:
            left = i
        else:
            return


def _readonly(array):
    array.setflags(write=False)
    return array


cdef class ChordTree:
    """Static k-d tree over (n, 3) ECEF metres; positions refer to the input order.

    The tree is implicit: the node over ``[lo, hi)`` splits at ``mid = (lo + hi) // 2`` on
    axis ``axis[mid]``; the left child holds ``[lo, mid)``, the right ``[mid + 1, hi)``,
    and the point at ``mid`` belongs to the node itself. Ranges of at most ``LEAF`` points
    are scanned. Attributes and C-level methods are declared in ``_chordtree.pxd``.
    """

    def __cinit__(self):
        self.geod = NULL

    def __init__(self, const double[:, ::1] xyz, const int64_t[::1] ids,
                 const double[::1] lon, const double[::1] lat, double a, double f,
                 size_t inverse_address, size_t init_address, double slack):
        cdef Py_ssize_t n = xyz.shape[0]
        perm = np.arange(n, dtype=np.intp)
        axis = np.zeros(max(n, 1), dtype=np.int8)
        cdef Py_ssize_t[::1] perm_v = perm
        cdef signed char[::1] axis_v = axis
        with nogil:
            _build(xyz, perm_v, axis_v, 0, n)
        # Reorder the coordinates into tree order for cache-friendly leaf scans.
        tree_xyz = np.ascontiguousarray(np.asarray(xyz)[perm])
        for built in (perm, axis, tree_xyz):
            built.setflags(write=False)
        _adopt(self, tree_xyz, perm, axis, ids, lon, lat, a, f, inverse_address, init_address,
               slack)

    @staticmethod
    def from_built(const double[:, ::1] tree_xyz, const Py_ssize_t[::1] perm,
                   const signed char[::1] axis, const int64_t[::1] ids,
                   const double[::1] lon, const double[::1] lat, double a, double f,
                   size_t inverse_address, size_t init_address, double slack):
        """A tree built before (:meth:`built` of an equal tree), read where it lies.

        Nothing is copied: the views may be read-only and memory-mapped (one tree per host
        that every worker searches). ``perm`` and ``axis`` are checked for shape only; they
        must come from a tree built over the same points in the same order.
        """
        cdef Py_ssize_t n = tree_xyz.shape[0]
        if (tree_xyz.shape[1] != 3 or perm.shape[0] != n or axis.shape[0] != max(n, 1)
                or ids.shape[0] != n or lon.shape[0] != n or lat.shape[0] != n):
            raise ValueError("a built tree's arrays disagree in length")
        cdef ChordTree tree = ChordTree.__new__(ChordTree)
        _adopt(tree, tree_xyz, perm, axis, ids, lon, lat, a, f, inverse_address, init_address,
               slack)
        return tree

    def built(self):
        """``(tree_xyz, perm, axis)``: what :meth:`from_built` needs to search this tree
        again without building it (read-only arrays over the tree's own memory).
        """
        # The arrays the views were made of (a mapped file's stay that file's pages).
        return (
            _readonly(np.asarray(self.xyz.base)),
            _readonly(np.asarray(self.perm.base)),
            _readonly(np.asarray(self.axis.base)),
        )

    def __dealloc__(self):
        if self.geod != NULL:
            free(self.geod)

    # -- search -----------------------------------------------------------------------------

    cdef void _search(self, double qx, double qy, double qz, Heap* h, double bound2,
                      const unsigned char* allowed) noexcept nogil:
        """Fill ``h`` with the nearest allowed points whose chord² is at most ``bound2``."""
        cdef Py_ssize_t stack_lo[STACK]
        cdef Py_ssize_t stack_hi[STACK]
        cdef double stack_gap[STACK]
        cdef Py_ssize_t top, lo, hi, mid, i
        cdef double dx, dy, dz, d2, diff, gap
        cdef int ax
        stack_lo[0] = 0
        stack_hi[0] = self.n
        stack_gap[0] = 0.0
        top = 1
        while top > 0:
            top -= 1
            lo = stack_lo[top]
            hi = stack_hi[top]
            gap = stack_gap[top]
            if gap > _heap_limit(h, bound2):
                continue
            if hi - lo <= LEAF:
                for i in range(lo, hi):
                    if allowed != NULL and not allowed[self.perm[i]]:
                        continue
                    dx = self.xyz[i, 0] - qx
                    dy = self.xyz[i, 1] - qy
                    dz = self.xyz[i, 2] - qz
                    d2 = dx * dx + dy * dy + dz * dz
                    if d2 <= _heap_limit(h, bound2):
                        _heap_push(h, d2, self.perm[i])
                continue
            mid = (lo + hi) >> 1
            ax = self.axis[mid]
            if allowed == NULL or allowed[self.perm[mid]]:
                dx = self.xyz[mid, 0] - qx
                dy = self.xyz[mid, 1] - qy
                dz = self.xyz[mid, 2] - qz
                d2 = dx * dx + dy * dy + dz * dz
                if d2 <= _heap_limit(h, bound2):
                    _heap_push(h, d2, self.perm[mid])
            if ax == 0:
                diff = qx - self.xyz[mid, 0]
            elif ax == 1:
                diff = qy - self.xyz[mid, 1]
            else:
                diff = qz - self.xyz[mid, 2]
            # Push the far side first so the near side is searched first (LIFO). The far
            # side's lower bound is the larger of the plane gap and the node's own bound.
            d2 = diff * diff
            if d2 < gap:
                d2 = gap
            if diff <= 0:
                stack_lo[top] = mid + 1; stack_hi[top] = hi; stack_gap[top] = d2
                top += 1
                stack_lo[top] = lo; stack_hi[top] = mid; stack_gap[top] = gap
                top += 1
            else:
                stack_lo[top] = lo; stack_hi[top] = mid; stack_gap[top] = d2
                top += 1
                stack_lo[top] = mid + 1; stack_hi[top] = hi; stack_gap[top] = gap
                top += 1

    cdef Py_ssize_t _ball(self, double qx, double qy, double qz, double r2,
                          const unsigned char* allowed, Py_ssize_t** out) noexcept nogil:
        """Every allowed position whose chord² is at most ``r2``, into a malloc'd ``*out``.

        Returns the count, or -1 when memory ran out (``*out`` is then freed and NULL).
        """
        cdef Py_ssize_t stack_lo[STACK]
        cdef Py_ssize_t stack_hi[STACK]
        cdef double stack_gap[STACK]
        cdef Py_ssize_t top, lo, hi, mid, i, p, count = 0, cap = 64
        cdef Py_ssize_t* buf = <Py_ssize_t*> malloc(cap * sizeof(Py_ssize_t))
        cdef Py_ssize_t* grown
        cdef double dx, dy, dz, d2, diff, gap
        cdef int ax
        if buf == NULL:
            out[0] = NULL
            return -1
        stack_lo[0] = 0
        stack_hi[0] = self.n
        stack_gap[0] = 0.0
        top = 1
        while top > 0:
            top -= 1
            lo = stack_lo[top]
            hi = stack_hi[top]
            gap = stack_gap[top]
            if gap > r2:
                continue
            if hi - lo <= LEAF:
                mid = -1  # a leaf: scan [lo, hi)
            else:
                mid = (lo + hi) >> 1
            for i in range(lo, hi):
                if mid >= 0 and i != mid:
                    continue
                p = self.perm[i]
                if allowed != NULL and not allowed[p]:
                    continue
                dx = self.xyz[i, 0] - qx
                dy = self.xyz[i, 1] - qy
                dz = self.xyz[i, 2] - qz
                d2 = dx * dx + dy * dy + dz * dz
                if d2 <= r2:
                    if count == cap:
                        cap *= 2
                        grown = <Py_ssize_t*> realloc(buf, cap * sizeof(Py_ssize_t))
                        if grown == NULL:
                            free(buf)
                            out[0] = NULL
                            return -1
                        buf = grown
                    buf[count] = p
                    count += 1
            if mid < 0:
                continue
            ax = self.axis[mid]
            diff = qx - self.xyz[mid, 0] if ax == 0 else (
                qy - self.xyz[mid, 1] if ax == 1 else qz - self.xyz[mid, 2])
            d2 = diff * diff
            if d2 < gap:
                d2 = gap
            if diff <= 0:
                stack_lo[top] = mid + 1; stack_hi[top] = hi; stack_gap[top] = d2
                top += 1
                stack_lo[top] = lo; stack_hi[top] = mid; stack_gap[top] = gap
                top += 1
            else:
                stack_lo[top] = lo; stack_hi[top] = mid; stack_gap[top] = d2
                top += 1
                stack_lo[top] = mid + 1; stack_hi[top] = hi; stack_gap[top] = gap
                top += 1
        out[0] = buf
        return count

    def within(self, const double[::1] q, double radius, allowed=None):
        """Positions (ascending) of the allowed points whose chord is at most ``radius``."""
        cdef const unsigned char[::1] mask = self.mask_view(allowed)
        cdef const unsigned char* mask_ptr = NULL if mask is None else &mask[0]
        if self.n == 0 or not radius >= 0:
            return np.empty(0, dtype=np.intp)
        cdef Py_ssize_t* buf = NULL
        cdef Py_ssize_t count, i
        with nogil:
            count = self._ball(q[0], q[1], q[2], radius * radius, mask_ptr, &buf)
        if count < 0:
            raise MemoryError()
        try:
            found = np.empty(count, dtype=np.intp)
            view = <Py_ssize_t[:count]> buf if count else None
            if count:
                found[:] = view
        finally:
            free(buf)
        found.sort()
        return found

    cdef void _ecef(self, double lon, double lat, double* x, double* y,
                    double* z) noexcept nogil:
        cdef double lam = lon * (M_PI / 180.0)
        cdef double phi = lat * (M_PI / 180.0)
        cdef double sp = sin(phi)
        cdef double cp = cos(phi)
        cdef double nrm = self.a / sqrt(1.0 - self.e2 * sp * sp)
        x[0] = nrm * cp * cos(lam)
        y[0] = nrm * cp * sin(lam)
        z[0] = nrm * (1.0 - self.e2) * sp

    def query(self, const double[::1] q, Py_ssize_t k, double bound=-1.0, allowed=None):
        """The ``k`` nearest points by chord (at most ``bound`` metres if ``bound >= 0``).

        Returns ``(chord_m, positions)``, sorted by (chord, position); fewer than ``k``
        when fewer allowed points lie within the bound. ``allowed`` is a bool mask over
        positions (None: all).
        """
        cdef const unsigned char[::1] mask = self.mask_view(allowed)
        cdef const unsigned char* mask_ptr = NULL if mask is None else &mask[0]
        if k < 1 or self.n == 0:
            return np.empty(0, dtype=np.float64), np.empty(0, dtype=np.intp)
        if k > self.n:
            k = self.n
        cdef double bound2 = 1e300 if bound < 0 else bound * bound
        chord = np.empty(k, dtype=np.float64)
        pos = np.empty(k, dtype=np.intp)
        cdef double[::1] chord_v = chord
        cdef Py_ssize_t[::1] pos_v = pos
        cdef Heap h
        h.d2 = &chord_v[0]
        h.pos = &pos_v[0]
        h.size = 0
        h.cap = k
        cdef Py_ssize_t i
        with nogil:
            self._search(q[0], q[1], q[2], &h, bound2, mask_ptr)
            _heap_sort(&h)
            for i in range(h.size):
                chord_v[i] = sqrt(chord_v[i])
        return chord[:h.size], pos[:h.size]

    cdef Py_ssize_t certified(self, double lon, double lat, Py_ssize_t k,
                              const unsigned char* mask_ptr, double* dist,
                              Py_ssize_t* posv) noexcept nogil:
        """The certified k-NN into ``dist``/``posv`` (k <= 64): k, or -1 when undecided.

        The C-level entry for compiled callers (see ``_chordtree.pxd``): positions and
        metres only, in (distance, id) order; what a position stands for is the caller's.

        Fetches ``k + 1`` points by chord and measures the geodesic to the first ``k``;
        they are the answer when the (k+1)-th chord exceeds the k-th geodesic plus the
        slack (nothing unfetched can then rank, by chord <= geodesic). -1 means fewer
        than ``k + 1`` allowed points, or a tie or near-tie at the k-th place.
        """
        cdef double d2buf[65]
        cdef Py_ssize_t posbuf[65]
        cdef int64_t idv[64]
        cdef Py_ssize_t ptmp
        cdef Heap h
        h.d2 = d2buf
        h.pos = posbuf
        h.size = 0
        h.cap = k + 1
        cdef double qx, qy, qz, s12, worst = 0.0, dtmp
        cdef Py_ssize_t i, j, p
        cdef int64_t itmp
        self._ecef(lon, lat, &qx, &qy, &qz)
        self._search(qx, qy, qz, &h, 1e300, mask_ptr)
        if h.size < k + 1:
            return -1
        _heap_sort(&h)
        for i in range(k):
            p = h.pos[i]
            self.inverse(self.geod, lat, lon, self.lat[p], self.lon[p], &s12, NULL, NULL)
            dist[i] = s12
            idv[i] = self.ids[p]
            posv[i] = p
            if s12 > worst:
                worst = s12
        if not sqrt(h.d2[k]) > worst + self.slack:
            return -1
        # Chord order is nearly always geodesic order; insertion sort fixes the rare swap
        # and orders exact ties by id.
        for i in range(1, k):
            dtmp = dist[i]
            itmp = idv[i]
            ptmp = posv[i]
            j = i - 1
            while j >= 0 and (dist[j] > dtmp or (dist[j] == dtmp and idv[j] > itmp)):
                dist[j + 1] = dist[j]
                idv[j + 1] = idv[j]
                posv[j + 1] = posv[j]
                j -= 1
            dist[j + 1] = dtmp
            idv[j + 1] = itmp
            posv[j + 1] = ptmp
        return k

    cdef const unsigned char[::1] mask_view(self, allowed):
        """``allowed`` (a bool mask over positions, or None) as bytes the search can read.

        The caller keeps the returned view while it uses a pointer into it: that keeps
        alive the contiguous copy made of a strided mask.
        """
        if allowed is None:
            return None
        cdef const unsigned char[::1] mask = np.ascontiguousarray(allowed).view(np.uint8)
        if mask.shape[0] != self.n:
            raise ValueError(f"allowed has {mask.shape[0]} entries for {self.n} points")
        return mask

    def nearest_certified(self, double lon, double lat, Py_ssize_t k, allowed=None):
        """Exact geodesic k-NN in one call, or None when the general path must decide.

        Returns ``(positions, distances_m)`` sorted by (distance, id); see ``certified``.
        """
        cdef const unsigned char[::1] mask = self.mask_view(allowed)
        cdef const unsigned char* mask_ptr = NULL if mask is None else &mask[0]
        if k < 1 or k + 1 > self.n or k > 64:
            return None
        cdef double dist[64]
        cdef Py_ssize_t posv[64]
        cdef Py_ssize_t i, found
        with nogil:
            found = self.certified(lon, lat, k, mask_ptr, dist, posv)
        if found < 0:
            return None
        # PyArray_EMPTY, not np.empty: a Python-level call costs ~0.5 µs each, a tenth of
        # the whole query.
        cdef cnp.npy_intp dims[1]
        dims[0] = k
        positions = cnp.PyArray_EMPTY(1, dims, cnp.NPY_INTP, 0)
        metres = cnp.PyArray_EMPTY(1, dims, cnp.NPY_FLOAT64, 0)
        cdef Py_ssize_t* positions_p = <Py_ssize_t*> cnp.PyArray_DATA(positions)
        cdef double* metres_p = <double*> cnp.PyArray_DATA(metres)
        for i in range(k):
            positions_p[i] = posv[i]
            metres_p[i] = dist[i]
        return positions, metres


cdef _adopt(ChordTree self, const double[:, ::1] tree_xyz, const Py_ssize_t[::1] perm,
            const signed char[::1] axis, const int64_t[::1] ids, const double[::1] lon,
            const double[::1] lat, double a, double f, size_t inverse_address,
            size_t init_address, double slack):
    """Set up ``self`` to search the tree these arrays describe (kept, not copied)."""
    self.n = tree_xyz.shape[0]
    self.xyz = tree_xyz
    self.perm = perm
    self.axis = axis
    self.ids = ids
    self.lon = lon
    self.lat = lat
    self.slack = slack
    self.a = a
    self.e2 = f * (2.0 - f)
    self.geod = <double*> malloc(GEOD_STRUCT_DOUBLES * sizeof(double))
    if self.geod == NULL:
        raise MemoryError()
    (<geod_init_t> <void*> init_address)(self.geod, a, f)
    self.inverse = <geod_inverse_t> <void*> inverse_address


cdef class PointGeodesic:
    """The geodesic distance of one pair of points, holding the GIL throughout.

    ``pyproj.Geod.inv`` on two scalars releases the GIL around ``geod_inverse``: on a
    process whose event loop shares the GIL with busy threads (a group-commit writer), every
    such release can hand the GIL away and leave the loop waiting for it, for a computation
    far shorter than the hand-over. Here the same ``geod_inverse`` (the PROJ build pyproj
    calls, with the same ellipsoid and the same arguments, azimuths included) runs without
    letting go, so the metres are bit-identical to ``Geod.inv``'s.
    """

    cdef double* geod
    cdef geod_inverse_t inverse

    def __cinit__(self, double a, double f, size_t inverse_address, size_t init_address):
        self.geod = <double*> malloc(GEOD_STRUCT_DOUBLES * sizeof(double))
        if self.geod == NULL:
            raise MemoryError()
        (<geod_init_t> <void*> init_address)(self.geod, a, f)
        self.inverse = <geod_inverse_t> <void*> inverse_address

    def __dealloc__(self):
        if self.geod != NULL:
            free(self.geod)

    def metres(self, double lon1, double lat1, double lon2, double lat2):
        """Metres from (lon1, lat1) to (lon2, lat2), degrees (checked by the caller)."""
        cdef double s12 = 0.0, azi1 = 0.0, azi2 = 0.0
        self.inverse(self.geod, lat1, lon1, lat2, lon2, &s12, &azi1, &azi2)
        return s12
