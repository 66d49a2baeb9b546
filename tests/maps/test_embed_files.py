"""WeChat's domain check files at the site root: served from the folder, nothing else is."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from stations.store.sql import SqlStationStore


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp_path = tmp_path_factory.mktemp("files")
    root = tmp_path / "verify"
    root.mkdir()
    (root / "MP_verify_AbC123xyz.txt").write_text("AbC123xyz")
    (root / "8fK2pQ7sLm.txt").write_text("6b4e1c0d2a9f8e7d")  # a Mini Program check file
    (root / "notes.md").write_text("not served")
    (root / "sub").mkdir()
    (root / "sub" / "inner.txt").write_text("not served")
    (root / ".hidden.txt").write_text("not served")
    (root / "huge.txt").write_bytes(b"x" * 100_000)
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    os.symlink(secret, root / "link.txt")
    return root


@pytest.fixture(scope="module")
def client(folder: Path, module_store_url: str) -> Iterator[TestClient]:
    store = SqlStationStore(module_store_url)
    with TestClient(create_app(Settings(verification_dir=folder), store=store)) as c:
        yield c
    store.close()


def test_check_files_are_served_as_plain_text(client: TestClient) -> None:
    r = client.get("/MP_verify_AbC123xyz.txt")
    assert r.status_code == 200 and r.text == "AbC123xyz"
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert r.headers["cache-control"] == "no-cache"
    mini = client.get("/8fK2pQ7sLm.txt")
    assert mini.status_code == 200 and mini.text == "6b4e1c0d2a9f8e7d"


@pytest.mark.parametrize(
    "path",
    [
        "/MP_verify_missing.txt",
        "/notes.md",
        "/notes.txt",
        "/sub/inner.txt",
        "/sub%2Finner.txt",
        "/.hidden.txt",
        "/link.txt",  # a symlink out of the folder
        "/..%2Fsecret.txt",
        "/%2E%2E%2Fsecret.txt",
        "/huge.txt",
    ],
)
def test_nothing_else_leaves_the_folder(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 404, path
    assert "top secret" not in r.text


def test_no_folder_configured_serves_nothing(store_url: str) -> None:
    store = SqlStationStore(store_url)
    with TestClient(create_app(Settings(), store=store)) as c:
        r = c.get("/MP_verify_AbC123xyz.txt")
    store.close()
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
