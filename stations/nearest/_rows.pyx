# cython: language_level=3, boundscheck=False, wraparound=False
"""A nearest query's answer rows, built in the same compiled call as the search.

Why this exists: the catalog's answer is k rows ``(station, metres, open_now)``. Reaching
the certified k-NN through ``GeodesicIndex.nearest_positions`` makes two numpy arrays and
runs a Python loop per query, which was half of the catalog's time (~4 µs of ~9 µs at 100k
stations). Here the tree's C-level search (``geodata/_chordtree.pxd``) fills C buffers with
positions and metres, and the rows are built from them directly. The tree knows positions
and distances only; what a row holds is decided here, on the stations side.
"""

from cpython.ref cimport Py_INCREF
from cpython.tuple cimport PyTuple_SET_ITEM

from geodata._chordtree cimport ChordTree

cdef extern from *:
    """
    /* A tuple of the given tuple type (tuple itself or a field-less subclass such as a
       NamedTuple), as tuple_subtype_new makes one: the type's own allocator. */
    static PyObject* ws_new_row(PyObject* type, Py_ssize_t n) {
        return ((PyTypeObject*)type)->tp_alloc((PyTypeObject*)type, n);
    }
    """
    object ws_new_row(object row_type, Py_ssize_t n)


def certified_rows(ChordTree tree not None, double lon, double lat, Py_ssize_t k, allowed,
                   list rows not None, bytes codes not None, tuple labels not None,
                   type row_type not None, fill=None):
    """The certified k-NN as rows, or None when the tree's general path must decide.

    Each row is ``row_type((rows[p], metres, labels[codes[p]]))`` for position ``p``, in
    (distance, id) order (``fill(p)`` when ``rows[p]`` is None and ``fill`` is given: a
    record decoded on demand); ``row_type`` is ``tuple`` or a field-less subclass (a NamedTuple).
    None also when the point is out of range (the caller's validated path then says why),
    k is over 64 or the tree has no more than k points.
    """
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        return None
    if k < 1 or k + 1 > tree.n or k > 64:
        return None
    if len(rows) != tree.n or len(codes) != tree.n:
        raise ValueError(f"rows and codes need {tree.n} entries each")
    if not issubclass(row_type, tuple) or row_type.__basicsize__ != tuple.__basicsize__:
        raise TypeError(f"row_type must be tuple or a NamedTuple, not {row_type!r}")
    cdef const unsigned char[::1] mask = tree.mask_view(allowed)
    cdef const unsigned char* mask_ptr = NULL if mask is None else &mask[0]
    cdef const unsigned char* code_p = codes
    cdef Py_ssize_t nlabels = len(labels)
    cdef double dist[64]
    cdef Py_ssize_t posv[64]
    cdef Py_ssize_t i, p, found
    with nogil:
        found = tree.certified(lon, lat, k, mask_ptr, dist, posv)
    if found < 0:
        return None
    out = []
    for i in range(k):
        p = posv[i]
        if code_p[p] >= nlabels:
            raise ValueError(f"code {code_p[p]} has no label")
        row = ws_new_row(row_type, 3)
        item = rows[p]
        if item is None and fill is not None:
            item = fill(p)
        Py_INCREF(item)
        PyTuple_SET_ITEM(row, 0, item)
        item = dist[i]
        Py_INCREF(item)
        PyTuple_SET_ITEM(row, 1, item)
        item = labels[code_p[p]]
        Py_INCREF(item)
        PyTuple_SET_ITEM(row, 2, item)
        out.append(row)
    return out
