"""Station photos' records (migration 0003): who sent which photo, and its review.

The bytes live in a :class:`~stations.photos.blobs.BlobStore`; the station's published
photos are its ``photos`` field (digests, door photo first), changed through the station
store so each change is in the station's history under the staff member's name.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Text, cast, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from stations.errors import Conflict, NotFound
from stations.i18n import Message
from stations.store.repository import Repository
from stations.store.schema import (
    confirmations_table,
    photos_table,
    stations_table,
    storable_id,
)

__all__ = ["PhotoConfirmation", "PhotoRecord", "SqlPhotoStore", "photo_already_sent"]

_P = photos_table
_C = confirmations_table
_CONFIRMATION_COLUMNS = (
    _C.c.id.label("c_id"),
    _C.c.station_id.label("c_station_id"),
    _C.c.at.label("c_at"),
    _C.c.state.label("c_state"),
    _C.c.amenity.label("c_amenity"),
    _C.c.onsite.label("c_onsite"),
    _C.c.device_hash.label("c_device_hash"),
    _C.c.distance_m.label("c_distance_m"),
)


@dataclass(frozen=True)
class PhotoConfirmation:
    """The rider's confirmation a photo came with: what they said they saw, where, when."""

    id: int
    station_id: int
    at: datetime
    state: str  # open | closed | locked | broken
    amenity: str | None
    onsite: bool
    device_hash: str
    #: how far from the station the phone said it was (None: it sent no position)
    distance_m: float | None = None


@dataclass(frozen=True)
class PhotoRecord:
    """One uploaded photo: its station, digest, review state and who reviewed it."""

    id: int
    station_id: int
    digest: str
    width: int
    height: int
    kind: str
    status: str  # published | pending | rejected
    source: str  # staff | rider
    created_at: datetime
    created_by: str
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None
    confirmation: PhotoConfirmation | None = None


#: Digests per query of :meth:`SqlPhotoStore.referenced` (bound parameters stay few).
_CHUNK = 200


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _confirmation(r: Any) -> PhotoConfirmation | None:
    if r.c_id is None:
        return None
    return PhotoConfirmation(
        r.c_id,
        r.c_station_id,
        _utc(r.c_at),
        r.c_state,
        r.c_amenity,
        bool(r.c_onsite),
        r.c_device_hash,
        None if r.c_distance_m is None else float(r.c_distance_m),
    )


def _record(r: Any) -> PhotoRecord:
    return PhotoRecord(
        r.id,
        r.station_id,
        r.digest,
        r.width,
        r.height,
        r.kind,
        r.status,
        r.source,
        _utc(r.created_at),
        r.created_by,
        r.reviewed_by,
        None if r.reviewed_at is None else _utc(r.reviewed_at),
        _confirmation(r),
    )


#: A photo row with its confirmation's columns (NULL when it came without one).
_WITH_CONFIRMATION = select(_P, *_CONFIRMATION_COLUMNS).select_from(
    _P.outerjoin(_C, _C.c.id == _P.c.confirmation_id)
)


