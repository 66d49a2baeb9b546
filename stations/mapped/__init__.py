"""The catalog's arrays shared by every worker of a host: one memory-mapped snapshot.

* :mod:`stations.mapped.records` — stations as columns and compact records, and back.
* :mod:`stations.mapped.files` — versions on disk, written atomically, mapped read-only.
* :mod:`stations.mapped.snapshot` — stations decoded on demand; the snapshot the catalog
  searches (``StationCatalog(..., shared=SnapshotFiles(...))``).

The in-memory catalog (no ``shared``) is the reference this one is tested against.
"""

from stations.mapped.files import SnapshotFiles, default_snapshot_dir, store_key

__all__ = ["SnapshotFiles", "default_snapshot_dir", "store_key"]
