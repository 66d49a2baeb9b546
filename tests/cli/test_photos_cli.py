"""``stations photos prune``: lists with ``--dry-run``, deletes without, keeps what is used."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli import main
from stations.photos.blobs import FolderBlobStore
from stations.photos.process import RENDITIONS, process_photo
from stations.store.photos import SqlPhotoStore
from stations.store.sql import SqlStationStore
from tests.conftest import make_station
from tests.stations.photos.test_process import jpeg_with_gps


def _stored(blobs: FolderBlobStore, size: tuple[int, int]) -> str:
    processed = process_photo(jpeg_with_gps(size))
    for name, data in processed.files.items():
        blobs.put(f"{processed.digest}/{name}", data, RENDITIONS[name])
    return processed.digest


@pytest.fixture
def photos(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("STATIONS_DATABASE_URL", store_url)
    monkeypatch.setenv("STATIONS_PHOTO_DIR", str(tmp_path / "photos"))
    return tmp_path / "photos"


def test_prune_lists_then_deletes_only_the_unused(photos: Path, store_url: str, capsys) -> None:
    store = SqlStationStore(store_url)
    station = store.create(make_station(), actor="t")
    records, blobs = SqlPhotoStore.beside(store), FolderBlobStore(photos)
    kept, rejected = _stored(blobs, (640, 480)), _stored(blobs, (600, 400))
    for digest, status in ((kept, "pending"), (rejected, "rejected")):
        records.add(station.id, digest, 1, 1, kind="door", status=status, source="rider", actor="r")
    store.close()

    main(["photos", "prune", "--dry-run", "--grace", "0"])
    out = capsys.readouterr()
    assert out.out.split() == [rejected]
    assert "将删除 would delete 1 张照片" in out.err
    assert sorted(p.name for p in (photos / rejected[:2] / rejected).iterdir()) == sorted(
        RENDITIONS
    )

    main(["photos", "prune"])  # the default grace keeps files written just now
    assert "已删除 deleted 0 张照片" in capsys.readouterr().err

    main(["photos", "prune", "--grace", "0", "--json"])
    result = json.loads(capsys.readouterr().out)
    assert (result["removed"], result["files"], result["in_use"]) == ([rejected], 4, 1)
    assert not (photos / rejected[:2] / rejected).exists()
    assert (photos / kept[:2] / kept / "thumb.webp").is_file()


def test_prune_help_reads_chinese_first(capsys) -> None:
    main(["photos", "prune", "--help"])  # exits 0, which ``main`` swallows
    assert "删除无人使用的照片文件" in capsys.readouterr().out
