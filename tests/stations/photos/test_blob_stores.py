"""One contract for both photo stores: the content-addressed folder and an S3-compatible
bucket (moto's server over HTTP, see ``tests/s3_kit.py``).

Each test runs on both; a second store opened on the same folder or bucket stands for a
second host, which must read what the first wrote.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from stations.errors import ConfigurationError, Conflict, NotFound
from stations.photos.blobs import BlobStore, FolderBlobStore, S3BlobStore, check_key
from stations.photos.process import process_photo
from stations.photos.service import PhotoService
from stations.store.photos import SqlPhotoStore
from stations.store.sql import SqlStationStore
from tests.conftest import make_station
from tests.s3_kit import S3Server
from tests.stations.photos.taps import submit_at_door
from tests.stations.photos.test_process import jpeg_with_gps

KEY = check_key("ab" * 32, "thumb.jpg")

#: A factory of stores that all share one place: call it twice for "two hosts".
Opener = Callable[[], BlobStore]


@pytest.fixture(params=["folder", "s3"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Opener:
    if request.param == "folder":
        return lambda: FolderBlobStore(tmp_path / "photos")
    server: S3Server = request.getfixturevalue("s3_server")
    bucket = server.new_bucket()
    settings = server.settings(bucket)
    return lambda: S3BlobStore(
        bucket,
        endpoint_url=settings["photo_s3_endpoint"],
        region=settings["photo_s3_region"],
        access_key=settings["photo_s3_access_key"],
        secret_key=settings["photo_s3_secret_key"],
    )


def test_bytes_come_back_as_written_on_another_host(opener: Opener) -> None:
    first, second = opener(), opener()
    first.put(KEY, b"\xff\xd8 a door", "image/jpeg")
    assert second.get(KEY) == b"\xff\xd8 a door"


def test_a_missing_photo_is_not_found(opener: Opener) -> None:
    with pytest.raises(NotFound):
        opener().get(check_key("cd" * 32, "full.webp"))


def test_writing_a_key_again_is_harmless(opener: Opener) -> None:
    store = opener()
    store.put(KEY, b"same bytes", "image/jpeg")
    store.put(KEY, b"same bytes", "image/jpeg")
    assert store.get(KEY) == b"same bytes"


def test_keys_cannot_leave_the_store() -> None:
    for digest, name in [("../" * 3, "full.jpg"), ("ab" * 32, "../x"), ("AB" * 32, "full.jpg")]:
        with pytest.raises(NotFound):
            check_key(digest, name)


def test_every_rendition_is_stored_and_read_back(opener: Opener, store: SqlStationStore) -> None:
    station = store.create(make_station(), actor="t")
    service = PhotoService(opener(), SqlPhotoStore.beside(store), store)
    record, shown = service.publish(station.id, jpeg_with_gps(), actor="编辑王芳")
    assert list(shown.data.photos) == [record.digest]
    other_host = PhotoService(opener(), SqlPhotoStore.beside(store), store)
    expected = process_photo(jpeg_with_gps()).files
    for name, data in expected.items():
        assert other_host.read(record.digest, name) == data, name
    assert not Image.open(io.BytesIO(other_host.read(record.digest, "full.jpg"))).getexif()


def test_a_riders_photo_is_reviewed_through_the_store(
    opener: Opener, store: SqlStationStore
) -> None:
    station = store.create(make_station(), actor="t")
    service = PhotoService(opener(), SqlPhotoStore.beside(store), store)
    kept = submit_at_door(service, store, station.id, jpeg_with_gps(), "rider-phone-1")
    refused = submit_at_door(service, store, station.id, jpeg_with_gps((320, 240)), "rider-phone-2")
    assert not store.get(station.id).data.photos
    assert service.read(kept.digest, "thumb.webp")  # stored before review, shown after
    accepted, after = service.accept(kept.id, reviewer="编辑王芳")
    assert accepted.status == "published" and list(after.data.photos) == [kept.digest]
    assert store.history(station.id)[-1].actor == "编辑王芳"
    assert service.reject(refused.id, reviewer="编辑王芳").status == "rejected"
    assert list(store.get(station.id).data.photos) == [kept.digest]
    with pytest.raises(Conflict):
        service.accept(refused.id, reviewer="编辑王芳")  # a rejected photo stays rejected


def test_a_missing_bucket_is_a_configuration_error(s3_server: S3Server) -> None:
    settings = s3_server.settings("no-such-bucket")
    blobs = S3BlobStore(
        "no-such-bucket",
        endpoint_url=settings["photo_s3_endpoint"],
        access_key=settings["photo_s3_access_key"],
        secret_key=settings["photo_s3_secret_key"],
    )
    with pytest.raises(ConfigurationError, match="no-such-bucket"):
        blobs.put(KEY, b"x", "image/jpeg")
    with pytest.raises(ConfigurationError, match="no-such-bucket"):
        blobs.get(KEY)