class SqlPhotoStore(Repository):
    """Photo records beside a :class:`~stations.store.sql.SqlStationStore`."""

    def add(
        self,
        station_id: int,
        digest: str,
        width: int,
        height: int,
        *,
        kind: str,
        status: str,
        source: str,
        actor: str,
        confirmation_id: int | None = None,
    ) -> PhotoRecord:
        """Record a new photo; with ``confirmation_id``, ``Conflict`` if that confirmation
        already has one (the unique index decides between two simultaneous uploads).
        """
        try:
            with self._write() as conn, conn.begin():
                new_id = conn.execute(
                    insert(_P)
                    .values(
                        station_id=station_id,
                        digest=digest,
                        width=width,
                        height=height,
                        kind=kind,
                        status=status,
                        source=source,
                        created_at=datetime.now(UTC),
                        created_by=actor,
                        confirmation_id=confirmation_id,
                    )
                    .returning(_P.c.id)
                ).scalar_one()
                row = conn.execute(_WITH_CONFIRMATION.where(_P.c.id == new_id)).one()
        except IntegrityError:
            if confirmation_id is None or self.photo_of(confirmation_id) is None:
                raise
            raise photo_already_sent(confirmation_id) from None
        return _record(row)

    def confirmation(self, confirmation_id: int) -> PhotoConfirmation:
        """A rider's confirmation, to tie a photo to it; ``NotFound`` if there is none."""
        row = None
        if storable_id(confirmation_id):
            with self.engine.connect() as conn:
                row = conn.execute(
                    select(*_CONFIRMATION_COLUMNS).where(_C.c.id == confirmation_id)
                ).first()
        if row is None:
            raise NotFound(Message("confirmation {id} not found", id=confirmation_id))
        confirmation = _confirmation(row)
        assert confirmation is not None
        return confirmation

    def photo_of(self, confirmation_id: int) -> int | None:
        """The id of the photo sent with a confirmation, if one was."""
        with self.engine.connect() as conn:
            found = conn.execute(
                select(_P.c.id).where(_P.c.confirmation_id == confirmation_id)
            ).scalar()
        return None if found is None else int(found)

    def get(self, photo_id: int) -> PhotoRecord:
        """One photo by id; ``NotFound`` if there is none."""
        row = None
        if storable_id(photo_id):
            with self.engine.connect() as conn:
                row = conn.execute(_WITH_CONFIRMATION.where(_P.c.id == photo_id)).first()
        if row is None:
            raise NotFound(Message("photo {id} not found", id=photo_id))
        return _record(row)

    def list(
        self,
        *,
        status: str | None = None,
        station_id: int | None = None,
        limit: int | None = None,
    ) -> list[PhotoRecord]:
        """Photos, oldest first (the review queue's order), optionally of one station or
        review state, with the confirmation each came with.
        """
        query = _WITH_CONFIRMATION.order_by(_P.c.id).limit(limit)
        if status is not None:
            query = query.where(_P.c.status == status)
        if station_id is not None:
            query = query.where(_P.c.station_id == station_id)
        with self.engine.connect() as conn:
            return [_record(r) for r in conn.execute(query)]

    def is_published(self, digest: str) -> bool:
        """Whether a photo with this digest has been shown on a station (staff's, or a
        rider's once accepted): only those are served to everyone.
        """
        with self.engine.connect() as conn:
            found = conn.execute(
                select(_P.c.id).where(_P.c.digest == digest, _P.c.status == "published").limit(1)
            ).first()
        return found is not None

    def referenced(self, digests: Collection[str]) -> set[str]:
        """Which of ``digests`` something still uses, so their files must stay: a photo row
        that is not rejected (published, or pending review), or a station's ``photos``
        (editors may set that field, and a deleted station can be restored with it).
        """
        wanted = sorted(set(digests))
        found: set[str] = set()
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                found.update(
                    conn.execute(
                        select(_P.c.digest)
                        .where(_P.c.digest.in_(chunk), _P.c.status != "rejected")
                        .distinct()
                    ).scalars()
                )
                # The JSON list's text holds each digest verbatim; LIKE works on both engines.
                text = cast(stations_table.c.photos, Text)
                rest = [d for d in chunk if d not in found]
                if rest:
                    for photos in conn.execute(
                        select(stations_table.c.photos).where(
                            or_(*(text.like(f"%{d}%") for d in rest))
                        )
                    ).scalars():
                        found.update(set(photos or ()) & set(rest))
        return found

    def count(self, status: str) -> int:
        """How many photos are in one review state (the console's badge)."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).where(_P.c.status == status)).scalar_one())

    def review(self, photo_id: int, status: str, reviewer: str) -> PhotoRecord:
        """Set a photo's review state, under the reviewer's name."""
        with self._write() as conn, conn.begin():
            done = conn.execute(
                update(_P)
                .where(_P.c.id == photo_id, _P.c.status == "pending")
                .values(status=status, reviewed_by=reviewer, reviewed_at=datetime.now(UTC))
            )
            if done.rowcount != 1:
                raise Conflict(Message("photo {id} is not pending review", id=photo_id))
            return _record(conn.execute(_WITH_CONFIRMATION.where(_P.c.id == photo_id)).one())

    def reopen(self, photo_id: int, status: str) -> None:
        """Put a photo back to pending from ``status``: an accept whose station update failed
        must not leave the photo marked shown while the station does not show it.
        """
        with self._write() as conn, conn.begin():
            conn.execute(
                update(_P)
                .where(_P.c.id == photo_id, _P.c.status == status)
                .values(status="pending", reviewed_by=None, reviewed_at=None)
            )


def photo_already_sent(confirmation_id: int) -> Conflict:
    """The refusal of a second photo for one confirmation."""
    return Conflict(
        Message(
            "confirmation {id} already has its photo (one photo per confirmation)",
            id=confirmation_id,
        )
    )
