"""Uploads end to end: re-encode, store the bytes, record, and (staff) publish on the station."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from stations.errors import FieldError, NotFound, PreconditionFailed, ValidationFailed
from stations.i18n import N_, Message
from stations.model import Station
from stations.photos.blobs import BlobStore
from stations.photos.process import RENDITIONS, process_photo
from stations.photos.urls import photo_urls
from stations.store.base import StationStore
from stations.store.confirmations import SqlConfirmationStore
from stations.store.photos import PhotoConfirmation, PhotoRecord, SqlPhotoStore, photo_already_sent
from stations.trust.device import device_hash

__all__ = [
    "MAX_PHOTOS",
    "PHOTO_WINDOW_S",
    "PRUNE_GRACE_S",
    "PhotoService",
    "PruneResult",
    "photo_urls",  # a re-export
]

_log = logging.getLogger(__name__)

#: Photos a station shows; the oldest published one drops off the end.
MAX_PHOTOS = 8
#: How long after a confirmation its photo may follow (the rider is still at the door).
PHOTO_WINDOW_S = 3600
#: Files younger than this are never pruned: an upload writes its files before its row.
PRUNE_GRACE_S = 3600
#: Tries of the station update when staff edit the same station at the same moment.
_SHOW_TRIES = 3


def _not_yours(msgid: str, value: int, **params: Any) -> ValidationFailed:
    return ValidationFailed([FieldError.from_catalog("confirmation_id", msgid, value, **params)])


@dataclass
class PruneResult:
    """What ``prune`` found: digests removed (or, dry run, to remove), kept and failed."""

    removed: list[str] = field(default_factory=list)
    files: int = 0
    in_use: int = 0
    recent: int = 0
    failed: list[str] = field(default_factory=list)


class PhotoService:
    """Built once per process beside the station store."""

    def __init__(self, blobs: BlobStore, records: SqlPhotoStore, stations: StationStore) -> None:
        self.blobs = blobs
        self.records = records
        self.stations = stations
        self._confirmations = SqlConfirmationStore(records.engine)  # the device-hash salt

    def _store(self, data: bytes) -> tuple[str, int, int]:
        processed = process_photo(data)
        for name, blob in processed.files.items():
            self.blobs.put(f"{processed.digest}/{name}", blob, RENDITIONS[name])
        return processed.digest, processed.width, processed.height

    def publish(self, station_id: int, data: bytes, *, actor: str) -> tuple[PhotoRecord, Station]:
        """A staff upload: shown at once, first (the door photo riders look for)."""
        self.stations.get(station_id)  # NotFound before any work
        digest, width, height = self._store(data)
        record = self.records.add(
            station_id,
            digest,
            width,
            height,
            kind="door",
            status="published",
            source="staff",
            actor=actor,
        )
        return record, self._show(station_id, digest, actor)

    def _show(self, station_id: int, digest: str, actor: str) -> Station:
        """Put ``digest`` first on the station, in one station-store transaction with its
        history entry; read again and retried if staff changed the station meanwhile.
        """
        for attempt in range(_SHOW_TRIES):
            current = self.stations.get(station_id)
            photos = [digest, *(d for d in current.data.photos if d != digest)][:MAX_PHOTOS]
            try:
                return self.stations.update(
                    station_id, {"photos": photos}, actor=actor, expected_version=current.version
                )
            except PreconditionFailed:
                if attempt == _SHOW_TRIES - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def remove(
        self, station_id: int, digest: str, *, actor: str, expected_version: int | None = None
    ) -> Station:
        """Take a photo off a station (a wrong door, a rider's photo accepted by mistake): a
        new version without it, in the station's history under ``actor``; ``expected_version``
        guards against an edit made meanwhile (412). Its files and row stay, as for every
        earlier version: restoring one brings the photo back.
        """
        current = self.stations.get(station_id)
        if digest not in current.data.photos:
            raise NotFound(
                Message("station {id} does not show photo {name}", id=station_id, name=digest[:16])
            )
        photos = [d for d in current.data.photos if d != digest]
        version = current.version if expected_version is None else expected_version
        return self.stations.update(
            station_id, {"photos": photos}, actor=actor, expected_version=version
        )

    def _confirmation(
        self, station_id: int, confirmation_id: int, hashed: str
    ) -> PhotoConfirmation:
        """The confirmation a rider's photo goes with: this station's, from this device,
        recent, and without a photo yet; else a clear refusal before the photo is stored.
        """
        found = self.records.confirmation(confirmation_id)
        if found.station_id != station_id or found.device_hash != hashed:
            raise _not_yours(
                N_("is not a confirmation this device sent for this station"), confirmation_id
            )
        age = (datetime.now(UTC) - found.at).total_seconds()
        if age > PHOTO_WINDOW_S:
            raise _not_yours(
                N_("is older than {minutes} minutes; confirm again at the door"),
                confirmation_id,
                minutes=PHOTO_WINDOW_S // 60,
            )
        if not found.onsite:
            raise _not_yours(
                N_("was not sent at the door; a door photo goes with a tap there"),
                confirmation_id,
            )
        if self.records.photo_of(confirmation_id) is not None:
            raise photo_already_sent(confirmation_id)
        return found

    def submit(
        self, station_id: int, data: bytes, *, device: str, confirmation_id: int
    ) -> PhotoRecord:
        """A rider's photo: stored, held for review, shown only once staff accept it.

        It goes with ``confirmation_id``, the rider's 我在这里 tap at the door (this device's,
        on site, within the hour), one photo each: so the review shows what the rider said
        beside it, and anonymous uploads are bounded by the taps, which are limited per
        device and address. The device is kept only as its salted hash, as for confirmations.
        """
        self.stations.get(station_id)
        hashed = device_hash(self._confirmations.salt(), device)
        self._confirmation(station_id, confirmation_id, hashed)
        digest, width, height = self._store(data)
        return self.records.add(
            station_id,
            digest,
            width,
            height,
            kind="door",
            status="pending",
            source="rider",
            actor=f"rider:{hashed[:12]}",
            confirmation_id=confirmation_id,
        )

    def accept(self, photo_id: int, *, reviewer: str) -> tuple[PhotoRecord, Station]:
        """Accept a pending photo: it is shown on its station from now on, through the
        station store (one transaction, a history entry under the reviewer's name). If that
        update fails the photo goes back to pending, so the queue never says "shown" for a
        photo the station does not show.
        """
        record = self.records.review(photo_id, "published", reviewer)
        try:
            return record, self._show(record.station_id, record.digest, reviewer)
        except BaseException:
            self.records.reopen(photo_id, "published")
            raise

    def reject(self, photo_id: int, *, reviewer: str) -> PhotoRecord:
        """Reject a pending photo: it is never shown, and its files go once the rejection
        is committed, unless another row or station uses the same digest. A store that
        fails here does not undo the rejection: it is logged, and ``prune`` retries.
        """
        record = self.records.review(photo_id, "rejected", reviewer)
        try:
            self.discard(record.digest)
        except Exception:
            _log.warning(
                "photo %s rejected but its files %s were not deleted; "
                "`stations photos prune` will retry",
                photo_id,
                record.digest,
                exc_info=True,
            )
        return record

    def discard(self, digest: str) -> int | None:
        """Delete one photo's files if nothing uses its digest: how many were deleted, or
        ``None`` when something uses it and they stay.

        An upload of the same photo may be recording its row meanwhile (its files are
        written first, and a rewrite of an existing file is skipped): so the renditions are
        read before deleting, and put back if a reference appeared while they went.
        """
        if self.records.referenced([digest]):
            return None
        kept = {}
        for name in RENDITIONS:
            try:
                kept[name] = self.blobs.get(f"{digest}/{name}")
            except NotFound:
                pass
        count = self.blobs.delete_photo(digest)
        if self.records.referenced([digest]):
            for name, data in kept.items():
                self.blobs.put(f"{digest}/{name}", data, RENDITIONS[name])
            return None
        return count

    def prune(self, *, dry_run: bool = False, grace_s: float = PRUNE_GRACE_S) -> PruneResult:
        """Delete the files no photo row or station uses (rejected photos, uploads that
        never got recorded, deletes that failed at rejection), except those written in the
        last ``grace_s`` seconds, whose upload may still be recording them.
        """
        result = PruneResult()
        cutoff = datetime.now(UTC) - timedelta(seconds=grace_s)
        candidates = []
        for digest, written in self.blobs.photos():
            if written > cutoff:
                result.recent += 1
            else:
                candidates.append(digest)
        in_use = self.records.referenced(candidates)
        result.in_use = len(in_use)
        for digest in candidates:
            if digest in in_use:
                continue
            if dry_run:
                result.removed.append(digest)
                continue
            try:
                count = self.discard(digest)
            except Exception:
                _log.warning("could not delete the files of photo %s", digest, exc_info=True)
                result.failed.append(digest)
                continue
            if count is None:
                result.in_use += 1
            else:
                result.removed.append(digest)
                result.files += count
        return result

    def read(self, digest: str, name: str) -> bytes:
        """The stored bytes of one photo variant."""
        from stations.photos.blobs import check_key

        return self.blobs.get(check_key(digest, name))
