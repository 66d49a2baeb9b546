# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""A mapped station decoded in C: its record parsed where it lies in the shared bytes, its
UTC times and its frozen dataclasses made without Python-level calls.

Why: every nearest answer over a mapped catalog decodes the few stations it returns, and
the Python decoding cost several times what the in-memory catalog pays for the same answer.
Its parts, each replaced here:

* the record read as a ``str`` sliced from the blob, then ``json.JSONDecoder``, then tuples
  of its lists: :class:`RecordDecoder` parses the record's fixed shape
  (:func:`stations.mapped.records.encode_record`: one flat array of integers, ``null``,
  ``true``/``false``, strings and lists of strings, written without spaces) from the blob,
  each string made from its UTF-8 bytes directly (ASCII and BMP text such as Chinese in one
  pass into a string of the right size, other text by CPython's decoder). A record it does
  not expect (a string with an escape, a float, a long integer, anything else) is handed
  back to the JSON path, so a station never depends on this parser being complete, only
  on it being right where it answers;
* three ``datetime.fromtimestamp(…).replace(…)``: a time is made at once from its civil
  date and time, computed from C integers;
* two frozen dataclass constructors, whose generated ``__init__`` sets each of 26 fields
  with ``object.__setattr__`` from Python: an instance is allocated and each field stored
  at the slot its member descriptor names (what ``object.__setattr__`` ends up doing).

:meth:`stations.mapped.records._Decoder.reference` is the plain version a test compares.
"""

from cpython.datetime cimport datetime_new, import_datetime, timedelta_new
from cpython.object cimport PyObject, PyObject_GenericSetAttr
from cpython.list cimport PyList_GET_ITEM
from cpython.tuple cimport PyTuple_GET_ITEM
from cpython.ref cimport Py_DECREF, Py_XDECREF, Py_XINCREF
from cpython.unicode cimport PyUnicode_DecodeUTF8
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t
from libc.string cimport memcpy

import types
from datetime import UTC, datetime

import_datetime()

cdef extern from "structmember.h":
    ctypedef struct PyMemberDef:
        int type
        Py_ssize_t offset
        int flags
    enum:
        T_OBJECT_EX
        READONLY

cdef extern from "Python.h":
    ctypedef struct PyMemberDescrObject:
        PyMemberDef* d_member
    ctypedef uint16_t Py_UCS2
    ctypedef struct _Type "PyTypeObject":
        PyObject* (*tp_alloc)(_Type*, Py_ssize_t)
    object PyUnicode_New(Py_ssize_t size, Py_UCS4 maxchar)
    int PyObject_GC_IsTracked(PyObject*)
    void PyObject_GC_UnTrack(void*)
    void* PyUnicode_DATA(object)

cdef object _UTC = UTC
cdef object _EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
cdef int64_t _DAY_US = 86_400_000_000
cdef int64_t _HOUR_US = 3_600_000_000
# Days from 0001-01-01 to 1970-01-01, and to 9999-12-31: the range of a datetime.
cdef int64_t _MIN_DAY = -719_162
cdef int64_t _MAX_DAY = 2_932_896


cpdef object utc_time(object value):
    """A record's time: None, integer microseconds since the UTC epoch (an aware UTC
    ``datetime``), or ISO text (``datetime.fromisoformat``).
    """
    cdef int64_t us, days, rest, z, era, doe, yoe, doy, mp, y, m, d
    if value is None:
        return None
    if type(value) is int:
        us = value
        days = us // _DAY_US  # floor division: Python semantics (cdivision is off)
        rest = us - days * _DAY_US
        if not _MIN_DAY <= days <= _MAX_DAY:  # out of range: datetime's own error
            return _EPOCH + timedelta_new(<int>days, <int>(rest // 1_000_000),
                                          <int>(rest % 1_000_000))
        # The civil date of a day count (H. Hinnant's days_from_civil, inverted): eras of
        # 400 years from 0000-03-01, so the leap day ends a year.
        z = days + 719_468
        era = z // 146_097
        doe = z - era * 146_097
        yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
        doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
        mp = (5 * doy + 2) // 153
        d = doy - (153 * mp + 2) // 5 + 1
        m = mp + 3 if mp < 10 else mp - 9
        y = yoe + era * 400 + (m <= 2)
        return datetime_new(<int>y, <int>m, <int>d, <int>(rest // _HOUR_US),
                            <int>(rest // 60_000_000 % 60), <int>(rest // 1_000_000 % 60),
                            <int>(rest % 1_000_000), _UTC)
    return datetime.fromisoformat(value)


cdef class Maker:
    """Makes instances of a slotted dataclass from field values in field order, as its
    ``__init__`` would with every field given (no defaults, no ``__post_init__``).

    Each field is stored at its slot's offset, read from the slot's member descriptor once
    here; a field that is not a plain slot of the class itself is set through
    ``PyObject_GenericSetAttr`` instead.
    """

    cdef object cls
    cdef tuple names
    cdef Py_ssize_t n
    cdef list offsets  # per field: its slot's byte offset, or -1
    cdef Py_ssize_t[32] at
    cdef bint direct

    def __init__(self, cls, names):
        self.cls = cls
        self.names = tuple(names)
        self.n = len(self.names)
        self.offsets = [_slot_offset(cls, name) for name in self.names]
        self.direct = (
            self.n <= 32 and -1 not in self.offsets and cls.__new__ is object.__new__
            and not getattr(cls, "__abstractmethods__", None)
        )
        if self.direct:
            for i in range(self.n):
                self.at[i] = self.offsets[i]

    def __call__(self, *values):
        if len(values) != self.n:
            raise TypeError(f"{self.cls.__name__} takes {self.n} values, not {len(values)}")
        cdef PyObject* v[32]
        if self.n > 32:
            return self._slow(values)
        for i in range(self.n):
            v[i] = PyTuple_GET_ITEM(values, i)
        return self.fill(v)

    cdef object _slow(self, tuple values):
        obj = object.__new__(self.cls)
        for i in range(self.n):
            PyObject_GenericSetAttr(obj, self.names[i], values[i])
        return obj

    cdef object fill(self, PyObject** values):
        """An instance from ``values[:n]`` (borrowed: each gets a reference of its own).

        One whose values are all outside the cycle collector's view (strings, numbers,
        times, tuples of those) is taken out of it too, as CPython does for such a tuple: a
        frozen instance of them can never be part of a cycle, and the collector then need
        not walk every decoded station each time it runs.
        """
        cdef Py_ssize_t i
        cdef PyObject** slot
        cdef bint leaf = True
        if self.direct:
            obj = _allocated(<_Type*>self.cls)
            for i in range(self.n):
                slot = <PyObject**>(<char*><PyObject*>obj + self.at[i])
                Py_XINCREF(values[i])
                Py_XDECREF(slot[0])
                slot[0] = values[i]
                if values[i] != NULL and PyObject_GC_IsTracked(values[i]):
                    leaf = False
            if leaf:
                PyObject_GC_UnTrack(<void*>obj)
        else:
            obj = object.__new__(self.cls)
            for i in range(self.n):
                PyObject_GenericSetAttr(obj, self.names[i], <object>values[i])
        return obj


cdef tuple _leaf_tuple(list items):
    """``tuple(items)``, out of the cycle collector's view when every item is (as CPython
    does for such a tuple when the collector first meets it)."""
    cdef tuple made = tuple(items)
    for item in made:
        if PyObject_GC_IsTracked(<PyObject*>item):
            return made
    if PyObject_GC_IsTracked(<PyObject*>made):
        PyObject_GC_UnTrack(<void*>made)
    return made


cdef inline object _allocated(_Type* cls):
    """A new instance of ``cls``, its slots empty: what ``object.__new__`` does for a class
    that keeps it (checked when a :class:`Maker` is made).
    """
    cdef PyObject* obj = cls.tp_alloc(cls, 0)
    if obj == NULL:
        raise MemoryError()
    made = <object>obj
    Py_DECREF(made)  # the cast took a reference of its own
    return made


cdef Py_ssize_t _slot_offset(object cls, str name):
    """The byte offset of ``cls``'s own writable object slot ``name``; -1 for anything else."""
    descr = cls.__dict__.get(name)
    if type(descr) is not types.MemberDescriptorType or descr.__objclass__ is not cls:
        return -1
    cdef PyMemberDef* member = (<PyMemberDescrObject*><PyObject*>descr).d_member
    if member.type != T_OBJECT_EX or member.flags & READONLY:
        return -1
    return member.offset


