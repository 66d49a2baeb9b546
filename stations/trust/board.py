"""Rider evidence in memory, per station: what every answer adds to a station's properties.

The store keeps every confirmation; each process keeps the last :data:`~stations.trust.rules.
WINDOW_S` of them here, by station (a few hundred bytes for the few stations riders vote on),
and pulls new ones from the store like the catalog pulls station edits. A station answer
then costs one dictionary lookup when nobody voted on the station, and otherwise one
:func:`~stations.trust.rules.assess` per station and minute (kept until the minute or the
votes change).

The nearest route answers from cached JSON fragments (:mod:`stations.features`): those hold
the schedule-only trust properties (:func:`default_json`), written last in the properties
object, and :meth:`TrustBoard.members` gives the assessed ones the splice writes over them on hits with
evidence — the fragment cache keeps its design, and a hit without evidence pays a lookup.

What the board keeps lives for days and cannot be part of a reference cycle, so it is kept
out of the cycle collector's view (:mod:`stations.trust._untrack`): with every vote kept
tracked, a worker's full collections grew with the votes of the window.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Container, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from stations.model import Station
from stations.trust._untrack import untrack
from stations.trust.cursor import VoteCursor
from stations.trust.rules import WINDOW_S, Confidence, Vote, assess, schedule_only
from stations.vocabulary import AMENITIES

__all__ = [
    "TRUST_FIELDS",
    "TrustBoard",
    "default_json",
    "default_json_of",
    "default_properties",
    "trust_properties",
]

#: The properties every station answer gains, in this order, after all others.
TRUST_FIELDS = (
    "last_confirmed_open_at",
    "last_confirmed_closed_at",
    "confidence",
    "confidence_reasons",
)
_LABELS = dict(AMENITIES)
# The options of ``stations.features.json_bytes`` (which imports this module): the members
# must be the bytes the dict path writes.
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _iso(at: float | None) -> str | None:
    return None if at is None else datetime.fromtimestamp(at, UTC).isoformat()


def _properties(c: Confidence) -> dict[str, Any]:
    return {
        "last_confirmed_open_at": _iso(c.last_open_at),
        "last_confirmed_closed_at": _iso(c.last_closed_at),
        "confidence": c.level,
        "confidence_reasons": [r.as_dict() for r in c.reasons],
    }


def _member_json(props: dict[str, Any]) -> bytes:
    """``,"k":v,…`` — the members as they follow others inside a properties object."""
    return b"," + _ENCODER.encode(props).encode("utf-8")[1:-1]


_DEFAULTS = {state: _properties(schedule_only(state)) for state in (True, False, None)}
_DEFAULT_JSON = {state: _member_json(props) for state, props in _DEFAULTS.items()}


def _static_unknown(station: Station) -> bool:
    """Whether open-now is unknown whatever the time: open, with no hours."""
    d = station.data
    return d.status == "open" and not d.opening_hours.strip()


def default_properties(station: Station) -> dict[str, Any]:
    """The schedule-only trust properties a cached fragment is rendered with."""
    return dict(_DEFAULTS[None if _static_unknown(station) else True])


def default_json(station: Station) -> bytes:
    """The schedule-only trust members a cached fragment holds for ``station``."""
    return default_json_of(station.data.status, station.data.opening_hours)


def default_json_of(status: str, opening_hours: str) -> bytes:
    """:func:`default_json` of a station with this status and these hours (all it reads)."""
    return _DEFAULT_JSON[None if status == "open" and not opening_hours.strip() else True]


def trust_properties(
    station: Station, open_now: bool | None, board: TrustBoard | None, now: float | None = None
) -> dict[str, Any]:
    """The trust properties of ``station`` (schedule-only when ``board`` is None)."""
    if board is None:
        return dict(_DEFAULTS[open_now])
    return board.properties(station, open_now, time.time() if now is None else now)


class TrustBoard:
    """The recent votes of every station, and their assessment per minute."""

    def __init__(self) -> None:
        self._votes: dict[int, tuple[Vote, ...]] = {}
        # station id → (minute, open_now, station, Confidence)
        self._assessed: dict[int, tuple[int, bool | None, Station, Confidence]] = {}
        # station id → (Confidence, the pair a splice takes: its member JSON and the
        # station's default members): written when a nearest answer first needs it, not
        # when a vote is weighed (a rider's receipt does not use it)
        self._members: dict[int, tuple[Confidence, tuple[bytes, bytes]]] = {}
        # Confirmation ids applied per station: a row seen twice (this process's own write,
        # then the store pull) counts once.
        self._ids: dict[int, dict[int, float]] = {}  # per station: id → the vote's time
        self._lock = threading.Lock()
        #: The ids applied (the store's incremental pull reads only the others).
        self.cursor = VoteCursor()

    def __len__(self) -> int:
        return len(self._votes)

    def votes(self, station_id: int) -> tuple[Vote, ...]:
        """The recent votes on one station, oldest first."""
        return self._votes.get(station_id, ())

    @property
    def last_id(self) -> int:
        """The highest confirmation id applied."""
        return self.cursor.top

    @property
    def held_through(self) -> int:
        """Every confirmation id up to this one is applied (or given up): what a vote's
        transaction need not read back (see :attr:`VoteCursor.held_through`).
        """
        with self._lock:
            return self.cursor.held_through

    def load(
        self,
        rows: Iterable[tuple[int, int, Vote]],
        *,
        lookback: int,
        now: float | None = None,
        highest: int = 0,
    ) -> int:
        """:meth:`add` for the votes a process loads at start: of the ids below the highest
        (``highest``: the store's, whether or not its vote is still in the window) not among
        them, only the last ``lookback`` are awaited by the pulls that follow.
        """
        now = time.time() if now is None else now
        rows = list(rows)
        with self._lock:
            self.cursor.loaded([r[0] for r in rows], now, lookback, highest=highest)
        return self.add(rows, now=now)

    def wanted(self) -> tuple[int, list[int]]:
        """What the next pull reads: ids above the first number, and the listed ones (the
        holes awaited). See :mod:`stations.trust.cursor`.
        """
        with self._lock:
            return self.cursor.wanted()

    def expire(self, now: float) -> None:
        """Give up the holes awaited longer than the cursor waits. Called after a pull that
        asked for them, never before: a refresher held up (the database away, say) would
        otherwise give up votes no pull had looked for.
        """
        with self._lock:
            self.cursor.expire(now)

    def add(
        self,
        rows: Iterable[tuple[int, int, Vote]],
        *,
        now: float | None = None,
        pulled: bool = True,
    ) -> int:
        """Apply ``(confirmation id, station id, vote)`` rows; returns how many were new.
        ``pulled``: the rows are a pull's (or the start's load); False for the votes a
        process's own write read back (see :meth:`VoteCursor.saw`).
        """
        now = time.time() if now is None else now
        added = 0
        with self._lock:
            grouped: dict[int, list[Vote]] = {}
            ids = []
            for cid, sid, vote in rows:
                ids.append(cid)
                if cid in self._ids.get(sid, ()):
                    continue
                grouped.setdefault(sid, []).append(untrack(vote))
                seen = self._ids.get(sid)
                if seen is None:
                    seen = self._ids[sid] = untrack({})  # of numbers only
                seen[cid] = vote.at
                added += 1
            self.cursor.saw(ids, now, pulled=pulled)
            for sid, new in grouped.items():
                keep = [v for v in (*self._votes.get(sid, ()), *new) if now - v.at <= WINDOW_S]
                self._votes[sid] = untrack(tuple(sorted(keep, key=lambda v: v.at)))
                self._assessed.pop(sid, None)
        return added

    def prune(self, now: float | None = None) -> None:
        """Forget votes older than the window (the refresher calls this now and then)."""
        now = time.time() if now is None else now
        with self._lock:
            for sid in list(self._votes):
                keep = untrack(tuple(v for v in self._votes[sid] if now - v.at <= WINDOW_S))
                if len(keep) != len(self._votes[sid]):
                    self._assessed.pop(sid, None)
                seen = self._ids.get(sid)
                if seen is not None and len(seen) > len(keep):
                    # The ids of votes that left the window (here or in add) go too: a
                    # station voted on every day would otherwise keep every id it ever had.
                    self._ids[sid] = untrack(
                        {c: at for c, at in seen.items() if now - at <= WINDOW_S}
                    )
                if keep:
                    self._votes[sid] = keep
                else:
                    del self._votes[sid]
                    self._ids.pop(sid, None)
                    self._members.pop(sid, None)

    def _entry(
        self, station: Station, open_now: bool | None, now: float
    ) -> tuple[int, bool | None, Station, Confidence]:
        minute = int(now // 60)
        entry = self._assessed.get(station.id)
        if (
            entry is not None
            and entry[0] == minute
            and entry[1] is open_now
            and entry[2] is station
        ):
            return entry
        checked = station.verified_at
        c = assess(
            self._votes.get(station.id, ()),
            open_now,
            now,
            status_open=station.data.status == "open",
            labels=_LABELS,
            settled_at=None if checked is None else checked.timestamp(),
        )
        for reason in c.reasons:
            untrack(reason)
        untrack(c.reasons)
        entry = untrack((minute, open_now, station, untrack(c)))
        self._assessed[station.id] = entry
        return entry

    def _member(self, station: Station, open_now: bool | None, now: float) -> tuple[bytes, bytes]:
        """The member JSON of the station's current assessment and the station's default
        members: the pair :meth:`members` gives the splice (kept while the assessment holds).
        """
        c = self._entry(station, open_now, now)[3]
        done = self._members.get(station.id)
        if done is None or done[0] is not c:
            # Re-assessed each minute: the same verdict in the same words keeps its JSON.
            json_ = done[1][0] if done is not None and done[0] == c else None
            if json_ is None:
                json_ = _member_json(_properties(c))
            done = untrack((c, untrack((json_, default_json(station)))))
            self._members[station.id] = done
        return done[1]

    def confidence(
        self, station: Station, open_now: bool | None, now: float | None = None
    ) -> Confidence:
        """The confidence of ``station`` now (or at ``now``)."""
        now = time.time() if now is None else now
        if station.id not in self._votes:
            return schedule_only(open_now)
        return self._entry(station, open_now, now)[3]

    def properties(self, station: Station, open_now: bool | None, now: float) -> dict[str, Any]:
        """The rider-evidence properties of one station's answer."""
        if station.id not in self._votes:
            return dict(_DEFAULTS[open_now])
        return _properties(self._entry(station, open_now, now)[3])

    @property
    def evidence(self) -> Container[int]:
        """The ids of the stations with votes (the nearest path tests each hit against it)."""
        return self._votes

    def members(
        self, hits: Sequence[Any], special: Iterable[int], now: float | None = None
    ) -> list[tuple[bytes, bytes] | None]:
        """For each hit, the trust members to write over its cached fragment's defaults:
        ``(assessed, default)``, or None where the defaults stand
        (:func:`stations.nearest._splice.splice` writes them in its one pass).

        A cached fragment ends with :func:`default_json` of its station and the two braces
        closing properties and feature (see :mod:`stations.features`); ``special`` are the
        positions whose station has votes or whose open-now is unknown (the caller finds them
        in its own loop over the hits, so a page without evidence costs nothing here).
        Nothing is copied or kept per fragment: with rider evidence on every station of a
        city, a kept spliced copy per fragment churned (and a bounded one missed) on nearly
        every hit.
        """
        votes, assessed, kept = self._votes, self._assessed, self._members
        now = time.time() if now is None else now
        minute = int(now // 60)
        out: list[tuple[bytes, bytes] | None] = [None] * len(hits)
        for i in special:
            station, _, open_now = hits[i]
            sid = station.id
            if sid in votes:
                # The common case inline: this minute's assessment of this very station
                # object, with its pair already written (what _member checks and returns).
                entry = assessed.get(sid)
                done = kept.get(sid)
                if (
                    entry is not None
                    and done is not None
                    and entry[0] == minute
                    and entry[1] is open_now
                    and entry[2] is station
                    and done[0] is entry[3]
                ):
                    out[i] = done[1]
                else:
                    out[i] = self._member(station, open_now, now)
            elif not _static_unknown(station):
                out[i] = (_DEFAULT_JSON[None], default_json(station))
        return out
