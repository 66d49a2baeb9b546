"""Rider confirmations in the stations' database (migrations 0003 and 0011).

A vote is written in one transaction that checks the station is live (on PostgreSQL taking
a key-share lock on its row, so it cannot be removed underneath), claims the device's hour
on the station in ``confirmation_claims`` with one ``INSERT … ON CONFLICT DO UPDATE … WHERE
until <= at`` (two taps of one device cannot both pass, on either engine), inserts the vote,
and reads the station's recent votes for the rules — all before commit (of those, only the
ones its caller does not hold come back: :attr:`PendingVote.held`). A vote that asks for it
(:attr:`PendingVote.report`) and, with the station's recent votes, makes rule 4 hold
(:func:`~stations.trust.rules.queue_worthy`) files its ``closed`` report in the staff review
queue in the same transaction, counted as :func:`~stations.store.reports.count_report` counts
a rider's report: no separate transaction (and thread) per queued vote, and never a vote
stored whose report was lost. Nothing here touches the station itself or its history.

On PostgreSQL concurrent votes share transactions (:class:`~stations.store.group_commit.
GroupCommitWriter`): a whole batch is one statement (:data:`_PG_BATCH`), and every rider is
answered only after the batch has committed. SQLite has one writer at a time anyway: each
vote is a batch of one, written by :func:`_steps` (SQLAlchemy Core, one statement per step),
which is also the plain reference the fast path is tested against.

The fast path (:class:`PgVoteWriter`, the group writer's ``write``) is fenced here, and is
about the client's CPU, which one worker's event loop shares with every rider's request:
the writer keeps one connection while votes keep coming (no pool checkout and ping per
batch), runs the one statement in autocommit (one statement is one transaction: no BEGIN
and COMMIT round trips), prepared, and sends the batch as one JSON parameter (psycopg
dumps nine Python lists element by element; ``json.dumps`` is C). The stations are locked
by ``id = ANY(array)``, an index lookup whatever the planner knows of the table (a join
with the batch on a table not yet analysed became a nested loop over every station). Rule
4 and the reports it files are part of the same statement (the station's recent votes, each
asking vote's devices counted as :func:`~stations.trust.rules.queue_worthy` counts them,
the reports counted as :func:`~stations.store.reports.count_report` counts a rider's), so
a batch of 关着 votes is still one round trip in autocommit: the BEGIN and COMMIT it took
before were two more waits for the writer thread, each one a wake-up that took the
interpreter from the event loop serving the riders. :func:`write_votes` decides and files
them in Python, vote by vote: the reference the statement is tested against.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine, delete, func, insert, or_, select, tuple_

from stations.errors import ConfigurationError, NotFound, TooManyRequests
from stations.i18n import Message
from stations.store.engine import WRITE
from stations.store.group_commit import GroupCommitWriter, LazyGroupWriter
from stations.store.kept_connection import KeptConnection
from stations.store.reports import count_report
from stations.store.repository import Repository
from stations.store.schema import (
    confirmation_claims_table,
    confirmations_table,
    stations_table,
    storable_id,
    trust_secrets_table,
)
from stations.store.visits import upsert
from stations.trust.rules import (
    DOUBT_DEVICES,
    DOUBT_WINDOW_S,
    SKEW_S,
    VOTE_INTERVAL_S,
    WINDOW_S,
    Vote,
    queue_worthy,
)

__all__ = [
    "ConfirmationRow",
    "PendingVote",
    "PgVoteWriter",
    "Recorded",
    "SqlConfirmationStore",
    "write_votes",
]

_C = confirmations_table
_K = confirmation_claims_table
_S = stations_table
_VOTE_COLUMNS = (
    _C.c.id,
    _C.c.station_id,
    _C.c.at,
    _C.c.state,
    _C.c.device_hash,
    _C.c.onsite,
    _C.c.scheduled,
    _C.c.amenity,
)
#: How long the writer, once votes come several at a time, sleeps before taking a batch
#: (see GroupCommitWriter): a rider hears back some milliseconds later, far below what a
#: phone on a mobile network notices, and each batch's fixed cost (a round trip, the
#: statement's planning, the driver's work and the thread's wake-ups on the worker's core)
#: is shared by more votes — about fifteen at a thousand a second.
LINGER_S = 0.015
#: Ids awaited below the highest one a process loads at start: ids are allocated before
#: commit, so a slow transaction can land below one already read (see stations.trust.cursor).
LOOKBACK = 512


class ConfirmationRow(NamedTuple):
    """A stored vote: its id, its station and the vote."""

    id: int
    station_id: int
    vote: Vote


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _row(r: Any) -> ConfirmationRow:
    return ConfirmationRow(
        r.id,
        r.station_id,
        Vote(
            _utc(r.at).timestamp(), r.state, r.device_hash, bool(r.onsite), r.scheduled, r.amenity
        ),
    )


#: The kind of the report rule 4 files.
REPORT_KIND = "closed"


class PendingVote(NamedTuple):
    """A vote waiting for its transaction, with the phone's distance from the station.

    ``report``: the (checked) text of the ``closed`` report to file in the vote's transaction
    if, with this vote, rule 4 holds on the station's votes; None files none. ``held``: its
    caller holds every stored vote with an id up to this one (None: it holds none); the group
    writer reads back only the station's votes above it (see :class:`Recorded`).
    """

    station_id: int
    vote: Vote
    distance_m: float | None
    report: str | None = None
    held: int | None = None


class Recorded(NamedTuple):
    """What a stored vote gives back: its row, its station's votes of the last window, and
    whether its transaction filed (or counted) its report in the review queue.

    ``recent`` holds at least the station's votes the caller did not hold (those above the
    vote's :attr:`PendingVote.held`) and may hold others, which a board skips as repeats.
    Why not always all of them: on the group writer's path every vote read back is parsed
    and made into objects by the writer thread and walked by the event loop, so a vote on a
    station with a few days of votes cost that many rows, each time; a process's board
    already holds every vote up to its floor (:attr:`~stations.trust.board.TrustBoard.
    held_through`). Rule 4 is decided in the statement over all of them either way.
    The plain :func:`write_votes` reads them all (its own rule 4 counts them in Python).
    """

    row: ConfirmationRow
    recent: list[ConfirmationRow]
    queued: bool = False


def _too_soon(station_id: int, wait_s: float) -> TooManyRequests:
    wait = max(1, math.ceil(wait_s))
    return TooManyRequests(
        Message(
            "this device confirmed station {station_id} less than an hour ago; "
            "one vote per station per hour (retry in {wait} s)",
            station_id=station_id,
            wait=wait,
            minutes=math.ceil(wait / 60),
        ),
        retry_after_s=wait,
    )


def _one(results: Sequence[Recorded | Exception]) -> Recorded:
    (result,) = results
    if isinstance(result, Exception):
        raise result
    return result


class _Outcome(NamedTuple):
    """What one batch's statements tell: the live stations among the batch's, the claims
    won, until when the lost ones are held, the new votes' ids and the recent votes.
    """

    live: set[int]
    won: set[tuple[int, str]]
    held: dict[tuple[int, str], float]  # until, POSIX seconds
    ids: dict[tuple[int, str], int]
    recent: dict[int, list[ConfirmationRow]]
    queued: set[int]  # ids of the new votes whose report the statement filed
    checked: dict[int, float]  # live station → its last staff check, POSIX seconds (rule 8)


def _nothing(live: set[int] | None = None) -> _Outcome:
    """An outcome with nothing written (of ``live`` stations, if given)."""
    return _Outcome(set() if live is None else live, set(), {}, {}, {}, set(), {})


def write_votes(engine: Engine, batch: list[PendingVote]) -> list[Recorded | Exception]:
    """Store a batch of votes in one transaction; per vote its result or its refusal.

    A vote on a missing or deleted station gets ``NotFound``; a second vote of one device
    on one station within the hour (an earlier batch's, or an earlier one in this batch)
    gets ``TooManyRequests`` with the seconds left to wait. On PostgreSQL the whole batch is
    one statement (:data:`_PG_BATCH`), on SQLite a few (:func:`_steps`): the same steps.
    Each call takes a pooled connection; the group writer keeps one (:class:`PgVoteWriter`).
    Rule 4 is decided here (:func:`_due`) and the reports due are counted one by one
    (:func:`~stations.store.reports.count_report`): the plain steps the fast path's
    statement takes on its own.
    """
    first, claims = _claims(batch)
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        if not claims:
            got = _nothing()
        elif conn.dialect.name == "postgresql":  # the statement files no report here
            sql, params = _pg_statement(claims, reports=False)
            got = _pg_outcome(conn.exec_driver_sql(sql, params))
        else:
            got = _steps(conn, claims)
        out = _answers(batch, first, got)
        due = _due(batch, out, got.checked)
        now = datetime.now(UTC)
        for i in due:
            count_report(conn, batch[i].station_id, REPORT_KIND, str(batch[i].report), now)
    return _queued(out, due)


def _claims(batch: list[PendingVote]) -> tuple[dict[tuple[int, str], int], list[PendingVote]]:
    """Each (station, device)'s first vote in ``batch`` (its index), and those votes on
    storable ids: the ones that try to claim the hour.
    """
    first: dict[tuple[int, str], int] = {}
    for i, p in enumerate(batch):
        first.setdefault((p.station_id, p.vote.device), i)
    return first, [batch[i] for i in first.values() if storable_id(batch[i].station_id)]


def _answers(
    batch: list[PendingVote], first: dict[tuple[int, str], int], got: _Outcome
) -> list[Recorded | Exception]:
    out: list[Recorded | Exception] = []
    for i, p in enumerate(batch):
        key = (p.station_id, p.vote.device)
        j = first[key]
        if p.station_id not in got.live:
            out.append(NotFound(f"station {p.station_id} not found"))
        elif j != i:
            out.append(_too_soon(p.station_id, batch[j].vote.at + VOTE_INTERVAL_S - p.vote.at))
        elif key not in got.won:
            until = got.held.get(key)
            left = VOTE_INTERVAL_S if until is None else until - p.vote.at
            out.append(_too_soon(p.station_id, left))
        else:
            since = p.vote.at - WINDOW_S
            window = [r for r in got.recent.get(p.station_id, ()) if r.vote.at > since]
            out.append(Recorded(ConfirmationRow(got.ids[key], p.station_id, p.vote), window))
    return out


def _due(
    batch: list[PendingVote], out: list[Recorded | Exception], checked: dict[int, float]
) -> list[int]:
    """The stored votes whose report is due: asked for, and rule 4 holds on the votes read
    back in the vote's transaction (what the process's board holds of the station once the
    vote is applied), at the vote's time, past the station's last staff check (rule 8).
    """
    due = []
    for i, (p, result) in enumerate(zip(batch, out, strict=True)):
        if p.report is not None and isinstance(result, Recorded):
            votes = [r.vote for r in result.recent]
            if queue_worthy(votes, p.vote.at, checked.get(p.station_id)):
                due.append(i)
    return due


def _queued(out: list[Recorded | Exception], due: list[int]) -> list[Recorded | Exception]:
    for i in due:
        out[i] = out[i]._replace(queued=True)  # type: ignore[union-attr]
    return out


# The steps of write_votes as one statement over the batch (one round trip, and one text,
# so it is prepared once per connection).
# ``live`` locks the stations' rows against removal (key share); ``claimed`` is the
# once-an-hour rule, each row against its own time; the read-back joins the new votes (a
# statement does not see its own inserts) to the older ones, and the claims still held, as
# they were before this statement, for the wait. Rule 4: ``w`` gathers each claimed
# station's votes (new and ``older``) into arrays once, so each asking vote (``due``) counts
# over its own station's few votes rather than the planner joining every vote with every
# other; ``same``/``counted``/``filed`` then count the due reports as count_report does (the
# oldest pending identical report, found through the station index, or a new row), and the
# ``q`` rows say which votes were queued. The votes come as a JSON array of arrays
# (:func:`_pg_statement` says in what order), each text read by its type's input function as
# ``json_to_recordset`` would read an object's. Times come back as POSIX seconds: the
# exact microseconds, rounded once to a float as ``datetime.timestamp`` rounds them, without
# a datetime made and taken apart per row.
_PG_BATCH = """
WITH v AS (
  SELECT (e->>0)::integer AS station_id, (e->>1)::varchar AS device_hash,
         (e->>2)::timestamptz AS at, (e->>3)::timestamptz AS until, (e->>4)::varchar AS state,
         (e->>5)::varchar AS amenity, (e->>6)::boolean AS onsite, (e->>7)::float8 AS distance_m,
         (e->>8)::boolean AS scheduled, (e->>9)::varchar AS report
  FROM json_array_elements(%(votes)s::json) AS e
),
live AS (
  SELECT id, verified_at FROM stations
  WHERE id = ANY(%(ids)s::integer[]) AND deleted_at IS NULL
  ORDER BY id FOR KEY SHARE
),
claimed AS (
  INSERT INTO confirmation_claims AS k (station_id, device_hash, last_at, until)
  SELECT station_id, device_hash, at, until FROM v WHERE station_id IN (SELECT id FROM live)
  ORDER BY station_id, device_hash
  ON CONFLICT (station_id, device_hash) DO UPDATE
    SET last_at = excluded.last_at, until = excluded.until
    WHERE k.until <= excluded.last_at
  RETURNING station_id, device_hash
),
added AS (
  INSERT INTO confirmations
    (station_id, at, state, amenity, device_hash, onsite, distance_m, scheduled)
  SELECT v.station_id, v.at, v.state, v.amenity, v.device_hash, v.onsite, v.distance_m,
         v.scheduled
  FROM v JOIN claimed USING (station_id, device_hash)
  RETURNING id, station_id, at, state, device_hash, onsite, scheduled, amenity
),
older AS MATERIALIZED (
  SELECT c.id, c.station_id, c.at, c.state, c.device_hash, c.onsite, c.scheduled, c.amenity
  FROM confirmations c
  WHERE c.station_id IN (SELECT station_id FROM claimed) AND c.at > %(since)s
),
w AS MATERIALIZED (
  SELECT station_id, array_agg(at) AS at, array_agg(state) AS state,
         array_agg(device_hash) AS device, array_agg(onsite) AS onsite,
         array_agg(scheduled) AS scheduled
  FROM (
    SELECT station_id, at, state, device_hash, onsite, scheduled FROM added
    UNION ALL
    SELECT station_id, at, state, device_hash, onsite, scheduled FROM older
  ) AS votes
  GROUP BY station_id
),
due AS (
  SELECT a.id, a.station_id, v.report AS text
  FROM added a JOIN v USING (station_id, device_hash) JOIN w USING (station_id)
  JOIN live l ON l.id = a.station_id
  CROSS JOIN LATERAL (
    SELECT max(u.at) AS at
    FROM unnest(w.at, w.state, w.onsite) AS u(at, state, onsite)
    WHERE u.onsite AND u.state = 'open' AND u.at > a.at - %(window)s
      AND u.at <= a.at + %(skew)s
  ) AS opened
  WHERE v.report IS NOT NULL AND (
    SELECT count(DISTINCT u.device)
    FROM unnest(w.at, w.state, w.device, w.onsite, w.scheduled)
      AS u(at, state, device, onsite, scheduled)
    WHERE u.onsite AND u.at > a.at - %(window)s AND u.at <= a.at + %(skew)s
      AND u.at >= a.at - %(doubt)s
      AND u.state IN ('closed', 'locked') AND u.scheduled IS DISTINCT FROM false
      AND u.at > COALESCE(opened.at, '-infinity')
      AND u.at > COALESCE(l.verified_at, '-infinity')
  ) >= %(devices)s
),
r AS (
  SELECT station_id, text, count(*)::integer AS n FROM due GROUP BY station_id, text
),
same AS (
  SELECT x.id, r.station_id, r.text, r.n
  FROM r CROSS JOIN LATERAL (
    SELECT x.id FROM rider_reports x
    WHERE x.station_id = r.station_id AND x.text = r.text
      AND x.kind = %(kind)s AND x.status = 'pending'
    ORDER BY x.id LIMIT 1
  ) AS x
),
counted AS (
  UPDATE rider_reports x SET count = x.count + same.n, last_seen_at = %(now)s
  FROM same WHERE x.id = same.id
),
filed AS (
  INSERT INTO rider_reports (station_id, kind, text, status, count, created_at, last_seen_at)
  SELECT r.station_id, %(kind)s, r.text, 'pending', r.n, %(now)s, %(now)s
  FROM r WHERE (r.station_id, r.text) NOT IN (SELECT station_id, text FROM same)
)
SELECT 'n' AS kind, id, station_id, extract(epoch FROM at)::float8, state, device_hash, onsite,
       scheduled, amenity
