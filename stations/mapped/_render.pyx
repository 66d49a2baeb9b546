# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""A nearest answer's feature written in C from a mapped station's record, cut for splicing.

Why: a worker of a mapped catalog keeps far fewer rendered features than one holding its
own catalog (a few thousand, where many workers share a host), so almost every station of a
national answer is rendered afresh, and the dict path — properties, navigation links, the
JSON encoder — was most of what such an answer cost. The record already holds each text
field as the feature writes it: both are written by a ``json.JSONEncoder`` with
``ensure_ascii=False`` (:func:`stations.mapped.records.encode_record`), so a string is copied
from the record as it lies, and its UTF-8 is what a navigation link percent-encodes.

Only the common variant is written here: WGS-84 geometry, navigation links, a distance, no
photos, and text whose record form has no escape. For anything else :meth:`parts` returns
None and the caller takes the dict path (:mod:`stations.nearest.fragments`), which is also
the reference a test holds these bytes to.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.mem cimport PyMem_Free
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memcpy, strlen

from stations.mapped._decode cimport Codes

cdef extern from "Python.h":
    char* PyOS_double_to_string(double val, char format_code, int precision, int flags,
                                int* ptype) except NULL


cdef enum:
    _FIELDS = 17  # stations.mapped.records.encode_record
    _ID = 0
    _VERSION = 1
    _UPDATED = 3
    _VERIFIED = 5
    _NAME = 6
    _EXTERNAL_ID = 7
    _ADDRESS = 8
    _DISTRICT = 9
    _HOST_ORG = 10
    _AMENITIES = 11
    _PHONE = 12
    _NOTES = 13
    _GEOCODED = 14
    _NO_SMARTPHONE_OK = 15
    _PHOTOS = 16


cdef struct _Out:
    char* data
    Py_ssize_t size
    Py_ssize_t cap


cdef int _grow(_Out* out, Py_ssize_t more) except -1:
    cdef Py_ssize_t cap = out.cap
    cdef char* data
    if out.size + more <= cap:
        return 0
    while cap < out.size + more:
        cap *= 2
    data = <char*>realloc(out.data, cap)
    if data == NULL:
        raise MemoryError()
    out.data, out.cap = data, cap
    return 0


cdef inline int _put(_Out* out, const char* s, Py_ssize_t n) except -1:
    if out.size + n > out.cap:
        _grow(out, n)
    memcpy(out.data + out.size, s, n)
    out.size += n
    return 0


cdef inline int _lit(_Out* out, bytes s) except -1:
    return _put(out, PyBytes_AS_STRING(s), PyBytes_GET_SIZE(s))


cdef int _fixed6(_Out* out, double x) except -1:
    """``f"{x:.6f}"``."""
    cdef char* s = PyOS_double_to_string(x, b'f', 6, 0, NULL)
    try:
        _put(out, s, <Py_ssize_t>strlen(s))
    finally:
        PyMem_Free(s)
    return 0


cdef const char* _HEX = b"0123456789ABCDEF"


cdef int _quoted(_Out* out, const uint8_t* s, Py_ssize_t n) except -1:
    """``urllib.parse.quote(text, safe="")`` of the text whose UTF-8 is ``s[:n]``."""
    cdef Py_ssize_t i
    cdef uint8_t c
    _grow(out, 3 * n)
    cdef char* w = out.data + out.size
    for i in range(n):
        c = s[i]
        if (c'A' <= c <= c'Z' or c'a' <= c <= c'z' or c'0' <= c <= c'9' or c == c'_'
                or c == c'.' or c == c'~' or c == c'-'):
            w[0] = <char>c
            w += 1
        else:
            w[0] = c'%'
            w[1] = _HEX[c >> 4]
            w[2] = _HEX[c & 15]
            w += 3
    out.size = w - out.data
    return 0


cdef Py_ssize_t _skip(const uint8_t* p, Py_ssize_t i, Py_ssize_t end, bint* escaped):
    """The end of the JSON value at ``p[i]`` (a string, a number, a literal, or a list of
    strings), or -1; ``escaped`` set when a string in it has an escape.
    """
    cdef uint8_t c
    if i >= end:
        return -1
    c = p[i]
    if c == c'"':
        i += 1
        while i < end:
            c = p[i]
            if c == c'\\':
                escaped[0] = True
                i += 2
            elif c == c'"':
                return i + 1
            else:
                i += 1
        return -1
    if c == c'[':
        i += 1
        if i < end and p[i] == c']':
            return i + 1
        while True:
            i = _skip(p, i, end, escaped)
            if i < 0 or i >= end:
                return -1
            if p[i] == c']':
                return i + 1
            if p[i] != c',':
                return -1
            i += 1
    while i < end and p[i] != c',' and p[i] != c']':
        i += 1
    return i


cdef class FeatureParts:
    """Writes the cut feature of the station at a position (see the module docstring).

    ``tables`` are JSON already written, per code: ``host_type``, ``status``, ``entry``
    (``entry or None``), ``hours`` and ``trust`` (the opening hours, and the default trust
    members, per ``hours_of`` entry), and ``amenities`` (each amenity code, bit ``i`` the
    ``i``-th: a row's list is written from its bits, not kept per bits value — a national
    catalog has ~10,000 of them); ``hours_text(h, t)`` writes the Chinese hours of hours
    entry ``h`` and text code ``t`` (kept once asked), ``updated(value)`` and
    ``verified(value)`` the members of the record's times (the latter with the station's
    freshness now).
    """

    cdef const uint8_t[::1] blob
    cdef const int64_t[::1] offsets
    cdef const double[::1] lon
    cdef const double[::1] lat
    cdef const double[:, ::1] app
    cdef const int32_t[::1] hours_of
    cdef const uint16_t[::1] bits
    cdef Codes status, host_type, entry, hours_text_codes
    cdef list status_json, host_json, entry_json, hours_json, trust_json, amenity_json
    cdef dict hours_text_json
    cdef object hours_text, updated, verified
    cdef Py_ssize_t n

    def __init__(self, arrays, blob, dict tables, hours_text, updated, verified):
        self.blob = blob
        self.offsets = arrays["offsets"]
        self.lon = arrays["lon"]
        self.lat = arrays["lat"]
        self.app = arrays["app_coords"]
        self.hours_of = arrays["hours_of"]
        self.bits = arrays["amenity_bits"]
        self.status = Codes(arrays["status"])
        self.host_type = Codes(arrays["host_type"])
        self.entry = Codes(arrays["entry"])
        self.hours_text_codes = Codes(arrays["opening_hours_text"])
        self.status_json = list(tables["status"])
        self.host_json = list(tables["host_type"])
        self.entry_json = list(tables["entry"])
        self.hours_json = list(tables["hours"])
        self.trust_json = list(tables["trust"])
        self.amenity_json = list(tables["amenities"])[:16]
        self.hours_text_json = {}
        self.hours_text = hours_text
        self.updated = updated
        self.verified = verified
        self.n = self.offsets.shape[0] - 1

    cpdef tuple parts(self, Py_ssize_t pos):
        """``(head, middle, tail)`` around ``open_now`` and ``distance_m`` of the station at
        ``pos`` (WGS-84, with navigation links), or None where the dict path must write it.
        """
        if pos < 0 or pos >= self.n:
            raise IndexError(f"position {pos} outside 0..{self.n - 1}")
        cdef int64_t start = self.offsets[pos], end = self.offsets[pos + 1]
        if not 0 <= start < end <= self.blob.shape[0]:
            return None
        cdef const uint8_t* p = &self.blob[0]
        cdef Py_ssize_t at[_FIELDS + 1]
        cdef bint escaped[_FIELDS]
        cdef Py_ssize_t i = start + 1, k
        if p[start] != c'[' or p[end - 1] != c']':
            return None
        for k in range(_FIELDS):
            escaped[k] = False
            at[k] = i
            i = _skip(p, i, end, &escaped[k])
            if i < 0:
                return None
            if k < _FIELDS - 1:
                if i >= end or p[i] != c',':
                    return None
                i += 1
        if i != end - 1:
            return None
        at[_FIELDS] = end  # each field k spans at[k] .. at[k + 1] - 1 (its comma or ']')
        # Photos are links made per digest; names and addresses with an escape are not
        # their UTF-8 as they lie: both left to the dict path.
        if at[_PHOTOS + 1] - 1 - at[_PHOTOS] != 2 or escaped[_NAME] or escaped[_ADDRESS]:
            return None
        cdef Py_ssize_t h = self.hours_of[pos]
        cdef Py_ssize_t t = self.hours_text_codes.at(pos)
        hours_text = self.hours_text_json.get((h, t))
        if hours_text is None:
            hours_text = self.hours_text_json[(h, t)] = self.hours_text(h, t)
        updated = self.updated(_field(p, at, _UPDATED))
        verified = self.verified(_field(p, at, _VERIFIED))

        cdef _Out out
        out.cap = 4 * (end - start) + 2048
        out.size = 0
        out.data = <char*>malloc(out.cap)
        if out.data == NULL:
            raise MemoryError()
        cdef Py_ssize_t cut_open, cut_distance
        cdef double lon = self.lon[pos], lat = self.lat[pos]
        cdef double gx = self.app[pos, 0], gy = self.app[pos, 1]
        cdef double bx = self.app[pos, 2], by = self.app[pos, 3]
        try:
            _lit(&out, b'{"type":"Feature","id":')
            _span(&out, p, at, _ID)
            _lit(&out, b',"geometry":{"type":"Point","coordinates":[')
            _lit(&out, repr(round(lon, 7)).encode())
            _lit(&out, b",")
            _lit(&out, repr(round(lat, 7)).encode())
            _lit(&out, b']},"properties":{"id":')
            _span(&out, p, at, _ID)
            _lit(&out, b',"external_id":')
            _span(&out, p, at, _EXTERNAL_ID)
            _lit(&out, b',"name":')
            _span(&out, p, at, _NAME)
            _lit(&out, b',"address":')
            _span(&out, p, at, _ADDRESS)
            _lit(&out, b',"district":')
            _span(&out, p, at, _DISTRICT)
            _lit(&out, b',"host_type":')
            _lit(&out, self.host_json[self.host_type.at(pos)])
            _lit(&out, b',"host_org":')
            _span(&out, p, at, _HOST_ORG)
            _lit(&out, b',"amenities":')
            if p[at[_AMENITIES]] == c'n':  # left to the bits (vocabulary order)
                self._amenities(&out, self.bits[pos])
            else:
                _span(&out, p, at, _AMENITIES)
            _lit(&out, b',"opening_hours":')
            _lit(&out, self.hours_json[h])
            _lit(&out, b',"opening_hours_text":')
            _lit(&out, hours_text)
            _lit(&out, b',"open_now":')
            cut_open = out.size
            _lit(&out, b',"status":')
            _lit(&out, self.status_json[self.status.at(pos)])
            _lit(&out, b',"phone":')
            _span(&out, p, at, _PHONE)
            _lit(&out, b',"notes":')
            _span(&out, p, at, _NOTES)
            _lit(&out, b',"geocoded":')
            _span(&out, p, at, _GEOCODED)
            _lit(&out, b',"entry":')
            _lit(&out, self.entry_json[self.entry.at(pos)])
            _lit(&out, b',"no_smartphone_ok":')
            _span(&out, p, at, _NO_SMARTPHONE_OK)
            _lit(&out, b',"photos":[],"updated_at":')
            _lit(&out, updated)
            _lit(&out, b',"version":')
            _span(&out, p, at, _VERSION)
            _lit(&out, verified)  # ,"verified_at":…,"freshness":…
            _lit(&out, b',"distance_m":')
            cut_distance = out.size
            _navigation(&out, p, at, gx, gy, bx, by)
            _lit(&out, self.trust_json[h])
            _lit(&out, b"}}")
            return (
                PyBytes_FromStringAndSize(out.data, cut_open),
                PyBytes_FromStringAndSize(out.data + cut_open, cut_distance - cut_open),
                PyBytes_FromStringAndSize(out.data + cut_distance, out.size - cut_distance),
            )
        finally:
            free(out.data)

    cdef int _amenities(self, _Out* out, uint16_t bits) except -1:
        """The JSON list of the amenity codes set in ``bits``, in vocabulary order."""
        cdef Py_ssize_t i
        cdef bint first = True
        _lit(out, b"[")
        for i in range(len(self.amenity_json)):
            if bits >> i & 1:
                if not first:
                    _lit(out, b",")
                _lit(out, self.amenity_json[i])
                first = False
        _lit(out, b"]")
        return 0


