"""A nearest answer's features written straight from a mapped snapshot's records.

:class:`~stations.mapped._render.FeatureParts` writes, in C, the cut feature
(:mod:`stations.nearest.fragments`) of the station at a position from its record and its
row of the arrays; :func:`feature_parts` gives it what it reads from Python, each written
once per snapshot or per distinct value: the coded columns' JSON, the Chinese hours, the
amenity lists, the times. The dict path (``stations.features.features``) is the reference
a test holds the bytes to, and what any other variant or unusual record takes.
"""

from __future__ import annotations

from datetime import UTC, datetime

from stations.features import json_bytes
from stations.hours import hours_zh
from stations.mapped._decode import utc_time
from stations.mapped._render import FeatureParts
from stations.mapped.records import Columns
from stations.trust.board import default_json_of
from stations.trust.recheck import freshness
from stations.vocabulary import AMENITIES

__all__ = ["feature_parts"]

_NEVER = b',"verified_at":null,"freshness":"never"'


def _time(token: bytes) -> datetime | None:
    """A record's time (its JSON text: integer microseconds, ISO text or null)."""
    if token == b"null":
        return None
    if token[:1] == b'"':
        return utc_time(token[1:-1].decode())  # ISO text holds no escapes
    return utc_time(int(token))  # type: ignore[no-any-return]


def _iso(value: datetime) -> bytes:
    return b'"' + value.isoformat().encode() + b'"'


def _updated(token: bytes) -> bytes:
    return _iso(_time(token))  # type: ignore[arg-type]


def _verified(token: bytes) -> bytes:
    """``,"verified_at":…,"freshness":…``, freshness as of now (as the dict path)."""
    verified = _time(token)
    if verified is None:
        return _NEVER
    fresh = freshness(verified, datetime.now(UTC))
    return b',"verified_at":' + _iso(verified) + b',"freshness":' + json_bytes(fresh)


def feature_parts(columns: Columns) -> FeatureParts:
    """The writer of ``columns``' nearest features (see the module docstring)."""
    t = columns.tables
    hours = [h for h, _ in t["hours"]]
    texts = t["opening_hours_text"]
    tables = {
        "status": [json_bytes(v) for v in t["status"]],
        "host_type": [json_bytes(v) for v in t["host_type"]],
        "entry": [json_bytes(v or None) for v in t["entry"]],
        "hours": [json_bytes(h) for h in hours],
        "trust": [default_json_of(status, h) for h, status in t["hours"]],
        # Bit i is the i-th code (stations.mapped.records._AMENITY_BIT).
        "amenities": [json_bytes(code) for code in AMENITIES],
    }

    def hours_text(h: int, code: int) -> bytes:
        return json_bytes(hours_zh(hours[h], texts[code]))

    return FeatureParts(columns.arrays, columns.blob, tables, hours_text, _updated, _verified)
