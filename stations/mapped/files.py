"""A host's shared catalog snapshots on disk: written once, atomically, mapped by every worker.

Layout, under the snapshot directory (setting ``catalog_snapshot_dir``; by default the
user cache directory, e.g. ``~/.cache/warm-stations/catalog``), one folder per store::

    <dir>/<store key>/.lock             flock: one writer at a time
    <dir>/<store key>/v000000012345/    the snapshot at change-feed position 12345
        meta.json                       tables, length, feed position, format
        ids.npy lon.npy lat.npy ...     the columns (stations.mapped.records)
        tree_xyz.npy tree_perm.npy ...  the nearest index, built once by the writer
        text.npy                        names and addresses as text search reads them
        blob.npy                        the records, one JSON array per station

Why each step:

* **Versions by feed position**: the change feed's numbers are gapless and in commit order,
  so "the snapshot at position c" names one state of the store, and a worker that finds a
  newer version than its own can adopt it and then follow the feed from there.
* **Atomic publication**: a version is written to a hidden temporary folder, every file and
  the folder are fsynced, then the folder is renamed into place (one ``rename``, atomic on
  POSIX). A reader therefore finds a version whole or not at all, never half written.
* **Readers keep their maps**: a worker maps a version's files read-only and keeps them until
  it swaps to the next; old versions are removed once a newer one is published. Linux keeps
  a removed file's pages while a map holds them, so a worker still serving an old version is
  unharmed; a worker opening one just as it is removed gets ``FileNotFoundError`` and takes
  the newest instead.
* **One writer**: whoever notices a change writes the next version under an ``flock``; the
  other workers wait for the lock and then find the version written (no duplicate work).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stations.mapped.records import Columns

__all__ = ["SnapshotFiles", "Version", "default_snapshot_dir", "store_key"]

_FORMAT = 3
_PREFIX = "v"
_TMP = ".tmp-"
#: A temporary folder older than this was left by a writer that died: removed.
_STALE_TMP_S = 3600.0


def default_snapshot_dir() -> Path:
    """``<user cache dir>/warm-stations/catalog``: on disk (its pages are the OS cache's to
    drop and re-read), private to the service's user, surviving restarts.
    """
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("warm-stations")) / "catalog"


def store_key(identity: str) -> str:
    """A folder name for one store (its database URL, password hidden): two deployments on a
    host never share snapshots, and the URL itself is not written to disk.
    """
    return hashlib.sha256(identity.encode()).hexdigest()[:20]


@dataclass(frozen=True)
class Version:
    """A published snapshot: its feed position and folder."""

    counter: int
    path: Path


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class SnapshotFiles:
    """The versions of one store's snapshot in one folder (see the module docstring)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    # -- finding ---------------------------------------------------------------------------
    def versions(self) -> list[Version]:
        """Published versions, oldest first."""
        try:
            names = os.listdir(self.root)
        except FileNotFoundError:
            return []
        found = []
        for name in names:
            if name.startswith(_PREFIX) and name[len(_PREFIX) :].isdigit():
                found.append(Version(int(name[len(_PREFIX) :]), self.root / name))
        return sorted(found, key=lambda v: v.counter)

    def path_of(self, counter: int) -> Path:
        """The folder of the version at feed position ``counter``."""
        return self.root / f"{_PREFIX}{counter:012d}"

    def discard_all(self) -> None:
        """Remove every version (they belong to another database of the same name)."""
        for version in self.versions():
            shutil.rmtree(version.path, ignore_errors=True)

    def newest(self) -> Version | None:
        """The newest published version, if any."""
        versions = self.versions()
        return versions[-1] if versions else None

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the writers' lock (blocking): check for a version and write one under it."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a+b") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    # -- writing ---------------------------------------------------------------------------
    def publish(self, columns: Columns, counter: int, extra: dict[str, object]) -> Version:
        """Write ``columns`` as the version at feed position ``counter`` (call under
        :meth:`locked`) and remove older versions; the version (an existing one of that
        position is kept: versions are immutable).
        """
        final = self.path_of(counter)
        if final.exists():
            return Version(counter, final)
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f"{_TMP}{counter}-{os.getpid()}-{secrets.token_hex(4)}"
        tmp.mkdir()
        try:
            for name, array in {**columns.arrays, "blob": columns.blob}.items():
                with open(tmp / f"{name}.npy", "wb") as fh:
                    np.save(fh, np.ascontiguousarray(array), allow_pickle=False)
                    fh.flush()
                    os.fsync(fh.fileno())
            meta = {
                "format": _FORMAT,
                "counter": counter,
                "n": len(columns),
                "tables": columns.tables,
                **extra,
            }
            with open(tmp / "meta.json", "w", encoding="utf-8") as fh:
                json.dump(meta, fh, ensure_ascii=False)
                fh.flush()
                os.fsync(fh.fileno())
            _fsync_dir(tmp)
            os.rename(tmp, final)
            _fsync_dir(self.root)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self.prune(keep=counter)
        return Version(counter, final)

    def prune(self, keep: int) -> None:
        """Remove versions older than ``keep`` and temporary folders of dead writers.

        A worker still mapping a removed version keeps its pages (the inode lives on);
        the disk space returns when it swaps.
        """
        for version in self.versions():
            if version.counter < keep:
                shutil.rmtree(version.path, ignore_errors=True)
        now = time.time()
        for name in os.listdir(self.root):
            if name.startswith(_TMP):
                path = self.root / name
                with contextlib.suppress(FileNotFoundError):
                    if now - path.stat().st_mtime > _STALE_TMP_S:
                        shutil.rmtree(path, ignore_errors=True)

    # -- reading ---------------------------------------------------------------------------
    @staticmethod
    def open(version: Version) -> tuple[Columns, dict[str, object]]:
        """The version's columns, mapped read-only, and its meta data.

        Raises ``FileNotFoundError`` when the version was removed meanwhile (take the newest).
        Every file is opened through one descriptor of the version's folder, so all of them
        come from that one version.
        """
        dir_fd = os.open(version.path, os.O_RDONLY | os.O_DIRECTORY)
        try:

            def opener(name: str, flags: int) -> int:
                return os.open(name, flags, dir_fd=dir_fd)

            with open("meta.json", encoding="utf-8", opener=opener) as text:
                meta = json.load(text)
            if meta.get("format") != _FORMAT:
                raise FileNotFoundError(f"{version.path}: snapshot format {meta.get('format')}")
            arrays = {}
            for name in (*_ARRAYS, "blob"):
                with open(f"{name}.npy", "rb", opener=opener) as fh:
                    arrays[name] = _map(fh)
        finally:
            os.close(dir_fd)
        blob = arrays.pop("blob")
        tables = meta.pop("tables")
        return Columns(arrays, blob, tables), meta


