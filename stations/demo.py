"""The bundled E-Town demo data set (synthetic), loaded into a private store.

``stations serve --demo`` must never touch the configured store, so the demo lives in a
temporary SQLite file that disappears with the process.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from stations.store.base import StationStore
from stations.store.sql import SqlStationStore

__all__ = ["DEMO_FILE", "demo_store", "load_demo"]

DEMO_FILE = Path(__file__).resolve().parent / "data" / "etown_demo.geojson"


def load_demo(store: StationStore) -> int:
    """Import the demo stations into ``store``; returns how many were added or updated."""
    from stations.io.importing import run_import

    report = run_import(store, DEMO_FILE, actor="demo")
    return report.added + report.updated


def demo_store() -> tuple[SqlStationStore, tempfile.TemporaryDirectory[str]]:
    """A fresh temporary SQLite store holding the demo set; keep the directory alive."""
    tmp = tempfile.TemporaryDirectory(prefix="warm-stations-demo-")
    store = SqlStationStore("sqlite:///" + str(Path(tmp.name) / "demo.db"))
    load_demo(store)
    return store, tmp
