"""Station photos: staff upload (shown at once), riders' photos held for review, and the
served renditions at ``/photos/<digest>/<name>`` (immutable: the name is the content's hash)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Header, Path, Response, UploadFile
from starlette.concurrency import run_in_threadpool

from api.auth import EditorDep
from api.deps import CatalogDep, ServicesDep
from api.rest.confirmations import _limit
from stations.errors import ConfigurationError
from stations.photos.process import MAX_BYTES, RENDITIONS
from stations.photos.service import PhotoService, photo_urls
from stations.store.photos import PhotoConfirmation, PhotoRecord
from stations.trust.device import DEVICE_HEADER, check_device_id
from stations.trust.rules import STATES

__all__ = ["router"]

router = APIRouter(tags=["photos"])
StationId = Annotated[int, Path(ge=1, le=2**62)]
# Photo ids are the photos table's INTEGER key on PostgreSQL: a larger one can name no photo.
PhotoId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Upload = Annotated[UploadFile, File(description="A JPEG, PNG or WebP photo (≤ 15 MB)")]
ConfirmationId = Annotated[
    int | None,
    Form(
        ge=1,
        le=2**62,
        description="The `id` the rider's `POST …/confirmations` answered with: ties the photo "
        "to that confirmation (same station and device, within an hour; one photo each), "
        "and the review shows what the rider said beside it. Optional.",
    ),
]


def _service(svc: Any) -> PhotoService:
    photos = getattr(svc, "photos", None)
    if photos is None:
        raise ConfigurationError("photos need the photo service")
    return photos


async def _bytes(file: UploadFile) -> bytes:
    return await file.read(MAX_BYTES + 1)  # one byte over: process_photo says "too large"


def _confirmation(c: PhotoConfirmation | None) -> dict[str, Any] | None:
    if c is None:
        return None
    return {
        "id": c.id,
        "state": c.state,
        "state_zh": STATES.get(c.state, c.state),
        "amenity": c.amenity,
        "onsite": c.onsite,
        "at": c.at.isoformat(),
    }


def _out(record: PhotoRecord, version: int | None = None) -> dict[str, Any]:
    return {
        "id": record.id,
        "station_id": record.station_id,
        "digest": record.digest,
        "width": record.width,
        "height": record.height,
        "status": record.status,
        "source": record.source,
        "urls": photo_urls(record.digest),
        "station_version": version,
        "confirmation": _confirmation(record.confirmation),
        "reviewed_by": record.reviewed_by,
    }


@router.post(
    "/api/v1/stations/{station_id}/photos",
    status_code=201,
    summary="Upload a station photo (editor): re-encoded, EXIF/GPS removed, shown first",
)
async def upload_photo(
    station_id: StationId, file: Upload, user: EditorDep, svc: ServicesDep, catalog: CatalogDep
) -> Any:
    data = await _bytes(file)
    # Off the event loop: re-encoding takes a CPU second and a bucket is a network call away.
    record, station = await run_in_threadpool(
        _service(svc).publish, station_id, data, actor=user.name
    )
    catalog.refresh()
    return _out(record, station.version)


@router.post(
    "/api/v1/stations/{station_id}/photos/rider",
    status_code=202,
    dependencies=[Depends(_limit)],
    summary="A rider's photo of the door (anonymous): held until staff accept it",
    responses={409: {"description": "That confirmation already has its photo"}},
)
async def rider_photo(
    station_id: StationId,
    file: Upload,
    svc: ServicesDep,
    device_id: Annotated[str | None, Header(alias=DEVICE_HEADER)] = None,
    confirmation_id: ConfirmationId = None,
) -> Any:
    device = check_device_id(device_id)
    service = _service(svc)
    data = await _bytes(file)
    record = await run_in_threadpool(
        service.submit, station_id, data, device=device, confirmation_id=confirmation_id
    )
    body = _out(record)
    body["message_zh"] = "谢谢！照片将在工作人员审核后显示。"
    return body


@router.get("/api/v1/photos", summary="Photos by review status (editor)")
def list_photos(_user: EditorDep, svc: ServicesDep, status: str = "pending") -> Any:
    return {"photos": [_out(r) for r in _service(svc).records.list(status=status)]}


@router.post("/api/v1/photos/{photo_id}/accept", summary="Show a rider's photo (editor)")
def accept_photo(photo_id: PhotoId, user: EditorDep, svc: ServicesDep, catalog: CatalogDep) -> Any:
    record, station = _service(svc).accept(photo_id, reviewer=user.name)
    catalog.refresh()
    return _out(record, station.version)


@router.post("/api/v1/photos/{photo_id}/reject", summary="Refuse a rider's photo (editor)")
def reject_photo(photo_id: PhotoId, user: EditorDep, svc: ServicesDep) -> Any:
    return _out(_service(svc).reject(photo_id, reviewer=user.name))


@router.get(
    "/photos/{digest}/{name}",
    response_class=Response,
    summary="A photo rendition (full.jpg, full.webp, thumb.jpg, thumb.webp)",
)
def photo_file(digest: str, name: str, svc: ServicesDep) -> Response:
    data = _service(svc).read(digest, name)
    return Response(
        data,
        media_type=RENDITIONS[name],
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )
