"""A Mapbox Vector Tile of one point layer, written as protobuf bytes directly.

Why not mapbox-vector-tile here: it takes each feature as a shapely geometry (parsed from
WKT), re-validates and quantises it, and fills protobuf objects field by field; for a tile of
a few hundred points nearly all of a tile's time went there. Our features are points whose
tile coordinates are already integers, so the message is a handful of varints per feature.
The library stays the reference: ``tests/stations/tiles`` decodes these bytes with
``mapbox_vector_tile.decode`` and compares them with the library's own encoding.

Layout (MVT 2.1, ``vector_tile.proto``): ``Tile.layers`` (3) → ``Layer`` with ``version`` (15),
``name`` (1), ``features`` (2), ``keys`` (3), ``values`` (4), ``extent`` (5); a ``Feature`` has
``tags`` (2, packed key/value indexes), ``type`` (3, 1 = POINT) and ``geometry`` (4, packed:
``MoveTo`` with count 1, then the zig-zag x and y).
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["PointLayer"]

_POINT_TYPE = b"\x18\x01"  # Feature.type (field 3, varint) = POINT
_MOVE_TO_ONE = bytes(((1 << 3) | 1,))

#: Every varint below 2**14 — the tag and value indexes and the zig-zagged tile
#: coordinates of nearly every feature — encoded once: the profile of a tile build had
#: ``_varint`` as its largest single cost.
_SMALL = [bytes((v,)) if v < 0x80 else bytes(((v & 0x7F) | 0x80, v >> 7)) for v in range(1 << 14)]


def _varint(value: int) -> bytes:
    """Unsigned LEB128; a negative int64 is written as its 64-bit two's complement."""
    if 0 <= value < 0x4000:
        return _SMALL[value]
    if value < 0:
        value += 1 << 64
    if value < 0x80:
        return bytes((value,))
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _zigzag(value: int) -> int:
    return (value << 1) ^ (value >> 63)


def _field(tag: int, payload: bytes) -> bytes:
    """A length-delimited field (wire type 2)."""
    return _varint((tag << 3) | 2) + _varint(len(payload)) + payload


def _value(value: str | int) -> bytes:
    """A ``Value`` message: strings as ``string_value``, ints as ``int_value`` or, when
    negative, ``sint_value`` (one byte for -1 instead of ten).
    """
    if isinstance(value, str):
        return _field(1, value.encode())
    if value < 0:
        return b"\x30" + _varint(_zigzag(value))  # field 6, varint
    return b"\x20" + _varint(value)  # field 4, varint


class PointLayer:
    """Collects point features, then writes the tile (``bytes(layer)``)."""

    def __init__(self, name: str, extent: int) -> None:
        self.name = name
        self.extent = extent
        self._keys: dict[str, int] = {}
        self._values: dict[tuple[type, str | int], int] = {}
        self._features: list[bytes] = []

    def add(self, x: int, y: int, properties: Sequence[tuple[str, str | int]]) -> None:
        """One point at tile coordinates ``x``, ``y`` (integers, y down)."""
        keys, values = self._keys, self._values
        tags: list[bytes] = []
        for key, value in properties:  # the key and value tables' indexes, first seen first
            k = keys.get(key)
            if k is None:
                k = keys[key] = len(keys)
            vk = (type(value), value)
            v = values.get(vk)
            if v is None:
                v = values[vk] = len(values)
            tags += (_varint(k), _varint(v))
        packed = b"".join(tags)
        geometry = _MOVE_TO_ONE + _varint(_zigzag(x)) + _varint(_zigzag(y))
        self._features.append(
            b"\x12" + _varint(len(packed)) + packed  # tags (field 2)
            + _POINT_TYPE  # type (field 3)
            + b"\x22" + _varint(len(geometry)) + geometry  # geometry (field 4)
        )  # fmt: skip

    def __len__(self) -> int:
        return len(self._features)

    def __bytes__(self) -> bytes:
        parts = [b"\x78\x02", _field(1, self.name.encode())]  # version 2 (field 15), name
        parts += [_field(2, f) for f in self._features]
        parts += [_field(3, k.encode()) for k in self._keys]
        parts += [_field(4, _value(v)) for _, v in self._values]
        parts.append(b"\x28" + _varint(self.extent))  # extent (field 5)
        return _field(3, b"".join(parts))
