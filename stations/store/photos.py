"""Station photos' records (migration 0003): who sent which photo, and its review.

The bytes live in a :class:`~stations.photos.blobs.BlobStore`; the station's published
photos are its ``photos`` field (digests, door photo first), changed through the station
store so each change is in the station's history under the staff member's name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update

from stations.errors import ConfigurationError, Conflict, NotFound
from stations.store.engine import WRITE
from stations.store.schema import photos_table, storable_id

__all__ = ["PhotoRecord", "SqlPhotoStore"]

_P = photos_table


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


def _record(r: Any) -> PhotoRecord:
    at = r.created_at if r.created_at.tzinfo else r.created_at.replace(tzinfo=UTC)
    return PhotoRecord(
        r.id,
        r.station_id,
        r.digest,
        r.width,
        r.height,
        r.kind,
        r.status,
        r.source,
        at,
        r.created_by,
    )


class SqlPhotoStore:
    """Photo records beside a :class:`~stations.store.sql.SqlStationStore`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def beside(cls, store: object) -> SqlPhotoStore:
        """The photo store sharing a station store's database (and its engine)."""
        engine = getattr(store, "engine", None)
        if not isinstance(engine, Engine):
            raise ConfigurationError(f"{type(store).__name__} has no SQL engine for photos")
        return cls(engine)

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
    ) -> PhotoRecord:
        """Record a new photo, pending review."""
        with self.engine.connect().execution_options(**WRITE) as conn, conn.begin():
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
                )
                .returning(_P.c.id)
            ).scalar_one()
            return _record(conn.execute(select(_P).where(_P.c.id == new_id)).one())

    def get(self, photo_id: int) -> PhotoRecord:
        """One photo by id; ``NotFound`` if there is none."""
        row = None
        if storable_id(photo_id):
            with self.engine.connect() as conn:
                row = conn.execute(select(_P).where(_P.c.id == photo_id)).first()
        if row is None:
            raise NotFound(f"photo {photo_id} not found")
        return _record(row)

    def list(
        self, *, status: str | None = None, station_id: int | None = None
    ) -> list[PhotoRecord]:
        """Photos, newest first, optionally of one station or review state."""
        query = select(_P).order_by(_P.c.id)
        if status is not None:
            query = query.where(_P.c.status == status)
        if station_id is not None:
            query = query.where(_P.c.station_id == station_id)
        with self.engine.connect() as conn:
            return [_record(r) for r in conn.execute(query)]

    def review(self, photo_id: int, status: str, reviewer: str) -> PhotoRecord:
        """Set a photo's review state, under the reviewer's name."""
        with self.engine.connect().execution_options(**WRITE) as conn, conn.begin():
            done = conn.execute(
                update(_P)
                .where(_P.c.id == photo_id, _P.c.status == "pending")
                .values(status=status, reviewed_by=reviewer, reviewed_at=datetime.now(UTC))
            )
            if done.rowcount != 1:
                raise Conflict(f"photo {photo_id} is not pending review")
            return _record(conn.execute(select(_P).where(_P.c.id == photo_id)).one())
