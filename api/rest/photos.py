"""Station photos: staff upload (shown at once), riders' photos held for review, and the
served renditions at ``/photos/<digest>/<name>`` (immutable: the name is the content's hash;
a photo not yet accepted is served to staff only)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Header, Path, Request, Response, UploadFile
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api.auth import EditorDep, _principal
from api.deps import CatalogDep, ServicesDep
from api.rest.confirmations import DEVICE_PARAMETER, _limit
from api.rest.station_input import parse_if_match
from api.rest.stations import IfMatch
from stations.errors import ConfigurationError, NotFound, Unauthorized
from stations.i18n import Message
from stations.photos.blobs import check_key
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
    int,
    Form(
        ge=1,
        le=2**62,
        description="The `id` the rider's `POST …/confirmations` answered with, at the door: "
        "the photo goes with that confirmation (same station and device, on site, within an "
        "hour; one photo each), and the review shows what the rider said beside it.",
    ),
]


def _service(svc: Any) -> PhotoService:
    photos = getattr(svc, "photos", None)
    if photos is None:
        raise ConfigurationError("photos need the photo service")
    return photos


async def _bytes(file: UploadFile) -> bytes:
    return await file.read(MAX_BYTES + 1)  # one byte over: process_photo says "too large"


class PhotoUrls(BaseModel):
    url: str = Field(description="The photo, JPEG, long side ≤ 2048 px")
    webp: str = Field(description="The same in WebP")
    thumb: str = Field(description="The card's thumbnail, JPEG (≤ 24 KB)")
    thumb_webp: str = Field(description="The card's thumbnail, WebP (≤ 24 KB)")


class PhotoConfirmationOut(BaseModel):
    """What the rider said at the door when they sent the photo."""

    id: int
    state: Literal["open", "closed", "locked", "broken"]
    state_zh: str = Field(description="开着 / 关着 / 进不去 / 设施坏了")
    amenity: str | None = Field(description="With `broken`: which amenity")
    onsite: bool = Field(description="Sent within the on-site distance of the station")
    at: str = Field(description="When, ISO 8601")


class PhotoOut(BaseModel):
    """One photo and its review state."""

    id: int
    station_id: int
    digest: str = Field(description="SHA-256 of the JPEG: the photo's name in every URL")
    width: int
    height: int
    status: Literal["published", "pending", "rejected"]
    source: Literal["staff", "rider"]
    urls: PhotoUrls
    station_version: int | None = Field(
        description="The station's version after the photo was shown on it (else null)"
    )
    confirmation: PhotoConfirmationOut | None = Field(
        description="The rider's confirmation the photo came with (null: sent without one)"
    )
    reviewed_by: str | None
    message_zh: str | None = Field(None, description="Words for the rider (rider uploads)")


class PhotoList(BaseModel):
    photos: list[PhotoOut]


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
    response_model=PhotoOut,
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


class PhotosLeft(BaseModel):
    station_id: int
    station_version: int = Field(description="The station's version without the photo")
    photos: list[PhotoUrls] = Field(description="The photos it still shows, first first")


@router.delete(
    "/api/v1/stations/{station_id}/photos/{digest}",
    response_model=PhotosLeft,
    summary="Take a photo off a station (editor): a new version, in its history",
    description="`If-Match` (optional) names the version edited: a stale one is a 412 and "
    "nothing changes. Restoring an earlier version brings the photo back.",
)
def remove_photo(
    station_id: StationId,
    digest: Annotated[str, Path(pattern="^[0-9a-f]{64}$", description="The photo's digest")],
    user: EditorDep,
    svc: ServicesDep,
    catalog: CatalogDep,
    if_match: IfMatch = None,
) -> Any:
    station = _service(svc).remove(
        station_id, digest, actor=user.name, expected_version=parse_if_match(if_match)
    )
    catalog.refresh()
    return {
        "station_id": station.id,
        "station_version": station.version,
        "photos": [photo_urls(d) for d in station.data.photos],
    }


@router.post(
    "/api/v1/stations/{station_id}/photos/rider",
    status_code=202,
    response_model=PhotoOut,
    dependencies=[Depends(_limit)],
    summary="A rider's photo of the door (anonymous): held until staff accept it",
    responses={409: {"description": "That confirmation already has its photo"}},
    openapi_extra={"parameters": [DEVICE_PARAMETER]},
)
async def rider_photo(
    station_id: StationId,
    file: Upload,
    svc: ServicesDep,
    confirmation_id: ConfirmationId,
    device_id: Annotated[
        str | None, Header(alias=DEVICE_HEADER, include_in_schema=False)
    ] = None,  # published as required by DEVICE_PARAMETER; checked below, with guidance
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


@router.get(
    "/api/v1/photos",
    response_model=PhotoList,
    summary="Photos by review status (editor), oldest first, each with its confirmation",
)
def list_photos(_user: EditorDep, svc: ServicesDep, status: str = "pending") -> Any:
    return {"photos": [_out(r) for r in _service(svc).records.list(status=status)]}


@router.post(
    "/api/v1/photos/{photo_id}/accept",
    response_model=PhotoOut,
    summary="Show a rider's photo (editor): first on its station, in the station's history",
    responses={409: {"description": "The photo is not pending review"}},
)
def accept_photo(photo_id: PhotoId, user: EditorDep, svc: ServicesDep, catalog: CatalogDep) -> Any:
    record, station = _service(svc).accept(photo_id, reviewer=user.name)
    catalog.refresh()
    return _out(record, station.version)


@router.post(
    "/api/v1/photos/{photo_id}/reject",
    response_model=PhotoOut,
    summary="Refuse a rider's photo (editor): never shown; the station is unchanged",
    responses={409: {"description": "The photo is not pending review"}},
)
def reject_photo(photo_id: PhotoId, user: EditorDep, svc: ServicesDep) -> Any:
    return _out(_service(svc).reject(photo_id, reviewer=user.name))


@router.get(
    "/photos/{digest}/{name}",
    response_class=Response,
    summary="A photo rendition (full.jpg, full.webp, thumb.jpg, thumb.webp)",
)
def photo_file(digest: str, name: str, request: Request, svc: ServicesDep) -> Response:
    """Shown photos to everyone, cached for a year; photos held for review (or refused) only
    to staff, never cached, and to anyone else as if they did not exist."""
    service = _service(svc)
    check_key(digest, name)
    public = service.records.is_published(digest)
    if not public and not _is_staff(request, svc):
        raise NotFound(Message("no photo {name}", name=f"{digest[:16]}/{name}"))
    cache = "public, max-age=31536000, immutable" if public else "private, no-store"
    return Response(
        service.read(digest, name), media_type=RENDITIONS[name], headers={"Cache-Control": cache}
    )


def _is_staff(request: Request, svc: Any) -> bool:
    """Whether the caller is an editor (console session or bearer token); a stale session or
    a bad token is simply not staff here, as an image request cannot log in again."""
    try:
        found = _principal(request, svc.accounts, None, None)
    except Unauthorized:
        return False
    return found is not None and found.user.can("editor")