cdef class Codes:
    # Declared in _decode.pxd (its attributes and ``at``).

    def __init__(self, codes):
        if codes.dtype == "uint8":
            self.narrow = codes
        else:
            self.wide = codes.astype("int32", copy=False)
            self.is_wide = True


cdef class _Coded:
    """One coded column (:class:`Codes`) and its table of values."""

    cdef Codes codes
    cdef list table

    def __init__(self, codes, list table):
        self.codes = Codes(codes)
        self.table = table

    cdef inline object at(self, Py_ssize_t pos):
        return self.table[self.codes.at(pos)]


# A record's fields (stations.mapped.records.encode_record), where its lists are.
cdef enum:
    _FIELDS = 17
    _AMENITIES_AT = 11
    _PHOTOS_AT = 16
    # More digits than this might not fit an int64: such an integer takes the JSON path.
    _MAX_DIGITS = 18
    # StationData's fields (stations.model), as many as a Maker fills from C.
    _DATA_FIELDS = 18
    _STATION_FIELDS = 8

# What the parser returns for a record it leaves to the JSON path.
cdef object _UNUSUAL = object()


cdef class RecordDecoder:
    """Decodes the station at a position from its record and its row of the arrays.

    ``fields_of(pos)`` is the JSON path (the record's fields, its amenities and photos as
    tuples), taken for a record this parser does not expect; ``amenities_of(bits)`` the
    amenity codes of a row's bits, for a record that leaves them to the bits.
    """

    cdef const uint8_t[::1] blob
    cdef const int64_t[::1] offsets
    cdef const double[::1] lon
    cdef const double[::1] lat
    cdef const int64_t[::1] org_id
    cdef const uint16_t[::1] bits
    cdef const int32_t[::1] hours_of
    cdef list hours
    cdef _Coded status, host_type, entry, hours_text
    cdef Py_ssize_t n
    cdef dict amenities
    cdef object fields_of, amenities_of
    cdef Maker make_data, make_station

    def __init__(self, arrays, blob, tables, fields_of, amenities_of,
                 Maker make_data, Maker make_station):
        self.blob = blob
        self.offsets = arrays["offsets"]
        self.lon = arrays["lon"]
        self.lat = arrays["lat"]
        self.org_id = arrays["org_id"]
        self.bits = arrays["amenity_bits"]
        self.hours_of = arrays["hours_of"]
        self.hours = [h[0] for h in tables["hours"]]
        self.status = _Coded(arrays["status"], tables["status"])
        self.host_type = _Coded(arrays["host_type"], tables["host_type"])
        self.entry = _Coded(arrays["entry"], tables["entry"])
        self.hours_text = _Coded(arrays["opening_hours_text"], tables["opening_hours_text"])
        self.n = self.offsets.shape[0] - 1
        self.amenities = {}
        self.fields_of = fields_of
        self.amenities_of = amenities_of
        if make_data.n != _DATA_FIELDS or make_station.n != _STATION_FIELDS:
            raise ValueError("makers of StationData and Station fields expected")
        self.make_data = make_data
        self.make_station = make_station

    def __call__(self, Py_ssize_t pos):
        f = self.parsed(pos)
        if f is None:
            f = self.fields_of(pos)
        return self._station(pos, f)

    def by_json(self, Py_ssize_t pos):
        """The station at ``pos`` from the JSON path's fields (what an unusual record takes)."""
        self._check(pos)
        return self._station(pos, self.fields_of(pos))

    cdef inline void _check(self, Py_ssize_t pos) except *:
        if pos < 0 or pos >= self.n:
            raise IndexError(f"position {pos} outside 0..{self.n - 1}")
        if not 0 <= self.offsets[pos] <= self.offsets[pos + 1] <= self.blob.shape[0]:
            raise ValueError(f"the record at {pos} lies outside the blob")

    cpdef list parsed(self, Py_ssize_t pos):
        """The record at ``pos`` as the JSON path reads it (amenities from the bits when the
        record leaves them out, lists as tuples); None for a record left to the JSON path.
        """
        self._check(pos)
        cdef int64_t start = self.offsets[pos], end = self.offsets[pos + 1]
        if end == start:
            return None
        cdef const uint8_t* p = &self.blob[0]
        cdef Py_ssize_t i = start
        cdef list f = [None] * _FIELDS
        cdef Py_ssize_t k = 0
        cdef object value
        if p[i] != c'[':
            return None
        i += 1
        while True:
            if k == _FIELDS:
                return None
            value = _value(p, &i, end, k == _AMENITIES_AT or k == _PHOTOS_AT)
            if value is _UNUSUAL:
                return None
            f[k] = value
            k += 1
            if i >= end:
                return None
            if p[i] == c',':
                i += 1
            elif p[i] == c']':
                i += 1
                break
            else:
                return None
        if i != end or k != _FIELDS:
            return None
        if type(f[_PHOTOS_AT]) is not tuple:
            return None
        amenities = f[_AMENITIES_AT]
        if amenities is None:
            f[_AMENITIES_AT] = self._amenities(pos)
        elif type(amenities) is not tuple:
            return None
        return f

    cdef object _amenities(self, Py_ssize_t pos):
        bits = self.bits[pos]
        found = self.amenities.get(bits)
        if found is None:
            found = self.amenities_of(bits)
            if type(found) is tuple:
                found = _leaf_tuple(list(found))
            self.amenities[bits] = found
        return found

    cdef object _station(self, Py_ssize_t pos, list f):
        # The fields as borrowed pointers, no tuple: ``f`` and the locals hold them.
        cdef PyObject* v[_DATA_FIELDS]
        cdef object lon, lat, host_type, hours, hours_text, status, entry, org_id
        lon, lat = self.lon[pos], self.lat[pos]
        host_type, hours = self.host_type.at(pos), self.hours[self.hours_of[pos]]
        hours_text, status, entry = (
            self.hours_text.at(pos), self.status.at(pos), self.entry.at(pos)
        )
        v[0] = PyList_GET_ITEM(f, 6)  # name
        v[1] = <PyObject*>lon
        v[2] = <PyObject*>lat
        v[3] = PyList_GET_ITEM(f, 7)  # external_id
        v[4] = PyList_GET_ITEM(f, 8)  # address
        v[5] = PyList_GET_ITEM(f, 9)  # district
        v[6] = <PyObject*>host_type
        v[7] = PyList_GET_ITEM(f, 10)  # host_org
        v[8] = PyList_GET_ITEM(f, _AMENITIES_AT)
        v[9] = <PyObject*>hours
        v[10] = <PyObject*>hours_text
        v[11] = PyList_GET_ITEM(f, 12)  # phone
        v[12] = <PyObject*>status
        v[13] = PyList_GET_ITEM(f, 13)  # notes
        v[14] = PyList_GET_ITEM(f, 14)  # geocoded
        v[15] = <PyObject*>entry
        v[16] = PyList_GET_ITEM(f, 15)  # no_smartphone_ok
        v[17] = PyList_GET_ITEM(f, _PHOTOS_AT)
        data = self.make_data.fill(v)
        created = utc_time(f[2])
        # A station never edited was created when it was last updated: one (immutable) time.
        updated = f[3]
        updated = created if type(updated) is int and updated == f[2] else utc_time(updated)
        verified = utc_time(f[5])
        org_id = self.org_id[pos]
        v[0] = PyList_GET_ITEM(f, 0)  # id
        v[1] = <PyObject*>data
        v[2] = PyList_GET_ITEM(f, 1)  # version
        v[3] = <PyObject*>created
        v[4] = <PyObject*>updated
        v[5] = PyList_GET_ITEM(f, 4)  # deleted
        v[6] = <PyObject*>org_id
        v[7] = <PyObject*>verified
        return self.make_station.fill(v)


