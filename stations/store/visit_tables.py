"""Tables of visits served (migration 0004): public codes, check-ins, roll-ups, tallies.

Kept beside ``schema.py`` on the same ``metadata`` rather than inside it, so this feature
adds tables without editing lines other features edit.

Privacy by construction: no table has a column for a name, a phone number or a position.
The device a check-in came from exists only as a keyed hash in ``visit_devices``, one row
per (station, device) for as long as the de-duplication window needs it, and the hash is
keyed per station too, so two stations' rows cannot be joined to follow one phone.

On PostgreSQL the migration creates ``checkins`` partitioned by month (``PARTITION BY
RANGE (at)``); the ``Table`` below is what SQLite gets and what queries are written against.
Every counted check-in updates the roll-ups in its own transaction, so raw rows can be pruned
(a whole month's partition dropped) without changing any total. ``visit_daily`` keeps the
finest grain (station, local day, hour, worker type); reports read the smallest roll-up that
answers them: ``visit_station_month`` (one row per station and month, a column per worker
type, migration 0015) for the monthly table and the busiest stations, ``visit_area_daily``
(network, district, host type or hour of day, per local day and worker type) for the dashboard and the grouped statistics, and ``visit_station_last`` (the
last local day each station had a visit) for the idle list. Hand tallies are in those three
under the worker type ``hand_tally``, so totals add up wherever they are read.
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
from stations.visits.vocabulary import WORKER_COLUMNS

__all__ = [
    "checkins_table",
    "search_cells_table",
    "station_codes_table",
    "visit_area_daily_table",
    "visit_daily_table",
    "visit_station_month_table",
    "visit_station_last_table",
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

# Visits per station and local month (its first day): one column per worker type, the hand
# tallies and the total (migration 0015). One row per station and month is what the monthly
# table reports, and (month, total DESC) hands out a month's busiest stations, and the
# stations a month has not seen, straight from the index.
visit_station_month_table = Table(
    "visit_station_month",
    metadata,
    Column("station_id", Integer, primary_key=True),
    Column("month", Date, primary_key=True),
    *(Column(w, Integer, nullable=False, server_default="0") for w in WORKER_COLUMNS),
    Column("hand_tally", Integer, nullable=False, server_default="0"),
    Column("total", Integer, nullable=False, server_default="0"),
)
Index(
    "ix_visit_station_month_total",
    visit_station_month_table.c.month,
    visit_station_month_table.c.total.desc(),
)

# Visits per local day and worker type for the whole network (scope ``network``, area ''),
# per district and per host type (as the station had them when the visit was counted), and
# per hour of day (scope ``hour``, area '00'-'23'; scans only). A day is a few hundred rows
# whatever the number of stations, so the dashboard's 30 days are read in milliseconds.
visit_area_daily_table = Table(
    "visit_area_daily",
    metadata,
    Column("scope", String(12), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("area", String(60), primary_key=True),
    Column("worker_type", String(16), primary_key=True),
    Column("count", Integer, nullable=False),
)

# The last local day each station had a visit (scan or a hand tally above zero): the
# dashboard's idle stations are those without one in the window.
visit_station_last_table = Table(
    "visit_station_last",
    metadata,
    Column("station_id", Integer, primary_key=True),
    Column("last_day", Date, nullable=False),
    Index("ix_visit_station_last_day", "last_day"),
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
