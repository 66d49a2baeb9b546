# cython: language_level=3
"""The C-level interface of :mod:`geodata._chordtree`, for compiled callers (``cimport``).

A caller that must not pay for numpy arrays per query (the station catalog builds its
answer rows in ``stations/nearest/_rows.pyx``) calls :meth:`ChordTree.certified` directly:
it fills plain C buffers with positions and geodesic metres. The tree knows nothing of what
the positions stand for.
"""

from libc.stdint cimport int64_t

ctypedef void (*geod_inverse_t)(const void* g, double lat1, double lon1, double lat2,
                                double lon2, double* s12, double* azi1,
                                double* azi2) noexcept nogil


cdef struct Heap:
    # A max-heap on (chord², position): the root is the worst of the best ``size`` so far.
    double* d2
    Py_ssize_t* pos
    Py_ssize_t size
    Py_ssize_t cap


cdef class ChordTree:
    # Read-only views: built here, or another process's build mapped from a file.
    cdef const double[:, ::1] xyz    # points in tree order
    cdef const Py_ssize_t[::1] perm   # tree order -> input position
    cdef const signed char[::1] axis
    cdef const int64_t[::1] ids
    cdef const double[::1] lon
    cdef const double[::1] lat
    cdef readonly Py_ssize_t n
    cdef double* geod
    cdef geod_inverse_t inverse
    cdef double slack
    cdef double a
    cdef double e2

    cdef void _search(self, double qx, double qy, double qz, Heap* h, double bound2,
                      const unsigned char* allowed) noexcept nogil
    cdef Py_ssize_t _ball(self, double qx, double qy, double qz, double r2,
                          const unsigned char* allowed, Py_ssize_t** out) noexcept nogil
    cdef void _ecef(self, double lon, double lat, double* x, double* y,
                    double* z) noexcept nogil
    cdef Py_ssize_t certified(self, double lon, double lat, Py_ssize_t k,
                              const unsigned char* mask_ptr, double* dist,
                              Py_ssize_t* posv) noexcept nogil
    cdef const unsigned char[::1] mask_view(self, allowed)