_ARRAYS = (
    "ids",
    "lon",
    "lat",
    "amenity_bits",
    "no_smartphone_ok",
    "org_id",
    "verified_at",
    "id_order",
    "sorted_ids",
    "app_coords",
    "status",
    "host_type",
    "entry",
    "hours_of",
    "opening_hours_text",
    "offsets",
    "text",
    "text_offsets",
    "ecef",
    "tree_xyz",
    "tree_perm",
    "tree_axis",
)


#: numpy reads a ``.npy`` header with ``ast.literal_eval``. CPython 3.11's AST constructor
#: keeps its recursion depth per interpreter, not per thread (python/cpython#106905), so two
#: threads reading headers at once — a worker's refresher mapping a new version while
#: another thread maps one — can fail with "AST constructor recursion depth mismatch".
#: Headers are read one at a time; the arrays are mapped outside the lock.
_HEADER_LOCK = threading.Lock()


def _map(fh: object) -> np.ndarray:
    """A ``.npy`` file's array mapped read-only from an open file (``np.load`` maps by path;
    here the path may already name a newer version, so the open file is mapped).
    """
    import mmap

    from numpy.lib import format as npy

    major, _ = npy.read_magic(fh)  # type: ignore[arg-type]
    read_header = npy.read_array_header_1_0 if major == 1 else npy.read_array_header_2_0
    with _HEADER_LOCK:
        shape, fortran, dtype = read_header(fh)  # type: ignore[arg-type]
    offset = fh.tell()  # type: ignore[attr-defined]
    count = int(np.prod(shape, dtype=np.int64)) if shape else 1
    if count == 0 or dtype.itemsize == 0:
        return np.zeros(shape, dtype)
    mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)  # type: ignore[attr-defined]
    array = np.frombuffer(mm, dtype, count, offset).reshape(shape, order="F" if fortran else "C")
    return array
