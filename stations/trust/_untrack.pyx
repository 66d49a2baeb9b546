# cython: language_level=3
"""Taking the trust board's long-lived records out of the cycle collector's view.

Why this exists: every process keeps the last three days of riders' votes in memory
(:mod:`stations.trust.board`), a few objects per vote — the vote, its station's tuple of
votes, the assessment and its reasons. They are tracked by the cycle collector (CPython
untracks only exact tuples of atomic values; a dataclass or NamedTuple instance stays
tracked for life), so every full collection walks them all, and a worker taking votes runs
one every second or so: with a hundred thousand votes kept each pass took over 100 ms, a
growing share of every request's CPU and a pause in every answer it overlapped. None of
these records can be part of a reference cycle (they hold strings, numbers, tuples of
those, and catalog stations, which never refer back), so reference counting alone frees
them and the collector has nothing to find among them. ``gc.freeze`` does the same for the
catalog at load; the board changes with every vote, so it untracks what it keeps instead.
"""

cdef extern from "Python.h":
    ctypedef struct PyObject
    int PyObject_GC_IsTracked(PyObject*)
    void PyObject_GC_UnTrack(void*)


def untrack(obj):
    """``obj``, no longer tracked by the cycle collector. Only for an object that cannot be
    part of a reference cycle (see the module docstring): a cycle through it would never be
    collected.
    """
    if PyObject_GC_IsTracked(<PyObject*>obj):
        PyObject_GC_UnTrack(<void*>obj)
    return obj
