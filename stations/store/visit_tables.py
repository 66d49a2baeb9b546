"""Tables of visits served (migration 0004): public codes, check-ins, roll-ups, tallies.

Kept beside ``schema.py`` on the same ``metadata`` rather than inside it, so this feature
adds tables without editing lines other features edit.

Privacy by construction: no table has a column for a name, a phone number or a position.
The device a check-in came from exists only as a keyed hash in ``visit_devices``, one row
per (station, device) for as long as the de-duplication window needs it, and the hash is
keyed per station too, so two stations' rows cannot be joined to follow one phone.

On PostgreSQL the migration creates ``checkins`` partitioned by month (``PARTITION BY
RANGE (at)``); the ``Table`` below is what SQLite gets and what queries are written against.
Reports read ``visit_daily``, which every counted check-in updates in the same transaction,
so raw rows can be pruned (a whole month's partition dropped) without changing any total.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
)

from stations.store.schema import metadata

__all__ = [
    "checkins_table",
    "search_cells_table",
    "station_codes_table",
    "visit_daily_table",
    "visit_devices_table",
    "visit_keys_table",
    "visit_tallies_table",
]

# One public code per station (the poster's QR and /s/{code}); see stations.visits.codes.
station_codes_table = Table(
    "station_codes",
    metadata,
    Column(
        "station_id",
        Integer,
        ForeignKey("stations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("code", String(16), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# The deployment's secret for hashing device ids: one row, made on first use, never shown.
visit_keys_table = Table(
    "visit_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("secret", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# When each (station, device hash) last counted: the de-duplication window, nothing more.
visit_devices_table = Table(
    "visit_devices",
    metadata,
    Column("station_id", Integer, primary_key=True),
    Column("device_hash", String(32), primary_key=True),
    Column("last_at", DateTime(timezone=True), nullable=False, index=True),
)

# Every counted check-in (raw; prunable). BIGINT on PostgreSQL, where ids outgrow 2**31.
checkins_table = Table(
    "checkins",
    metadata,
    Column(
        "id",
        BigInteger().with_variant(Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    Column("station_id", Integer, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("worker_type", String(16), nullable=False),
    Index("ix_checkins_at", "at"),
)

# Check-ins counted per station, local day, local hour and worker type.
visit_daily_table = Table(
    "visit_daily",
    metadata,
    Column("station_id", Integer, primary_key=True),
    Column("day", Date, primary_key=True),
    Column("hour", SmallInteger, primary_key=True),
    Column("worker_type", String(16), primary_key=True),
    Column("count", Integer, nullable=False),
    Index("ix_visit_daily_day", "day"),
)

# Visits counted by hand (a paper register) per station and local day; replaced, not added.
visit_tallies_table = Table(
    "visit_tallies",
    metadata,
    Column(
        "station_id",
        Integer,
        ForeignKey("stations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("day", Date, primary_key=True),
    Column("count", Integer, nullable=False),
    Column("entered_by", String(100), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_visit_tallies_day", "day"),
)

# Searches per H3 cell (resolution 8) and local day; no position is kept (migration 0007).
search_cells_table = Table(
    "search_cells",
    metadata,
    Column("cell", String(16), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("count", Integer, nullable=False),
    Index("ix_search_cells_day", "day"),
)
