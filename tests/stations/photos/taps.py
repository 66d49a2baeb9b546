"""A rider's 我在这里 tap, written as the trust service stores it: what a rider's photo goes
with (``PhotoService.submit`` takes the tap's id)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from stations.photos.service import PhotoService
from stations.store.confirmations import SqlConfirmationStore
from stations.store.photos import PhotoRecord
from stations.store.schema import confirmations_table
from stations.store.sql import SqlStationStore
from stations.trust.device import device_hash

DEVICE = "rider-phone-1"


def tap(
    store: SqlStationStore,
    station_id: int,
    *,
    device: str = DEVICE,
    ago_s: float = 0.0,
    state: str = "closed",
    onsite: bool = True,
) -> int:
    """A confirmation ``ago_s`` seconds old from ``device``; its id."""
    salt = SqlConfirmationStore.beside(store).salt()
    with store.engine.begin() as conn:
        return int(
            conn.execute(
                insert(confirmations_table)
                .values(
                    station_id=station_id,
                    at=datetime.now(UTC) - timedelta(seconds=ago_s),
                    state=state,
                    device_hash=device_hash(salt, device),
                    onsite=onsite,
                    distance_m=12.0 if onsite else 5_000.0,
                    scheduled=True,
                )
                .returning(confirmations_table.c.id)
            ).scalar_one()
        )


def submit_at_door(
    service: PhotoService, store: SqlStationStore, station_id: int, data: bytes, device: str
) -> PhotoRecord:
    """A rider's photo sent right after their tap at the door, as the page sends it."""
    said = tap(store, station_id, device=device)
    return service.submit(station_id, data, device=device, confirmation_id=said)
