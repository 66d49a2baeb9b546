"""The catalog's arrays shared by every worker of a host: one memory-mapped snapshot.

* :mod:`stations.mapped.records` — stations as columns and compact records, and back.
* :mod:`stations.mapped.files` — versions on disk, written atomically, mapped read-only.
* :mod:`stations.mapped.snapshot` — stations decoded on demand; the snapshot the catalog
  searches (``StationCatalog(..., shared=SnapshotFiles(...))``).
* :mod:`stations.mapped.render` — a nearest answer's features written from the records.

The in-memory catalog (no ``shared``) is the reference this one is tested against.
"""

from stations.mapped.files import SnapshotFiles, default_snapshot_dir, store_key

#: What a worker of a mapped catalog keeps by default, of decoded stations and of rendered
#: nearest features (``stations.nearest.fragments.keep_features``): fewer than a worker
#: holding its own catalog, since many share a host (~3 KB a station for both).
MAPPED_KEPT = 2048

__all__ = ["MAPPED_KEPT", "SnapshotFiles", "default_snapshot_dir", "store_key"]
