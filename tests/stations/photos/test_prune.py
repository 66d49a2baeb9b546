"""A rejected photo's files go once the rejection is committed, from the folder and from the
bucket (moto's server over HTTP); what a failing store leaves, ``prune`` removes later.

Each test runs on both stores (× SQLite and PostgreSQL through ``store``).
"""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest

from stations.errors import Conflict, NotFound
from stations.photos.blobs import BlobStore, FolderBlobStore, S3BlobStore
from stations.photos.process import RENDITIONS, process_photo
from stations.photos.service import PhotoService
from stations.store.photos import SqlPhotoStore
from stations.store.sql import SqlStationStore
from tests.conftest import make_station
from tests.s3_kit import S3Server
from tests.stations.photos.taps import submit_at_door
from tests.stations.photos.test_blob_stores import Opener, opener  # noqa: F401 - a fixture
from tests.stations.photos.test_process import jpeg_with_gps

#: A file of an older version's rendition, which the delete must take too.
LEGACY = "legacy.png"


def _service(blobs: BlobStore, store: SqlStationStore) -> PhotoService:
    return PhotoService(blobs, SqlPhotoStore.beside(store), store)


def _files(blobs: BlobStore, digest: str) -> list[str]:
    """The renditions of ``digest`` the store still has."""
    found = []
    for name in [*RENDITIONS, LEGACY]:
        try:
            blobs.get(f"{digest}/{name}")
            found.append(name)
        except NotFound:
            pass
    return found


def _pending(service: PhotoService, store: SqlStationStore, device: str = "phone-1") -> int:
    station = store.create(make_station(), actor="t")
    record = submit_at_door(service, store, station.id, jpeg_with_gps(), device)
    service.blobs.put(f"{record.digest}/{LEGACY}", b"an older rendition", "image/png")
    return record.id


def _unreachable(kind: str, tmp_path: Path, s3: S3Server | None) -> BlobStore:
    """The store of a host that cannot reach the photos: a folder that is not mounted (a
    plain file stands where it should be), or an S3 endpoint where nothing listens."""
    if kind == "folder":
        (tmp_path / "not-mounted").write_bytes(b"")
        return FolderBlobStore(tmp_path / "not-mounted")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return S3BlobStore(
        "photos", endpoint_url=f"http://127.0.0.1:{port}", access_key="k", secret_key="s"
    )


def test_a_rejected_photo_loses_every_file(opener: Opener, store: SqlStationStore) -> None:  # noqa: F811
    service = _service(opener(), store)
    photo_id = _pending(service, store)
    digest = service.records.get(photo_id).digest
    assert _files(opener(), digest) == [*RENDITIONS, LEGACY]
    assert service.reject(photo_id, reviewer="编辑王芳").status == "rejected"
    assert _files(opener(), digest) == []
    assert service.records.get(photo_id).status == "rejected"  # the record stays


def test_files_another_photo_row_uses_stay(opener: Opener, store: SqlStationStore) -> None:  # noqa: F811
    service = _service(opener(), store)
    first = _pending(service, store, "phone-1")
    second = _pending(service, store, "phone-2")  # the same picture, from another phone
    digest = service.records.get(first).digest
    service.reject(first, reviewer="编辑王芳")
    assert _files(opener(), digest) == [*RENDITIONS, LEGACY]  # still pending as `second`
    service.reject(second, reviewer="编辑王芳")
    assert _files(opener(), digest) == []


def test_files_a_station_shows_stay(opener: Opener, store: SqlStationStore) -> None:  # noqa: F811
    service = _service(opener(), store)
    photo_id = _pending(service, store)
    digest = service.records.get(photo_id).digest
    other = store.create(make_station(name="另一站"), actor="t")
    store.update(other.id, {"photos": [digest]}, actor="编辑", expected_version=other.version)
    service.reject(photo_id, reviewer="编辑王芳")
    assert _files(opener(), digest) == [*RENDITIONS, LEGACY]


def test_a_refused_review_deletes_nothing(opener: Opener, store: SqlStationStore) -> None:  # noqa: F811
    service = _service(opener(), store)
    photo_id = _pending(service, store)
    digest = service.records.get(photo_id).digest
    service.accept(photo_id, reviewer="编辑王芳")
    with pytest.raises(Conflict):
        service.reject(photo_id, reviewer="编辑李强")  # not pending: its transaction fails
    assert _files(opener(), digest) == [*RENDITIONS, LEGACY]


@pytest.mark.parametrize("kind", ["folder", "s3"])
def test_a_failed_delete_is_logged_and_the_prune_retries(
    kind: str,
    store: SqlStationStore,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    caplog: pytest.LogCaptureFixture,
) -> None:
    if kind == "folder":
        good: BlobStore = FolderBlobStore(tmp_path / "photos")
        server = None
    else:
        server = request.getfixturevalue("s3_server")
        settings = server.settings(server.new_bucket())
        good = S3BlobStore(
            settings["photo_s3_bucket"],
            endpoint_url=settings["photo_s3_endpoint"],
            region=settings["photo_s3_region"],
            access_key=settings["photo_s3_access_key"],
            secret_key=settings["photo_s3_secret_key"],
        )
    photo_id = _pending(_service(good, store), store)
    digest = SqlPhotoStore.beside(store).get(photo_id).digest
    broken = _service(_unreachable(kind, tmp_path, server), store)
    with caplog.at_level(logging.WARNING, logger="stations.photos.service"):
        assert broken.reject(photo_id, reviewer="编辑王芳").status == "rejected"
    assert f"photo {photo_id} rejected but its files {digest} were not deleted" in caplog.text
    assert _files(good, digest) == [*RENDITIONS, LEGACY]

    service = _service(good, store)
    assert service.prune().removed == []  # written just now: the grace keeps them
    assert service.prune(dry_run=True, grace_s=0).removed == [digest]
    assert _files(good, digest) == [*RENDITIONS, LEGACY]  # a dry run deletes nothing
    result = service.prune(grace_s=0)
    assert (result.removed, result.files, result.failed) == ([digest], 5, [])
    assert _files(good, digest) == []
    assert service.prune(grace_s=0).removed == []  # twice is harmless


def test_prune_keeps_what_is_used_and_takes_unrecorded_uploads(
    opener: Opener,  # noqa: F811
    store: SqlStationStore,
) -> None:
    service = _service(opener(), store)
    station = store.create(make_station(), actor="t")
    shown, _ = service.publish(station.id, jpeg_with_gps((640, 480)), actor="编辑")
    held = submit_at_door(service, store, station.id, jpeg_with_gps((600, 400)), "phone-1")
    # An upload whose row was never written (the process died between the two).
    orphan = process_photo(jpeg_with_gps((500, 500)))
    for name, data in orphan.files.items():
        service.blobs.put(f"{orphan.digest}/{name}", data, RENDITIONS[name])
    result = service.prune(grace_s=0)
    assert (result.removed, result.in_use, result.failed) == ([orphan.digest], 2, [])
    assert _files(opener(), orphan.digest) == []
    assert _files(opener(), shown.digest) == list(RENDITIONS)
    assert _files(opener(), held.digest) == list(RENDITIONS)