cdef object _value(const uint8_t* p, Py_ssize_t* at, Py_ssize_t end, bint list_ok):
    """The JSON value at ``p[at[0]]`` (``at`` moved past it), or ``_UNUSUAL``; a list (of
    strings only, where ``list_ok``) as a tuple.
    """
    cdef Py_ssize_t i = at[0]
    cdef uint8_t c
    cdef list items
    if i >= end:
        return _UNUSUAL
    c = p[i]
    if c == c'"':
        return _string(p, at, end)
    if c == c'-' or c'0' <= c <= c'9':
        return _integer(p, at, end)
    if c == c'n' and end - i >= 4 and p[i + 1] == c'u' and p[i + 2] == c'l' and p[i + 3] == c'l':
        at[0] = i + 4
        return None
    if c == c't' and end - i >= 4 and p[i + 1] == c'r' and p[i + 2] == c'u' and p[i + 3] == c'e':
        at[0] = i + 4
        return True
    if (c == c'f' and end - i >= 5 and p[i + 1] == c'a' and p[i + 2] == c'l'
            and p[i + 3] == c's' and p[i + 4] == c'e'):
        at[0] = i + 5
        return False
    if c == c'[' and list_ok:
        i += 1
        if i < end and p[i] == c']':
            at[0] = i + 1
            return ()
        items = []
        while True:
            if i >= end or p[i] != c'"':
                return _UNUSUAL
            at[0] = i
            value = _string(p, at, end)
            if value is _UNUSUAL:
                return _UNUSUAL
            items.append(value)
            i = at[0]
            if i >= end:
                return _UNUSUAL
            if p[i] == c',':
                i += 1
            elif p[i] == c']':
                at[0] = i + 1
                return _leaf_tuple(items)
            else:
                return _UNUSUAL
    return _UNUSUAL


