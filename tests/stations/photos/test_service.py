"""A rider's photo and its confirmation, and accepting through the station store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert

from stations.errors import NotFound, ValidationFailed
from stations.photos.blobs import FolderBlobStore
from stations.photos.service import PHOTO_WINDOW_S, PhotoService
from stations.store.confirmations import SqlConfirmationStore
from stations.store.photos import SqlPhotoStore
from stations.store.schema import confirmations_table
from stations.store.sql import SqlStationStore
from stations.trust.device import device_hash
from tests.conftest import make_station
from tests.stations.photos.test_process import jpeg_with_gps

DEVICE = "rider-phone-1"


def _service(store: SqlStationStore, tmp_path: Path) -> PhotoService:
    return PhotoService(FolderBlobStore(tmp_path / "photos"), SqlPhotoStore.beside(store), store)


def _said(store: SqlStationStore, station_id: int, ago_s: float, state: str = "closed") -> int:
    """A confirmation ``ago_s`` seconds old from ``DEVICE``, as the trust service stores it."""
    salt = SqlConfirmationStore.beside(store).salt()
    with store.engine.begin() as conn:
        return int(
            conn.execute(
                insert(confirmations_table)
                .values(
                    station_id=station_id,
                    at=datetime.now(UTC) - timedelta(seconds=ago_s),
                    state=state,
                    device_hash=device_hash(salt, DEVICE),
                    onsite=True,
                    distance_m=12.0,
                    scheduled=True,
                )
                .returning(confirmations_table.c.id)
            ).scalar_one()
        )


def test_a_photo_follows_its_confirmation_within_the_hour(
    store: SqlStationStore, tmp_path: Path
) -> None:
    station = store.create(make_station(), actor="t")
    service = _service(store, tmp_path)
    fresh = _said(store, station.id, ago_s=PHOTO_WINDOW_S - 60)
    stale = _said(store, station.id, ago_s=PHOTO_WINDOW_S + 60)
    sent = service.submit(station.id, jpeg_with_gps(), device=DEVICE, confirmation_id=fresh)
    assert sent.confirmation is not None and sent.confirmation.state == "closed"
    with pytest.raises(ValidationFailed) as refused:
        service.submit(station.id, jpeg_with_gps(), device=DEVICE, confirmation_id=stale)
    assert "重新确认" in (refused.value.errors[0].message_zh or "")
    assert [p.id for p in service.records.list(status="pending")] == [sent.id]


def test_an_accept_that_cannot_show_the_photo_leaves_it_pending(
    store: SqlStationStore, tmp_path: Path
) -> None:
    station = store.create(make_station(), actor="t")
    service = _service(store, tmp_path)
    sent = service.submit(station.id, jpeg_with_gps(), device=DEVICE)
    store.delete(station.id, actor="t")
    with pytest.raises(NotFound):
        service.accept(sent.id, reviewer="编辑王芳")
    again = service.records.get(sent.id)
    assert again.status == "pending" and again.reviewed_by is None
