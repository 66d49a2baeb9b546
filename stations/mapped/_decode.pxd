# cython: language_level=3
"""The C-level interface of :mod:`stations.mapped._decode` for compiled callers
(``cimport``): a snapshot's coded column read as C integers, shared by the station decoder
and the nearest feature writer (:mod:`stations.mapped._render`)."""

from libc.stdint cimport int32_t, uint8_t


cdef class Codes:
    """A coded column's codes (``uint8`` or ``int32``), read as C integers."""

    cdef const uint8_t[::1] narrow
    cdef const int32_t[::1] wide
    cdef bint is_wide

    cdef inline Py_ssize_t at(self, Py_ssize_t pos):
        return self.wide[pos] if self.is_wide else self.narrow[pos]
