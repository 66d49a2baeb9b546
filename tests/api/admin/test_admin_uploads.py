"""The console's upload area: files wait between preview and confirmation, for their owner only,
are imported at most once, and go away when stale."""

from __future__ import annotations

import io
import os
import stat
import time
from pathlib import Path

import pytest

from api.admin.uploads import Upload, UploadArea
from stations.errors import NotFound, ValidationFailed


def _save(
    area: UploadArea,
    owner: str = "me",
    name: str = "驿站 表(1).csv",
    data: bytes = b"name,lon,lat\n",
    limit: int = 1000,
) -> Upload:
    return area.save(owner, name, io.BytesIO(data), crs="gcj02", limit=limit)


def test_saved_files_are_private_named_safely_and_found_by_their_owner(tmp_path: Path) -> None:
    area = UploadArea(tmp_path / "up")
    up = area.save(
        "me", "../../etc/驿站 表(1).csv", io.BytesIO(b"name,lon,lat\n"), crs="gcj02", limit=1000
    )
    assert up.path.parent.parent == tmp_path / "up"
    assert up.path.name == "驿站_表_1.csv" and up.path.read_bytes() == b"name,lon,lat\n"
    assert up.name == "驿站 表(1).csv" and up.crs == "gcj02"
    assert stat.S_IMODE(os.stat(tmp_path / "up").st_mode) == 0o700
    assert area.get(up.token, "me").path == up.path
    with pytest.raises(NotFound):
        area.get(up.token, "someone else")
    for token in ("", "../up", "x" * 24 + "/..", up.token[:-1]):
        with pytest.raises(NotFound):
            area.get(token, "me")


def test_a_claim_succeeds_once_and_release_gives_it_back(tmp_path: Path) -> None:
    area = UploadArea(tmp_path)
    up = _save(area)
    claimed = area.claim(up.token, "me")
    with pytest.raises(NotFound):
        area.claim(up.token, "me")
    assert area.claimed(up.token, "me").path == claimed.path
    area.release(claimed)
    assert area.claim(up.token, "me").token == claimed.token


@pytest.mark.parametrize(
    ("name", "data", "limit", "reason"),
    [
        ("sheet.txt", b"x", 1000, "不支持的文件类型"),
        ("sheet", b"x", 1000, "不支持的文件类型"),
        ("sheet.csv", b"", 1000, "文件是空的"),
        ("sheet.xlsx", b"x" * 1001, 1000, "文件超过"),
    ],
)
def test_refused_files_leave_nothing_behind(
    tmp_path: Path, name: str, data: bytes, limit: int, reason: str
) -> None:
    area = UploadArea(tmp_path / "up")
    with pytest.raises(ValidationFailed) as caught:
        _save(area, name=name, data=data, limit=limit)
    assert caught.value.errors[0].field == "file"
    assert reason in (caught.value.errors[0].message_zh or "")
    assert not (tmp_path / "up").exists() or list((tmp_path / "up").iterdir()) == []


def test_stale_uploads_expire_and_are_swept(tmp_path: Path) -> None:
    area = UploadArea(tmp_path, ttl_s=60)
    old = _save(area)
    folder = tmp_path / old.token
    past = time.time() - 120
    os.utime(folder, (past, past))
    fresh = _save(area)  # saving sweeps the stale ones
    assert not folder.exists()
    assert area.get(fresh.token, "me")
    expired = UploadArea(tmp_path, ttl_s=0)
    with pytest.raises(NotFound):
        expired.get(fresh.token, "me")