cdef inline object _field(const uint8_t* p, Py_ssize_t* at, Py_ssize_t k):
    """Field ``k``'s JSON text as bytes."""
    return PyBytes_FromStringAndSize(<const char*>p + at[k], at[k + 1] - 1 - at[k])


cdef inline int _span(_Out* out, const uint8_t* p, Py_ssize_t* at, Py_ssize_t k) except -1:
    return _put(out, <const char*>p + at[k], at[k + 1] - 1 - at[k])


cdef int _navigation(_Out* out, const uint8_t* p, Py_ssize_t* at, double gx, double gy,
                     double bx, double by) except -1:
    """``,"navigation":{…}`` as :func:`stations.navigation.links_at` writes it."""
    # A string field's UTF-8: inside its quotes (no escape in it, checked by the caller).
    cdef const uint8_t* name = p + at[_NAME] + 1
    cdef Py_ssize_t name_n = at[_NAME + 1] - 1 - at[_NAME] - 2
    cdef const uint8_t* addr = p + at[_ADDRESS] + 1
    cdef Py_ssize_t addr_n = at[_ADDRESS + 1] - 1 - at[_ADDRESS] - 2
    if addr_n == 0:  # ``address or name``
        addr, addr_n = name, name_n
    _lit(out, b',"navigation":{"amap":"https://uri.amap.com/marker?position=')
    _fixed6(out, gx)
    _lit(out, b"%2C")
    _fixed6(out, gy)
    _lit(out, b"&name=")
    _quoted(out, name, name_n)
    _lit(out, b'&src=warm-stations&coordinate=gaode&callnative=1",'
              b'"baidu":"https://api.map.baidu.com/marker?location=')
    _fixed6(out, by)
    _lit(out, b"%2C")
    _fixed6(out, bx)
    _lit(out, b"&title=")
    _quoted(out, name, name_n)
    _lit(out, b"&content=")
    _quoted(out, addr, addr_n)
    _lit(out, b'&output=html&coord_type=bd09ll&src=warm-stations",'
              b'"tencent":"https://apis.map.qq.com/uri/v1/marker?marker=coord%3A')
    _fixed6(out, gy)
    _lit(out, b"%2C")
    _fixed6(out, gx)
    _lit(out, b"%3Btitle%3A")
    _quoted(out, name, name_n)
    _lit(out, b"%3Baddr%3A")
    _quoted(out, addr, addr_n)
    _lit(out, b'&referer=warm-stations"}')
    return 0