# What a byte in a string means to the scan (one table read a byte, no branch on its
# kind): _ONE a character starts there (ASCII or a lead byte, not a continuation byte),
# _BMP3 it leads a 3-byte sequence, _OTHER it leads another, _STOP the scan ends there
# (the closing quote, or an escape or control character, which the JSON path reads).
cdef enum:
    _ONE = 1
    _BMP3 = 2
    _OTHER = 4
    _STOP = 8

cdef uint8_t[256] _BYTE
for _b in range(256):
    _BYTE[_b] = (
        _STOP if _b < 0x20 or _b == 0x22 or _b == 0x5C
        else _ONE if _b < 0x80
        else 0 if _b < 0xC0
        else _ONE | _BMP3 if 0xE0 <= _b <= 0xEF
        else _ONE | _OTHER
    )


cdef object _string(const uint8_t* p, Py_ssize_t* at, Py_ssize_t end):
    """The string whose opening quote is at ``p[at[0]]``, or ``_UNUSUAL`` for one with an
    escape or a control character (which JSON refuses unescaped) or bytes that are not
    UTF-8.
    """
    cdef Py_ssize_t start = at[0] + 1, i = start, chars = 0
    cdef uint8_t kind, seen = 0
    while True:
        if i >= end:
            return _UNUSUAL
        kind = _BYTE[p[i]]
        if kind & _STOP:
            break
        chars += kind & _ONE
        seen |= kind
        i += 1
    if p[i] != c'"':
        return _UNUSUAL
    at[0] = i + 1
    cdef Py_ssize_t n = i - start
    if chars == n and not seen & (_BMP3 | _OTHER):  # ASCII
        value = PyUnicode_New(n, 127)
        memcpy(PyUnicode_DATA(value), p + start, n)
        return value
    if not seen & _OTHER:
        value = _bmp(p + start, n, chars)
        if value is not None:
            return value
    try:
        return PyUnicode_DecodeUTF8(<const char*>p + start, n, NULL)
    except UnicodeDecodeError:
        return _UNUSUAL


