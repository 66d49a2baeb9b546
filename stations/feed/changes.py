"""Pages of the change feed: one entry per create, update, delete and restore.

The store numbers changes in commit order (``StationStore.feed``); this module turns a page
of them into what a follower reads, with an opaque cursor per entry. Cursors are the feed
number in a small envelope, so they can change shape later without breaking followers who
only store and send them back.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from stations.errors import FieldError, ValidationFailed
from stations.store.base import HistoryEntry, StationStore

__all__ = ["ChangePage", "decode_cursor", "encode_cursor", "entry", "read_changes", "MAX_LIMIT"]

MAX_LIMIT = 1000
_PREFIX = "c1."


def encode_cursor(seq: int) -> str:
    """The opaque cursor of feed position ``seq``."""
    raw = base64.urlsafe_b64encode(str(seq).encode()).decode().rstrip("=")
    return _PREFIX + raw


def decode_cursor(cursor: str | None) -> int:
    """The feed position of ``cursor``; ``None``, ``""`` and ``"0"`` mean the beginning."""
    if cursor is None or cursor in ("", "0"):
        return 0
    if cursor.startswith(_PREFIX):
        body = cursor[len(_PREFIX) :]
        try:
            text = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode("ascii")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            text = ""
        if text.isdigit() and len(text) <= 12:
            return int(text)
    raise ValidationFailed(
        [
            FieldError.from_catalog(
                "since",
                "is not a cursor this feed gave out; start from 0 or send back a cursor "
                "or next_cursor you received",
                cursor[:40],
            )
        ]
    )


def _op(h: HistoryEntry) -> str:
    if h.action == "import":  # an import creates or overwrites; followers need only which
        return "create" if h.before is None else "update"
    return h.action


def _feature(record: dict[str, Any]) -> dict[str, Any]:
    props = {k: v for k, v in record.items() if k not in ("lon", "lat")}
    return {
        "type": "Feature",
        "id": record["id"],
        "geometry": {"type": "Point", "coordinates": [record["lon"], record["lat"]]},
        "properties": props,
    }


def entry(h: HistoryEntry) -> dict[str, Any]:
    """One feed entry: the station as written, or a tombstone for a delete."""
    assert h.seq is not None
    op = _op(h)
    station: dict[str, Any]
    if op == "delete" or h.after is None:
        station = {"id": h.station_id, "version": h.version, "deleted": True}
    else:
        station = _feature(h.after)
    return {
        "cursor": encode_cursor(h.seq),
        "op": op,
        "station_id": h.station_id,
        "version": h.version,
        "at": h.at.isoformat(),
        "station": station,
    }


@dataclass(frozen=True)
class ChangePage:
    """Entries after a cursor, and the cursor to ask with next (the last entry's, or the
    same one when nothing is new).
    """

    entries: list[dict[str, Any]]
    next_cursor: str
    head: int

    def as_json(self) -> dict[str, Any]:
        """The page as the JSON body of ``GET /api/v1/changes``."""
        return {
            "changes": self.entries,
            "next_cursor": self.next_cursor,
            "more": bool(self.entries) and decode_cursor(self.next_cursor) < self.head,
        }


def read_changes(store: StationStore, since: str | None, limit: int = 100) -> ChangePage:
    """The page of changes after ``since`` (at most ``limit``, capped at ``MAX_LIMIT``)."""
    after = decode_cursor(since)
    limit = max(1, min(limit, MAX_LIMIT))
    head = store.feed_head()
    rows = store.feed(after, limit)
    entries = [entry(h) for h in rows]
    last = rows[-1].seq if rows else after
    assert last is not None
    return ChangePage(entries, encode_cursor(last) if last else "0", head)
