"""Writing a store's first snapshot version, in a child process when the store allows it.

Why a child: loading 200,000 stations builds as many Python objects (~165 MiB) to encode
them, and a worker that did so itself kept ~240 MiB of heap the allocator never returned
to the system — more than the mapped snapshot saves. A child process
(``python -m stations.mapped build``) loads, encodes and writes the version, then exits,
and its memory with it; the worker only maps the result. A store that cannot be reopened
from a URL (one built in a test from an engine object) is loaded in-process.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from stations.mapped.files import SnapshotFiles, Version
from stations.mapped.records import Columns, build_columns
from stations.store.base import StationStore

__all__ = ["URL_ENV", "publish", "store_url", "write_first_version"]

#: The child reads the database URL from here (not from its command line, which any user
#: of the host can list).
URL_ENV = "STATIONS_SNAPSHOT_DATABASE_URL"


def store_url(store: StationStore) -> str | None:
    """The URL a child process can open ``store`` by, password included; None if none."""
    engine = getattr(store, "engine", None)
    if engine is None or engine.url.database in (None, "", ":memory:"):
        return None
    return str(engine.url.render_as_string(hide_password=False))


def publish(store: StationStore, files: SnapshotFiles, columns: Columns, counter: int) -> Version:
    """Publish ``columns`` as the version at feed position ``counter`` of ``store``, noting
    which station the feed entry at that position names (how a reader later tells that a
    version belongs to this database and not to an earlier one of the same name).
    """
    entry = store.feed_changes(counter - 1)[:1] if counter else []
    station_id = entry[0][1] if entry and entry[0][0] == counter else None
    return files.publish(columns, counter, {"station_id": station_id})


def load_and_publish(store: StationStore, files: SnapshotFiles) -> Version:
    """Load every live station and publish them (call under ``files.locked()``)."""
    # Read the feed head before the stations: a change committed meanwhile has a higher
    # number and is re-read by the next refresh, never missed.
    counter = store.feed_head()
    return publish(store, files, build_columns(store.all()), counter)


def write_first_version(store: StationStore, files: SnapshotFiles) -> Version:
    """Write a version from the store, in a child process when it can open the store
    (call under ``files.locked()``: the child does not take the lock).
    """
    url = store_url(store)
    if url is None:
        return load_and_publish(store, files)
    done = subprocess.run(
        [sys.executable, "-m", "stations.mapped", "build", str(files.root)],
        env={**os.environ, URL_ENV: url},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"building the catalog snapshot failed:\n{done.stderr[-3000:]}")
    counter = int(done.stdout.split()[-1])  # the child prints the position it published
    return Version(counter, files.path_of(counter))


def main(argv: list[str]) -> int:
    """``python -m stations.mapped build DIR``: publish the store at ``$URL_ENV`` into DIR."""
    if len(argv) != 2 or argv[0] != "build" or not os.environ.get(URL_ENV):
        print(f"usage: {URL_ENV}=URL python -m stations.mapped build DIR", file=sys.stderr)
        return 2
    from stations.store.sql import SqlStationStore

    store = SqlStationStore(os.environ[URL_ENV])
    try:
        print(load_and_publish(store, SnapshotFiles(Path(argv[1]))).counter)
    finally:
        store.close()
    return 0
