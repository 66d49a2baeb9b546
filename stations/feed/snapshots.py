"""Bulk snapshots of every live station for platforms: GeoJSON, CSV and GeoParquet.

A snapshot is tagged with the change feed's head (``StationStore.feed_head``): the head is
read BEFORE the stations, so a snapshot is never older than its tag (a write committing in
between makes the next request's tag differ and rebuilds it). A platform polling with
``If-None-Match`` gets 304 until something changes, and can follow ``/api/v1/changes`` from
the ``X-Changes-Cursor`` it was given with the snapshot.
"""

from __future__ import annotations

import csv
import io
import json
import threading
from dataclasses import dataclass
from typing import Any

from geodata.crs import crs_name, from_wgs84
from geodata.errors import GeodataError
from stations.errors import FieldError, ValidationFailed
from stations.feed.changes import encode_cursor
from stations.io.formula import neutralise
from stations.model import Station
from stations.photos.urls import photo_urls
from stations.store.base import StationStore

__all__ = ["FORMATS", "Snapshot", "SnapshotCache"]

FORMATS: dict[str, str] = {
    "geojson": "application/geo+json",
    "csv": "text/csv; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
}

#: Columns of every snapshot (GeoJSON and GeoParquet carry lon/lat as the point instead).
COLUMNS: tuple[str, ...] = (
    "id",
    "external_id",
    "name",
    "address",
    "district",
    "lon",
    "lat",
    "host_type",
    "host_org",
    "amenities",
    "opening_hours",
    "phone",
    "status",
    "notes",
    "entry",
    "no_smartphone_ok",
    "photos",
    "version",
    "updated_at",
    "verified_at",
)
_PROPS = tuple(c for c in COLUMNS if c not in ("lon", "lat"))


@dataclass(frozen=True)
class Snapshot:
    """One encoded snapshot and the tag it answers ``If-None-Match`` with."""

    body: bytes
    etag: str
    media_type: str
    head: int
    count: int

    @property
    def cursor(self) -> str:
        """The change-feed cursor this snapshot is consistent with."""
        return encode_cursor(self.head) if self.head else "0"


def _record(s: Station) -> dict[str, Any]:
    return {
        "id": s.id,
        "external_id": s.data.external_id,
        "name": s.data.name,
        "address": s.data.address,
        "district": s.data.district,
        "host_type": s.data.host_type,
        "host_org": s.data.host_org,
        "amenities": list(s.data.amenities),
        "opening_hours": s.data.opening_hours,
        "phone": s.data.phone,
        "status": s.data.status,
        "notes": s.data.notes,
        "entry": s.data.entry or None,
        "no_smartphone_ok": s.data.no_smartphone_ok,
        # the served door photos, newest first (as every station answer lists them)
        "photos": [photo_urls(d)["url"] for d in s.data.photos],
        "version": s.version,
        "updated_at": s.updated_at.isoformat(),
        "verified_at": None if s.verified_at is None else s.verified_at.isoformat(),
    }


def _geojson(stations: list[Station]) -> bytes:
    features = [
        {
            "type": "Feature",
            "id": s.id,
            "geometry": {"type": "Point", "coordinates": [s.data.lon, s.data.lat]},
            "properties": _record(s),
        }
        for s in stations
    ]
    doc = {"type": "FeatureCollection", "features": features}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


def _csv(stations: list[Station], crs: str) -> bytes:
    lon = [s.data.lon for s in stations]
    lat = [s.data.lat for s in stations]
    if crs != "wgs84" and stations:
        x, y = from_wgs84(lon, lat, crs)
        lon, lat = [float(v) for v in x], [float(v) for v in y]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for k, s in enumerate(stations):
        record = _record(s)
        row: list[str] = []
        for column in COLUMNS:
            if column == "lon":
                row.append(repr(lon[k]))
            elif column == "lat":
                row.append(repr(lat[k]))
            elif column in ("amenities", "photos"):
                row.append(";".join(record[column]))
            else:
                value = record[column]
                if isinstance(value, bool):
                    row.append("true" if value else "false")
                elif isinstance(value, str):
                    row.append(neutralise(value))
                else:
                    row.append("" if value is None else str(value))
        writer.writerow(row)
    # With a BOM, as the staff exports: Excel in China reads BOM-less UTF-8 as GBK.
    return "\ufeff".encode() + out.getvalue().encode()


def _parquet(stations: list[Station]) -> bytes:
    """GeoParquet (WKB point column with the ``geo`` metadata), readable by QGIS, GDAL,
    geopandas and DuckDB; pyarrow writes it through geopandas.
    """
    import geopandas as gpd
    import pandas as pd

    frame = pd.DataFrame([_record(s) for s in stations], columns=list(_PROPS))
    points = gpd.points_from_xy([s.data.lon for s in stations], [s.data.lat for s in stations])
    gdf = gpd.GeoDataFrame(frame, geometry=points, crs="EPSG:4326")
    out = io.BytesIO()
    gdf.to_parquet(out, index=False)
    return out.getvalue()


class SnapshotCache:
    """Builds snapshots on demand and keeps the latest of each (format, crs)."""

    def __init__(self, store: StationStore) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._built: dict[tuple[str, str], Snapshot] = {}

    @staticmethod
    def etag(head: int, fmt: str, crs: str) -> str:
        """A strong ETag for one store state, format and CRS."""
        return f'"s1-{head}-{fmt}-{crs}"'

    def current_etag(self, fmt: str, crs: str) -> str:
        """The tag the snapshot would carry now (one small query; no stations read)."""
        crs = _check(fmt, crs)
        return self.etag(self.store.feed_head(), fmt, crs)

    def get(self, fmt: str, crs: str = "wgs84") -> Snapshot:
        """The snapshot of every live station in ``fmt`` and ``crs``, rebuilt only after a change."""
        crs = _check(fmt, crs)
        head = self.store.feed_head()  # before the stations: see the module docstring
        key = (fmt, crs)
        with self._lock:  # one build at a time: a burst of platforms does not build N copies
            cached = self._built.get(key)
            if cached is not None and cached.head == head:
                return cached
            stations = self.store.all()
            if fmt == "geojson":
                body = _geojson(stations)
            elif fmt == "csv":
                body = _csv(stations, crs)
            else:
                body = _parquet(stations)
            snap = Snapshot(body, self.etag(head, fmt, crs), FORMATS[fmt], head, len(stations))
            self._built[key] = snap
            return snap


def _check(fmt: str, crs: str) -> str:
    """``crs``'s canonical name, once ``fmt`` and ``crs`` are known to go together."""
    if fmt not in FORMATS:
        raise ValidationFailed(
            [FieldError.from_catalog("format", "must be geojson, csv or parquet", fmt)]
        )
    try:
        name = crs_name(crs)
    except GeodataError as exc:
        raise ValidationFailed([FieldError.of(exc, crs)]) from None
    if fmt != "csv" and name != "wgs84":
        raise ValidationFailed(
            [
                FieldError.from_catalog(
                    "crs",
                    "{fmt} is WGS-84 by definition; ask for stations.csv for GCJ-02/BD-09",
                    crs,
                    fmt=fmt,
                )
            ]
        )
    return name
