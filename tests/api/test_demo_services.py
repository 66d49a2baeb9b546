"""The demo writes nothing outside its temporary folder: ``stations serve --demo`` is for
trying the service, and the README promises it leaves the configured store alone."""

from __future__ import annotations

from pathlib import Path

from api.services import build_services
from api.settings import Settings
from tests.stations.photos.test_process import jpeg_with_gps


def test_the_demos_photos_and_uploads_stay_in_its_own_folder(tmp_path: Path) -> None:
    configured = tmp_path / "configured"
    settings = Settings(photo_dir=configured / "photos", upload_dir=configured / "uploads")
    services = build_services(settings, demo=True)
    try:
        scratch = services.scratch
        assert scratch is not None and scratch.is_dir()
        photos = services.photos
        assert photos is not None
        record, _station = photos.publish(1, jpeg_with_gps(), actor="demo")
        stored = list((scratch / "photos").rglob("full.jpg"))
        assert [p.parent.name for p in stored] == [record.digest]
        assert services.uploads.root.is_relative_to(scratch)
        assert not configured.exists()  # neither the photo folder nor the upload area
    finally:
        services.close()
    assert not scratch.exists()  # gone with the demo's database


def test_outside_the_demo_the_configured_folders_are_used(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 's.db'}",
        photo_dir=tmp_path / "photos",
        upload_dir=tmp_path / "uploads",
    )
    services = build_services(settings)
    try:
        assert services.scratch is None
        assert services.uploads.root == tmp_path / "uploads"
    finally:
        services.close()
