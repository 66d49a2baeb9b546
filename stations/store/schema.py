"""The tables, one schema for SQLite and PostgreSQL + PostGIS.

Coordinates are stored as plain ``lon``/``lat`` doubles on both engines (exact round trips,
no driver-specific geometry parsing on the hot read path). On PostGIS the migration adds a
generated ``geom geometry(Point, 4326)`` column with a GiST index, so spatial SQL, QGIS and
``ORDER BY geom <-> point`` work without the application keeping two copies in sync.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

__all__ = ["metadata", "stations_table", "history_table", "geocode_cache_table"]

metadata = MetaData()

stations_table = Table(
    "stations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("external_id", String(64), unique=True, nullable=True),
    Column("name", String(200), nullable=False),
    Column("address", String(300), nullable=False, default=""),
    Column("district", String(60), nullable=False, default=""),
    Column("lon", Float(precision=53), nullable=False),
    Column("lat", Float(precision=53), nullable=False),
    Column("host_type", String(32), nullable=False, default="other"),
    Column("host_org", String(200), nullable=False, default=""),
    Column("amenities", JSON, nullable=False),
    Column("opening_hours", String(500), nullable=False, default=""),
    Column("phone", String(60), nullable=False, default=""),
    Column("status", String(32), nullable=False, default="open"),
    Column("notes", Text, nullable=False, default=""),
    Column("geocoded", Boolean, nullable=False, default=False),
    Column("version", Integer, nullable=False, default=1),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("deleted_at", DateTime(timezone=True), nullable=True),
)

# Every write appends one row; its ever-growing ``id`` doubles as the store's change counter,
# which other processes poll (or are notified of) to refresh their in-memory index.
history_table = Table(
    "station_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("station_id", Integer, nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("action", String(16), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("before", JSON, nullable=True),
    Column("after", JSON, nullable=True),
)

geocode_cache_table = Table(
    "geocode_cache",
    metadata,
    Column("query", String(400), primary_key=True),
    Column("provider", String(40), primary_key=True),
    Column("lon", Float(precision=53), nullable=True),
    Column("lat", Float(precision=53), nullable=True),
    Column("address", Text, nullable=True),
    Column("candidates", Integer, nullable=False, default=0),
    Column("at", DateTime(timezone=True), nullable=False),
)
