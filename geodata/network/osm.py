"""Read streets from an OpenStreetMap file (``.osm.pbf`` or ``.osm`` XML), and write one.

Why pyosmium (``osmium``): it is libosmium's own binding, reads both PBF and XML (and
their compressed forms) with node locations resolved in C++, and writes them too — so the
test networks this project generates are real OSM files read by the same code path as a
city extract.  pyrosm reads PBF only; osmnx reads XML only and builds a networkx graph of
Python objects (about 20× the memory of the arrays kept here).

One pass over the file keeps every way with a ``highway`` tag; which mode may use which
segment is decided per way (:func:`geodata.network.graph.mode_allows`), so one reading
serves both the walk and the e-bike network.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from geodata.errors import GeodataError
from geodata.network.graph import MODES, StreetNetwork, build_network, check_mode, mode_allows

__all__ = ["OsmStreets", "load_network", "read_osm", "write_osm"]

SUFFIXES = (".osm.pbf", ".pbf", ".osm", ".osm.bz2", ".osm.gz")


@dataclass(frozen=True)
class OsmStreets:
    """The highway ways of an OSM file, cut into segments, with the modes each may carry."""

    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    seg_a: NDArray[np.intp]
    seg_b: NDArray[np.intp]
    seg_name: NDArray[np.intp]
    seg_modes: dict[str, NDArray[np.bool_]]
    names: tuple[str, ...]
    source: str
    osm_id: NDArray[np.int64] | None = None

    def network(self, mode: str = "walk") -> StreetNetwork:
        """The :class:`StreetNetwork` of one travel mode (its largest connected part)."""
        mode = check_mode(mode)
        m = self.seg_modes[mode]
        return build_network(
            self.lon,
            self.lat,
            self.seg_a[m],
            self.seg_b[m],
            self.seg_name[m],
            self.names,
            mode=mode,
            source=self.source,
            node_ids=self.osm_id,
        )


def _check_path(path: str | Path) -> Path:
    p = Path(path)
    if not p.name.lower().endswith(SUFFIXES):
        raise GeodataError.from_catalog(
            "network",
            "{file}: a street network must be an OpenStreetMap file ({suffixes})",
            file=p.name,
            suffixes=", ".join(SUFFIXES),
        )
    if not p.is_file():
        raise GeodataError.from_catalog("network", "{file}: no such network file", file=str(p))
    return p


def read_osm(path: str | Path) -> OsmStreets:
    """Read the streets of an OSM file (PBF or XML).

    Raises
    ------
    GeodataError
        Not an OSM file name, missing, unreadable, or without any street (field ``network``).
    """
    import osmium

    p = _check_path(path)
    refs: list[int] = []
    lons: list[float] = []
    lats: list[float] = []
    seg_a: list[int] = []
    seg_name: list[int] = []
    seg_mode_rows: list[tuple[bool, ...]] = []
    name_ids: dict[str, int] = {}
    modes = tuple(MODES)
    try:
        fp = (
            osmium.FileProcessor(str(p))
            .with_locations()
            .with_filter(osmium.filter.KeyFilter("highway"))
        )
        for obj in fp:
            if not obj.is_way():
                continue
            tags = dict(obj.tags)
            allowed = tuple(mode_allows(m, tags) for m in modes)
            if not any(allowed):
                continue
            name = tags.get("name", "")
            nid = name_ids.setdefault(name, len(name_ids)) if name else -1
            prev = -1
            for nref in obj.nodes:
                loc = nref.location
                if not loc.valid():
                    prev = -1  # a node missing from the extract breaks the way here
                    continue
                k = len(refs)
                refs.append(nref.ref)
                lons.append(loc.lon)
                lats.append(loc.lat)
                if prev >= 0:
                    seg_a.append(prev)
                    seg_name.append(nid)
                    seg_mode_rows.append(allowed)
                prev = k
    except RuntimeError as exc:  # libosmium's parse errors
        raise GeodataError.from_catalog(
            "network", "{file}: not a readable OSM file ({reason})", file=p.name, reason=str(exc)
        ) from None
    if not seg_a:
        raise GeodataError.from_catalog(
            "network", "{file}: the file has no streets (highway ways)", file=p.name
        )
    ref_arr = np.asarray(refs, dtype=np.int64)
    uniq, first, inverse = np.unique(ref_arr, return_index=True, return_inverse=True)
    a = np.asarray(seg_a, dtype=np.intp)
    node_of = inverse.ravel().astype(np.intp)
    mode_arr = np.asarray(seg_mode_rows, dtype=bool).reshape(-1, len(modes))
    return OsmStreets(
        lon=np.asarray(lons, dtype=float)[first],
        lat=np.asarray(lats, dtype=float)[first],
        seg_a=node_of[a],
        seg_b=node_of[a + 1],
        seg_name=np.asarray(seg_name, dtype=np.intp),
        seg_modes={m: mode_arr[:, i].copy() for i, m in enumerate(modes)},
        names=tuple(name_ids),
        source=p.name,
        osm_id=uniq,
    )


_STREETS: dict[tuple[str, int, int], OsmStreets] = {}
_NETS: dict[tuple[str, int, int, str], StreetNetwork] = {}
_LOCK = threading.Lock()


def load_network(path: str | Path, mode: str = "walk") -> StreetNetwork:
    """The network of ``mode`` from an OSM file, read once per file version per process.

    Why a cache: the service answers reach requests against the same file
    (``STATIONS_NETWORK_FILE``); reading a city extract takes seconds, routing milliseconds.
    Only the latest file is kept.
    """
    p = _check_path(path)
    mode = check_mode(mode)
    st = os.stat(p)
    key = (str(p.resolve()), st.st_mtime_ns, st.st_size)
    with _LOCK:
        net = _NETS.get((*key, mode))
        streets = _STREETS.get(key)
    if net is not None:
        return net
    if streets is None:
        streets = read_osm(p)
    net = streets.network(mode)
    with _LOCK:
        if key not in _STREETS:
            _STREETS.clear()
            _NETS.clear()
            _STREETS[key] = streets
        _NETS[(*key, mode)] = net
    return net


def write_osm(
    path: str | Path,
    nodes: Iterable[tuple[int, float, float]],
    ways: Iterable[tuple[int, Sequence[int], dict[str, str]]],
) -> Path:
    """Write nodes ``(id, lon, lat)`` and ways ``(id, node_ids, tags)`` to an OSM file.

    The format follows the name (``.osm`` XML, ``.osm.pbf``); an existing file is replaced.
    """
    import osmium
    from osmium.osm.mutable import Node, Way

    p = Path(path)
    if p.exists():
        p.unlink()
    writer = osmium.SimpleWriter(str(p))
    try:
        for nid, lon, lat in nodes:
            writer.add_node(Node(id=int(nid), location=(float(lon), float(lat)), tags={}))
        for wid, refs, tags in ways:
            writer.add_way(Way(id=int(wid), nodes=[int(r) for r in refs], tags=dict(tags)))
    finally:
        writer.close()
    return p