FROM added
UNION ALL
SELECT 'o', id, station_id, extract(epoch FROM at)::float8, state, device_hash, onsite,
       scheduled, amenity
FROM older WHERE id > %(after)s
UNION ALL
SELECT 'h', NULL, k.station_id, extract(epoch FROM k.until)::float8, NULL, k.device_hash, NULL,
       NULL, NULL
FROM confirmation_claims k JOIN v USING (station_id, device_hash)
WHERE k.station_id IN (SELECT id FROM live)
  AND (k.station_id, k.device_hash) NOT IN (SELECT station_id, device_hash FROM claimed)
UNION ALL
SELECT 'l', NULL, id, extract(epoch FROM verified_at)::float8, NULL, NULL, NULL, NULL, NULL
FROM live
UNION ALL
SELECT 'q', id, station_id, NULL, NULL, NULL, NULL, NULL, NULL FROM due
"""


#: Rule 4's spans as the statement's parameters (intervals, bound once per batch).
_RULE4 = {
    "window": timedelta(seconds=WINDOW_S),
    "skew": timedelta(seconds=SKEW_S),
    "doubt": timedelta(seconds=DOUBT_WINDOW_S),
    "devices": DOUBT_DEVICES,
    "kind": REPORT_KIND,
}


def _pg_statement(claims: list[PendingVote], *, reports: bool = True) -> tuple[str, dict[str, Any]]:
    """:data:`_PG_BATCH` and its parameters for ``claims`` (times rounded to the microsecond
    here, as :func:`_steps` stores them); ``reports=False`` asks it to file none and to read
    back every recent vote (the plain :func:`write_votes` files them itself, vote by vote,
    counting the votes read back); otherwise it reads back of the older votes only those
    above what every claim holds (:attr:`PendingVote.held`).

    Each vote is a JSON array, not an object: station id, device hash, time, claim's end,
    state, amenity, on-site, distance, scheduled, the report to file if rule 4 holds. The
    writer thread builds this for every vote, in the process whose event loop answers the
    riders; keys repeated per vote and a datetime made and formatted per time were most of it.
    """
    votes = [
        (
            p.station_id,
            p.vote.device,
            _iso(p.vote.at),
            _iso(p.vote.at + VOTE_INTERVAL_S),
            p.vote.state,
            p.vote.amenity,
            p.vote.onsite,
            _distance(p.distance_m),
            p.vote.scheduled,
            p.report if reports else None,
        )
        for p in claims
    ]
    held = [p.held for p in claims if p.held is not None]
    after = min(held) if reports and len(held) == len(claims) else 0
    return _PG_BATCH, {
        "votes": json.dumps(votes),
        "ids": sorted({p.station_id for p in claims}),
        "since": _dt(min(p.vote.at for p in claims) - WINDOW_S),
        "now": datetime.now(UTC),
        "after": after,
        **_RULE4,
    }


#: Whole POSIX seconds → their UTC date and time as ISO text (a batch's votes share a few).
_SECONDS: dict[int, str] = {}


def _iso(at: float) -> str:
    """The instant ``_dt(at)`` stands for, as ISO 8601 text, without making a datetime.

    The microseconds are rounded as ``datetime.fromtimestamp`` rounds them (the fraction
    times a million, half to even, carried into the seconds), so PostgreSQL stores what
    :func:`_steps` stores; only the text differs (``.000000`` is written out).
    """
    frac, whole = math.modf(at)
    us = round(frac * 1e6)
    sec = int(whole)
    if us >= 1_000_000:
        us -= 1_000_000
        sec += 1
    elif us < 0:
        us += 1_000_000
        sec -= 1
    prefix = _SECONDS.get(sec)
    if prefix is None:
        if len(_SECONDS) >= 4096:
            _SECONDS.clear()
        prefix = _SECONDS[sec] = datetime.fromtimestamp(sec, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{prefix}.{us:06d}+00:00"


def _pg_outcome(rows: Iterable[Sequence[Any]]) -> _Outcome:
    """:data:`_PG_BATCH`'s answer rows (plain tuples, or SQLAlchemy's) read into an outcome."""
    got = _nothing()
    for kind, vid, sid, at, state, device, onsite, scheduled, amenity in rows:
        if kind == "l":
            got.live.add(sid)
            if at is not None:
                got.checked[sid] = at
        elif kind == "q":
            got.queued.add(vid)
        elif kind == "h":
            got.held[(sid, device)] = at
        else:
            if kind == "n":
                got.won.add((sid, device))
                got.ids[(sid, device)] = vid
            vote = Vote(at, state, device, bool(onsite), scheduled, amenity)
            got.recent.setdefault(sid, []).append(ConfirmationRow(vid, sid, vote))
    for votes in got.recent.values():
        votes.sort(key=lambda c: c.id)
    return got


class PgVoteWriter(KeptConnection):
    """The group writer's ``write`` on PostgreSQL: a batch per statement, its reports
    included, on a kept connection (:class:`~stations.store.kept_connection.KeptConnection`:
    returned when idle, breaker checked, driver errors raised as SQLAlchemy's).
    """

    def __call__(self, batch: list[PendingVote]) -> list[Recorded | Exception]:
        first, claims = _claims(batch)
        if not claims:
            return _answers(batch, first, _nothing())
        got = _pg_outcome(self._execute(*_pg_statement(claims)))
        out = _answers(batch, first, got)
        due = [i for i, r in enumerate(out) if isinstance(r, Recorded) and r.row.id in got.queued]
        return _queued(out, due)


def _steps(conn: Connection, claims: list[PendingVote]) -> _Outcome:
    """:data:`_PG_BATCH`'s steps one statement each (SQLite: SQLAlchemy Core)."""
    checks = dict(
        conn.execute(
            select(_S.c.id, _S.c.verified_at).where(
                _S.c.id.in_(sorted({p.station_id for p in claims})), _S.c.deleted_at.is_(None)
            )
        ).all()
    )
    live = set(checks)
    claims = [p for p in claims if p.station_id in live]
    got = _nothing(live)
    got.checked.update((sid, _utc(at).timestamp()) for sid, at in checks.items() if at)
    if not claims:
        return got
    up = upsert(conn, _K).values(
        [
            {
                "station_id": p.station_id,
                "device_hash": p.vote.device,
                "last_at": _dt(p.vote.at),
                "until": _dt(p.vote.at + VOTE_INTERVAL_S),
            }
            for p in claims
        ]
    )
    stmt = up.on_conflict_do_update(
        index_elements=[_K.c.station_id, _K.c.device_hash],
        set_={"last_at": up.excluded.last_at, "until": up.excluded.until},
        where=_K.c.until <= up.excluded.last_at,
    ).returning(_K.c.station_id, _K.c.device_hash)
    got.won.update((s, d) for s, d in conn.execute(stmt))
    lost = [(p.station_id, p.vote.device) for p in claims]
    lost = [k for k in lost if k not in got.won]
    if lost:
        got.held.update(
            ((s, d), _utc(until).timestamp())
            for s, d, until in conn.execute(
                select(_K.c.station_id, _K.c.device_hash, _K.c.until).where(
                    tuple_(_K.c.station_id, _K.c.device_hash).in_(lost)
                )
            )
        )
    winners = [p for p in claims if (p.station_id, p.vote.device) in got.won]
    if winners:
        ids = (
            conn.execute(
                insert(_C).returning(_C.c.id, sort_by_parameter_order=True),
                [_vote_row(p) for p in winners],
            )
            .scalars()
            .all()
        )
        got.ids.update(
            ((p.station_id, p.vote.device), i) for p, i in zip(winners, ids, strict=True)
        )
        since = _dt(min(p.vote.at for p in winners) - WINDOW_S)
        for r in conn.execute(
            select(*_VOTE_COLUMNS)
            .where(_C.c.station_id.in_(sorted({p.station_id for p in winners})), _C.c.at > since)
            .order_by(_C.c.id)
        ):
            got.recent.setdefault(r.station_id, []).append(_row(r))
    return got


def _distance(d: float | None) -> float | None:
    return None if d is None or not math.isfinite(d) else d


def _dt(at: float) -> datetime:
    return datetime.fromtimestamp(at, UTC)


def _vote_row(p: PendingVote) -> dict[str, Any]:
    v, d = p.vote, p.distance_m
    return {
        "station_id": p.station_id,
        "at": _dt(v.at),
        "state": v.state,
        "amenity": v.amenity,
        "device_hash": v.device,
        "onsite": v.onsite,
        "distance_m": _distance(d),
        "scheduled": v.scheduled,
    }


class SqlConfirmationStore(Repository):
    """Confirmations beside a :class:`~stations.store.sql.SqlStationStore`."""

    def __init__(self, engine: Engine, *, write_engine: Engine | None = None) -> None:
        super().__init__(engine, write_engine=write_engine)
        self._salt: bytes | None = None
        pg = PgVoteWriter(self.write_engine)
        self._writer: LazyGroupWriter[PendingVote, Recorded] = LazyGroupWriter(
            pg, name="confirmation-writer", idle=pg.release, linger_s=LINGER_S
        )

    def salt(self) -> bytes:
        """The database's device-hash salt (made by migration 0003)."""
        if self._salt is None:
            t = trust_secrets_table
            with self.engine.connect() as conn:
                value = conn.execute(select(t.c.value).where(t.c.name == "device_salt")).scalar()
            if not value:
                raise ConfigurationError("the device salt is missing (migration 0003 not applied?)")
            self._salt = bytes.fromhex(value)
        return self._salt

    def record(self, item: PendingVote) -> Recorded:
        """Store ``item.vote``; returns it with the station's votes of the last window (those
        up to ``item.held`` may be left out) and, with ``item.report``, whether
        rule 4 filed that text as a ``closed`` report in its transaction.

        Raises ``NotFound`` for a missing or deleted station and ``TooManyRequests`` when this
        device voted on this station less than an hour ago.
        """
        writer = self._group_writer()
        if writer is not None:
            return writer.submit(item)
        return _one(write_votes(self.write_engine, [item]))

    async def record_async(self, item: PendingVote) -> Recorded:
        """:meth:`record` for a coroutine (on SQLite it runs in a worker thread)."""
        writer = self._group_writer()
        if writer is not None:
            return await writer.submit_async(item)
        return _one(await asyncio.to_thread(write_votes, self.write_engine, [item]))

    def _group_writer(self) -> GroupCommitWriter[PendingVote, Recorded] | None:
        if self.engine.dialect.name != "postgresql":
            return None
        return self._writer.get()

    def close(self) -> None:
        """Stop the group-commit writer thread, if one was started (queued votes are written)."""
        self._writer.close()

    def prune_claims(self, now: float | None = None) -> int:
        """Delete the once-an-hour claims whose hour has passed; how many went.

        A claim only says "this device may not vote on this station before ``until``": once
        that is past, the row decides nothing (the next vote's upsert would overwrite it) and
        only makes the table grow with every device that ever voted. The votes themselves
        stay (the history staff read, and the window the board loads).
        """
        now = datetime.now(UTC).timestamp() if now is None else now
        with self.write_engine.connect().execution_options(**WRITE) as conn, conn.begin():
            return conn.execute(delete(_K).where(_K.c.until <= _dt(now))).rowcount or 0

    def recent(self, now: float | None = None) -> list[ConfirmationRow]:
        """Every vote of the last window (what a process loads at start)."""
        now = datetime.now(UTC).timestamp() if now is None else now
        query = (
            select(*_VOTE_COLUMNS)
            .where(_C.c.at > datetime.fromtimestamp(now - WINDOW_S, UTC))
            .order_by(_C.c.id)
        )
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(query)]

    def highest_id(self) -> int:
        """The highest confirmation id stored, however old (0: none)."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.max(_C.c.id))).scalar() or 0)

    def since(
        self, after: int, now: float | None = None, *, holes: Sequence[int] = ()
    ) -> list[ConfirmationRow]:
        """Votes still in the window with ids above ``after`` or among ``holes`` (the
        refresh: only what the process has not applied, see stations.trust.cursor).
        """
        now = datetime.now(UTC).timestamp() if now is None else now
        wanted = _C.c.id > after
        if holes:
            wanted = or_(wanted, _C.c.id.in_(sorted(holes)))
        query = (
            select(*_VOTE_COLUMNS)
            .where(wanted, _C.c.at > datetime.fromtimestamp(now - WINDOW_S, UTC))
            .order_by(_C.c.id)
        )
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(query)]

    def for_station(self, station_id: int, *, limit: int = 100) -> list[ConfirmationRow]:
        """A station's latest votes, newest first (the console)."""
        if not storable_id(station_id):
            return []
        query = (
            select(*_VOTE_COLUMNS)
            .where(_C.c.station_id == station_id)
            .order_by(_C.c.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(query)]

    def stations_with_votes(self, ids: Iterable[int]) -> set[int]:
        wanted = sorted({i for i in ids if storable_id(i)})
        found: set[int] = set()
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), 900):
                chunk = wanted[start : start + 900]
                found.update(
                    conn.execute(
                        select(_C.c.station_id).where(_C.c.station_id.in_(chunk))
                    ).scalars()
                )
        return found
