# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""Text search over a mapped snapshot's names and addresses, compiled: one ``memmem`` a
station, reading the shared bytes where they lie.

Why: the in-memory catalog keeps a case-folded ``str`` per station for ``q`` searches, ~28 MB
per worker at 200,000 stations. A mapped snapshot holds the same text once per host, UTF-8
(:func:`stations.mapped.records.search_text`); looking for the word's UTF-8 bytes in a
station's bytes is the same test as looking for the word in its text (UTF-8 never matches
part of a character), and glibc's ``memmem`` does it without making an object a station.
:func:`stations.mapped.text.containing_reference` is the plain version a test compares.
"""

from libc.stdint cimport int64_t

import numpy as np

cdef extern from "string.h" nogil:
    # A GNU extension; Python.h defines _GNU_SOURCE before string.h is included.
    void* memmem(const void* haystack, size_t haystacklen, const void* needle,
                 size_t needlelen)


def containing(const unsigned char[::1] text, const int64_t[::1] offsets,
               const Py_ssize_t[::1] positions, const unsigned char[::1] word):
    """The positions among ``positions`` (in their order) whose bytes
    ``text[offsets[p]:offsets[p + 1]]`` contain ``word``; an empty word is in every one.

    Raises ``ValueError`` for a position outside the offsets or offsets beyond the text.
    """
    cdef Py_ssize_t m = positions.shape[0]
    cdef Py_ssize_t n = offsets.shape[0] - 1
    cdef Py_ssize_t size = text.shape[0]
    cdef Py_ssize_t nlen = word.shape[0]
    cdef Py_ssize_t i, p, count = 0
    cdef int64_t start, end
    cdef bint bad = False
    out = np.empty(m, dtype=np.intp)
    if m == 0:
        return out
    cdef Py_ssize_t[::1] out_v = out
    cdef const unsigned char* base = &text[0] if size else NULL
    cdef const unsigned char* wptr = &word[0] if nlen else NULL
    with nogil:
        for i in range(m):
            p = positions[i]
            if p < 0 or p >= n:
                bad = True
                break
            start = offsets[p]
            end = offsets[p + 1]
            if start < 0 or end < start or end > size:
                bad = True
                break
            if nlen == 0 or (
                end - start >= nlen and memmem(base + start, end - start, wptr, nlen) != NULL
            ):
                out_v[count] = p
                count += 1
    if bad:
        raise ValueError("a position or offset outside the text")
    return out[:count]
