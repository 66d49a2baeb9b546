"""Where photo bytes live: a content-addressed folder by default, or an S3-compatible bucket.

Keys are ``<digest>/<rendition>`` (``ab12…/thumb.webp``): the same photo uploaded twice is
stored once, and a key never changes meaning, so answers can be cached for a year. With
several hosts behind a load balancer the folder must be shared, or configure a bucket
(``STATIONS_PHOTO_S3_BUCKET`` and friends): every host then reads and writes the same
objects. boto3 is imported only when a bucket is configured.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from stations.errors import ConfigurationError, NotFound
from stations.photos.process import RENDITIONS

__all__ = ["BlobStore", "FolderBlobStore", "S3BlobStore", "check_key"]

_DIGEST = re.compile(r"[0-9a-f]{64}")


def _check_digest(digest: str) -> str:
    """The digest when it is 64 lowercase hex digits (no path tricks), else ``ValueError``."""
    if not _DIGEST.fullmatch(digest):
        raise ValueError(f"not a photo digest: {digest[:70]!r}")
    return digest


def check_key(digest: str, name: str) -> str:
    """``digest/name`` when both are well formed, else ``NotFound`` (no path tricks)."""
    if not _DIGEST.fullmatch(digest) or name not in RENDITIONS:
        raise NotFound(f"photo {digest[:16]}/{name[:16]} not found")
    return f"{digest}/{name}"


class BlobStore(ABC):
    """Bytes by key; writes of the same key are idempotent (content-addressed)."""

    @abstractmethod
    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` under ``key`` (overwriting is harmless: keys are content digests)."""

    @abstractmethod
    def get(self, key: str) -> bytes:
        """The bytes, or ``NotFound``."""

    @abstractmethod
    def delete_photo(self, digest: str) -> int:
        """Remove every file of one photo, renditions this version no longer makes included;
        how many there were (0 when none: deleting twice is harmless).
        """

    @abstractmethod
    def photos(self) -> Iterator[tuple[str, datetime]]:
        """Each photo with files here, and when its newest file was written: the prune
        leaves recent ones alone, as their upload may not be recorded yet.
        """


class FolderBlobStore(BlobStore):
    """Files under ``root/ab/<digest>/<rendition>``, each written to a temporary file and
    renamed into place, so a reader never sees half a photo.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        digest, name = key.split("/", 1)
        return self.root / digest[:2] / digest / name

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` under ``key`` as a file."""
        path = self._path(key)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".up-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        """The bytes stored under ``key``; ``NotFound`` if there are none."""
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise NotFound(f"photo {key} not found") from None

    def delete_photo(self, digest: str) -> int:
        """Remove the photo's folder with its files."""
        folder = self.root / digest[:2] / _check_digest(digest)
        if not folder.is_dir():
            return 0
        count = sum(1 for p in folder.iterdir() if not p.name.startswith(".up-"))
        shutil.rmtree(folder)
        return count

    def photos(self) -> Iterator[tuple[str, datetime]]:
        """The digest folders under the root, with their newest file's time."""
        if not self.root.is_dir():
            return
        for folder in self.root.glob("??/*"):
            if not _DIGEST.fullmatch(folder.name) or not folder.is_dir():
                continue
            times = [p.stat().st_mtime for p in folder.iterdir()] or [folder.stat().st_mtime]
            yield folder.name, datetime.fromtimestamp(max(times), UTC)


class S3BlobStore(BlobStore):
    """Objects in an S3-compatible bucket (AWS, MinIO, Ceph, OSS/COS S3 endpoints)."""

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        prefix: str = "photos/",
    ) -> None:
        try:
            import boto3
            from botocore.config import Config
        except ImportError:  # pragma: no cover - an optional dependency
            raise ConfigurationError(
                "an S3 photo bucket is configured but boto3 is not installed "
                "(pip install 'warm-stations[s3]')"
            ) from None
        self.bucket = bucket
        self.prefix = prefix
        # Path-style addresses work with every S3-compatible server (MinIO, Ceph and the
        # test server answer on one host name); a rider's upload waits at most seconds.
        config = Config(
            s3={"addressing_style": "path"} if endpoint_url else {},
            connect_timeout=5,
            read_timeout=30,
            retries={"mode": "standard", "max_attempts": 3},
        )
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region or "us-east-1",
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            config=config,
        )

    def _no_bucket(self, exc: Exception) -> ConfigurationError | None:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code")
        if code != "NoSuchBucket":
            return None
        return ConfigurationError(f"the photo bucket {self.bucket!r} does not exist")

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` under ``key`` in the bucket."""
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=self.prefix + key,
                Body=data,
                ContentType=content_type,
                CacheControl="public, max-age=31536000, immutable",
            )
        except self.client.exceptions.ClientError as exc:
            raise self._no_bucket(exc) or exc from None

    def get(self, key: str) -> bytes:
        """The bytes stored under ``key``; ``NotFound`` if there are none."""
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self.prefix + key)
        except self.client.exceptions.NoSuchKey:
            raise NotFound(f"photo {key} not found") from None
        except self.client.exceptions.ClientError as exc:
            raise self._no_bucket(exc) or exc from None
        return bytes(answer["Body"].read())

    def _objects(self, prefix: str) -> Iterator[dict[str, Any]]:
        pages = self.client.get_paginator("list_objects_v2")
        try:
            for page in pages.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
                yield from page.get("Contents", ())
        except self.client.exceptions.ClientError as exc:
            raise self._no_bucket(exc) or exc from None

    def delete_photo(self, digest: str) -> int:
        """Remove every object under the photo's digest, a thousand per request."""
        prefix = _check_digest(digest) + "/"
        keys = [{"Key": o["Key"]} for o in self._objects(prefix)]
        for start in range(0, len(keys), 1000):
            answer = self.client.delete_objects(
                Bucket=self.bucket, Delete={"Objects": keys[start : start + 1000], "Quiet": True}
            )
            if answer.get("Errors"):
                first = answer["Errors"][0]
                raise OSError(f"could not delete {first.get('Key')}: {first.get('Message')}")
        return len(keys)

    def photos(self) -> Iterator[tuple[str, datetime]]:
        """The digests under the prefix, with their newest object's time (one listing)."""
        newest: dict[str, datetime] = {}
        for o in self._objects(""):
            digest = o["Key"][len(self.prefix) :].split("/")[0]
            if _DIGEST.fullmatch(digest):
                newest[digest] = max(o["LastModified"], newest.get(digest, o["LastModified"]))
        yield from newest.items()