cdef object _bmp(const uint8_t* s, Py_ssize_t n, Py_ssize_t chars):
    """``s[:n]`` decoded when it is ASCII and 3-byte sequences (at least one), at most
    ``chars`` characters, as one UCS-2 string (what CPython makes of such text); else None.
    """
    value = PyUnicode_New(chars, 0xFFFF)
    cdef Py_UCS2* out = <Py_UCS2*>PyUnicode_DATA(value)
    cdef Py_ssize_t i = 0, k = 0
    cdef uint32_t c, c1, c2, code
    while i < n:
        if k >= chars:
            return None
        c = s[i]
        if c < 0x80:
            out[k] = <Py_UCS2>c
            i += 1
        else:
            if c < 0xE0 or c > 0xEF or i + 2 >= n:
                return None
            c1, c2 = s[i + 1], s[i + 2]
            if c1 & 0xC0 != 0x80 or c2 & 0xC0 != 0x80:
                return None
            code = (c & 0x0F) << 12 | (c1 & 0x3F) << 6 | (c2 & 0x3F)
            if code < 0x800 or 0xD800 <= code <= 0xDFFF:  # overlong, or a surrogate
                return None
            out[k] = <Py_UCS2>code
            i += 3
        k += 1
    return value if k == chars else None


cdef object _integer(const uint8_t* p, Py_ssize_t* at, Py_ssize_t end):
    """The integer at ``p[at[0]]`` as JSON reads it, or ``_UNUSUAL`` for a number with a
    fraction or exponent, a leading zero, or more digits than an int64 surely holds.
    """
    cdef Py_ssize_t i = at[0], first
    cdef bint negative = p[i] == c'-'
    cdef int64_t value = 0
    if negative:
        i += 1
    first = i
    while i < end and c'0' <= p[i] <= c'9':
        value = value * 10 + (p[i] - c'0')
        i += 1
    if i == first or i - first > _MAX_DIGITS or (p[first] == c'0' and i - first > 1):
        return _UNUSUAL
    if i < end and (p[i] == c'.' or p[i] == c'e' or p[i] == c'E'):
        return _UNUSUAL
    at[0] = i
    return -value if negative else value
