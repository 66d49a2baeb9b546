"""Uploaded import files, kept between the preview and the confirmation.

An upload is planned (validated and matched, nothing written) as soon as it arrives; the
clerk reads the preview and confirms, and only then is the same file imported. Between the
two the file waits on disk under a random token, bound to the console session that uploaded
it, in a folder only this service's user can read. The folder is on disk rather than in
memory so that any worker process of the host can take the confirmation; uploads older than
``ttl`` are swept away.

A confirmation *claims* the upload by renaming its metadata file — atomic on one file
system — so a double click or two tabs confirming at once import it only once.
"""

from __future__ import annotations

import hmac
import json
import os
import re
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from stations.errors import FieldError, NotFound, ValidationFailed
from stations.i18n import N_, Message
from stations.io.rejects import reject_path_for

__all__ = ["ALLOWED_SUFFIXES", "Upload", "UploadArea", "default_upload_root"]

#: What the console imports: the clerks' spreadsheets (and GeoJSON exports from QGIS).
ALLOWED_SUFFIXES = (".csv", ".xlsx", ".geojson", ".gpkg")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{24}")
_UNSAFE = re.compile(r"[^\w\-]+")
_CHUNK = 1 << 20
_META = "upload.json"
_CLAIMED = "claimed.json"


def default_upload_root() -> Path:
    """``<user cache dir>/warm-stations/imports``: private to the service's user."""
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("warm-stations")) / "imports"


@dataclass(frozen=True)
class Upload:
    """One uploaded file: where it is, what it was called, and the CRS the clerk chose."""

    token: str
    path: Path
    name: str
    crs: str
    owner: str
    created_at: float

    @property
    def reject_path(self) -> Path:
        """Where ``run_import(skip_invalid=True)`` saves the rows it skipped."""
        return reject_path_for(self.path)


def _bad_file(msgid: str, value: str | None = None, **params: Any) -> ValidationFailed:
    return ValidationFailed([FieldError.from_catalog("file", msgid, value, **params)])


class UploadArea:
    """A folder of pending uploads, one sub-folder per token."""

    def __init__(self, root: Path, *, ttl_s: float = 3600.0) -> None:
        self.root = Path(root)
        self.ttl_s = ttl_s

    def _ensure_root(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.root, 0o700)

    def save(self, owner: str, name: str, source: BinaryIO, *, crs: str, limit: int) -> Upload:
        """Copy ``source`` (at most ``limit`` bytes) into a new token's folder.

        Raises ``ValidationFailed`` (field ``file``) for a type the importer does not read,
        an empty file, or one over the limit — leaving nothing behind.
        """
        base = Path(name or "").name
        suffix = Path(base).suffix.lower()
        if suffix not in ALLOWED_SUFFIXES:
            raise _bad_file(
                N_("unsupported file type {suffix!r}; use {valid}"),
                base[:100],
                suffix=suffix or "(none)",
                valid=", ".join(ALLOWED_SUFFIXES),
            )
        self.sweep()
        self._ensure_root()
        token = secrets.token_urlsafe(18)
        folder = self.root / token
        folder.mkdir(mode=0o700)
        stem = _UNSAFE.sub("_", Path(base).stem).strip("_")[:60] or "upload"
        path = folder / f"{stem}{suffix}"
        size = 0
        try:
            with open(path, "wb") as out:
                while chunk := source.read(_CHUNK):
                    size += len(chunk)
                    if size > limit:
                        raise _bad_file(
                            N_("the file is larger than {limit} bytes"),
                            limit=limit,
                            mb=f"{limit / 1048576:.0f}",
                        )
                    out.write(chunk)
            if size == 0:
                raise _bad_file(N_("the file is empty"))
            created = time.time()
            meta = {
                "owner": owner,
                "name": base[:200],
                "file": path.name,
                "crs": crs,
                "created_at": created,
            }
            (folder / _META).write_text(json.dumps(meta, ensure_ascii=False), "utf-8")
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return Upload(token, path, base[:200], crs, owner, created)

    def _read(self, token: str, owner: str, meta_name: str) -> Upload:
        missing = NotFound(
            "this upload is gone (expired, already imported, or not yours); upload the file again"
        )
        if not _TOKEN.fullmatch(token or ""):
            raise missing
        folder = self.root / token
        try:
            meta = json.loads((folder / meta_name).read_text("utf-8"))
        except (OSError, ValueError):
            raise missing from None
        if not hmac.compare_digest(str(meta.get("owner", "")).encode(), owner.encode()):
            raise missing
        if time.time() - float(meta.get("created_at", 0)) > self.ttl_s:
            raise missing
        return Upload(
            token,
            folder / Path(str(meta["file"])).name,
            str(meta["name"]),
            str(meta["crs"]),
            owner,
            float(meta["created_at"]),
        )

    def get(self, token: str, owner: str) -> Upload:
        """The pending upload ``token`` of session ``owner``; ``NotFound`` otherwise."""
        return self._read(token, owner, _META)

    def claim(self, token: str, owner: str) -> Upload:
        """Take the pending upload for importing; a second claim gets ``NotFound``."""
        upload = self.get(token, owner)
        folder = self.root / token
        try:
            os.rename(folder / _META, folder / _CLAIMED)
        except OSError:
            raise NotFound(Message("this upload is already being imported")) from None
        return upload

    def release(self, upload: Upload) -> None:
        """Put a claimed upload back (the import was refused; the clerk may try again)."""
        folder = self.root / upload.token
        try:
            os.rename(folder / _CLAIMED, folder / _META)
        except OSError:
            pass

    def claimed(self, token: str, owner: str) -> Upload:
        """A confirmed upload (for downloading the rows it skipped)."""
        return self._read(token, owner, _CLAIMED)

    def discard(self, token: str) -> None:
        if _TOKEN.fullmatch(token or ""):
            shutil.rmtree(self.root / token, ignore_errors=True)

    def sweep(self) -> int:
        """Delete uploads older than ``ttl_s``; returns how many went."""
        if not self.root.is_dir():
            return 0
        cutoff = time.time() - self.ttl_s
        gone = 0
        for folder in self.root.iterdir():
            try:
                if folder.is_dir() and folder.stat().st_mtime < cutoff:
                    shutil.rmtree(folder, ignore_errors=True)
                    gone += 1
            except OSError:
                continue
        return gone
