# cython: language_level=3, boundscheck=False, wraparound=False
"""The objects of a decoded station made in C: its UTC times and its frozen dataclasses.

Why: decoding a mapped station (:mod:`stations.mapped.records`) spent about two thirds of
its time outside the JSON parse — three ``datetime.fromtimestamp(…).replace(…)`` and two
frozen dataclass constructors, whose generated ``__init__`` sets each of 26 fields with
``object.__setattr__`` from Python. Here a time is the epoch plus a ``timedelta`` made
from C integers, and a dataclass is allocated and its slots filled with
``PyObject_GenericSetAttr`` (what ``object.__setattr__`` does, without the Python call).
:meth:`stations.mapped.records._Decoder.reference` is the plain version a test compares.
"""

from cpython.datetime cimport import_datetime, timedelta_new
from cpython.object cimport PyObject_GenericSetAttr
from libc.stdint cimport int64_t

from datetime import UTC, datetime

import_datetime()

cdef object _EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
cdef int64_t _DAY_US = 86_400_000_000


cpdef object utc_time(object value):
    """A record's time: None, integer microseconds since the UTC epoch (an aware UTC
    ``datetime``), or ISO text (``datetime.fromisoformat``).
    """
    cdef int64_t us, days, rest
    if value is None:
        return None
    if type(value) is int:
        us = value
        days = us // _DAY_US  # floor division: Python semantics (cdivision is off)
        rest = us - days * _DAY_US
        return _EPOCH + timedelta_new(<int>days, <int>(rest // 1_000_000),
                                      <int>(rest % 1_000_000))
    return datetime.fromisoformat(value)


cdef class Maker:
    """Makes instances of a slotted dataclass from field values in field order, as its
    ``__init__`` would with every field given (no defaults, no ``__post_init__``).
    """

    cdef object cls
    cdef tuple names
    cdef Py_ssize_t n

    def __init__(self, cls, names):
        self.cls = cls
        self.names = tuple(names)
        self.n = len(self.names)

    def __call__(self, *values):
        cdef Py_ssize_t i
        if len(values) != self.n:
            raise TypeError(f"{self.cls.__name__} takes {self.n} values, not {len(values)}")
        obj = object.__new__(self.cls)
        for i in range(self.n):
            PyObject_GenericSetAttr(obj, self.names[i], values[i])
        return obj
