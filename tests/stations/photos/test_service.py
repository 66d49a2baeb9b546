"""A rider's photo and its confirmation, and accepting through the station store."""

from __future__ import annotations

from pathlib import Path

import pytest

from stations.errors import NotFound, ValidationFailed
from stations.photos.blobs import FolderBlobStore
from stations.photos.service import PHOTO_WINDOW_S, PhotoService
from stations.store.photos import SqlPhotoStore
from stations.store.sql import SqlStationStore
from tests.conftest import make_station
from tests.stations.photos.taps import DEVICE, submit_at_door, tap
from tests.stations.photos.test_process import jpeg_with_gps


def _service(store: SqlStationStore, tmp_path: Path) -> PhotoService:
    return PhotoService(FolderBlobStore(tmp_path / "photos"), SqlPhotoStore.beside(store), store)


def test_a_photo_follows_its_confirmation_within_the_hour(
    store: SqlStationStore, tmp_path: Path
) -> None:
    station = store.create(make_station(), actor="t")
    service = _service(store, tmp_path)
    fresh = tap(store, station.id, ago_s=PHOTO_WINDOW_S - 60)
    stale = tap(store, station.id, ago_s=PHOTO_WINDOW_S + 60)
    sent = service.submit(station.id, jpeg_with_gps(), device=DEVICE, confirmation_id=fresh)
    assert sent.confirmation is not None and sent.confirmation.state == "closed"
    with pytest.raises(ValidationFailed) as refused:
        service.submit(station.id, jpeg_with_gps(), device=DEVICE, confirmation_id=stale)
    assert "重新确认" in (refused.value.errors[0].message_zh or "")
    assert [p.id for p in service.records.list(status="pending")] == [sent.id]


def test_a_photo_goes_only_with_a_tap_at_the_door(store: SqlStationStore, tmp_path: Path) -> None:
    """A tap counted as remote (5 km away) takes no door photo; nothing is stored for it."""
    station = store.create(make_station(), actor="t")
    service = _service(store, tmp_path)
    far = tap(store, station.id, onsite=False)
    with pytest.raises(ValidationFailed) as refused:
        service.submit(station.id, jpeg_with_gps(), device=DEVICE, confirmation_id=far)
    error = refused.value.errors[0]
    assert error.field == "confirmation_id" and "我在这里" in (error.message_zh or "")
    assert service.records.list(status="pending") == []
    assert not (tmp_path / "photos").exists() or not any((tmp_path / "photos").rglob("*.jpg"))


def test_an_accept_that_cannot_show_the_photo_leaves_it_pending(
    store: SqlStationStore, tmp_path: Path
) -> None:
    station = store.create(make_station(), actor="t")
    service = _service(store, tmp_path)
    sent = submit_at_door(service, store, station.id, jpeg_with_gps(), DEVICE)
    store.delete(station.id, actor="t")
    with pytest.raises(NotFound):
        service.accept(sent.id, reviewer="编辑王芳")
    again = service.records.get(sent.id)
    assert again.status == "pending" and again.reviewed_by is None
