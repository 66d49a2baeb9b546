"""Uploads end to end: re-encode, store the bytes, record, and (staff) publish on the station."""

from __future__ import annotations

from stations.model import Station
from stations.photos.blobs import BlobStore
from stations.photos.process import RENDITIONS, process_photo
from stations.photos.urls import photo_urls
from stations.store.base import StationStore
from stations.store.photos import PhotoRecord, SqlPhotoStore

__all__ = ["MAX_PHOTOS", "PhotoService", "photo_urls"]  # photo_urls: from stations.photos.urls

#: Photos a station shows; the oldest published one drops off the end.
MAX_PHOTOS = 8


class PhotoService:
    """Built once per process beside the station store."""

    def __init__(self, blobs: BlobStore, records: SqlPhotoStore, stations: StationStore) -> None:
        self.blobs = blobs
        self.records = records
        self.stations = stations

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
        current = self.stations.get(station_id)
        photos = [digest, *(d for d in current.data.photos if d != digest)][:MAX_PHOTOS]
        return self.stations.update(
            station_id, {"photos": photos}, actor=actor, expected_version=current.version
        )

    def submit(self, station_id: int, data: bytes, *, device: str) -> PhotoRecord:
        """A rider's photo: stored, held for review, shown only once staff accept it."""
        self.stations.get(station_id)
        digest, width, height = self._store(data)
        return self.records.add(
            station_id,
            digest,
            width,
            height,
            kind="door",
            status="pending",
            source="rider",
            actor=f"rider:{device[:12]}",
        )

    def accept(self, photo_id: int, *, reviewer: str) -> tuple[PhotoRecord, Station]:
        """Accept a pending photo: it is shown on its station from now on."""
        record = self.records.review(photo_id, "published", reviewer)
        return record, self._show(record.station_id, record.digest, reviewer)

    def reject(self, photo_id: int, *, reviewer: str) -> PhotoRecord:
        """Reject a pending photo: it is never shown."""
        return self.records.review(photo_id, "rejected", reviewer)

    def read(self, digest: str, name: str) -> bytes:
        """The stored bytes of one photo variant."""
        from stations.photos.blobs import check_key

        return self.blobs.get(check_key(digest, name))
