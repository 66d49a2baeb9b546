"""The tables, one schema for SQLite and PostgreSQL + PostGIS.

Coordinates are stored as plain ``lon``/``lat`` doubles on both engines (exact round trips,
no driver-specific geometry parsing on the hot read path). On PostGIS the migration adds a
generated ``geom geometry(Point, 4326)`` column with a GiST index, so spatial SQL, QGIS and
``ORDER BY geom <-> point`` work without the application keeping two copies in sync.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

__all__ = [
    "metadata",
    "stations_table",
    "history_table",
    "geocode_cache_table",
    "users_table",
    "api_tokens_table",
    "sessions_table",
    "reports_table",
    "change_clock_table",
    "webhook_consumers_table",
    "orgs_table",
    "ROOT_ORG_ID",
    "confirmations_table",
    "trust_secrets_table",
    "confirmation_claims_table",
    "photos_table",
    "MAX_ID",
    "storable_id",
]

#: The largest id or version an ``Integer`` column holds on both engines: PostgreSQL's
#: ``integer`` is 32-bit (SQLite's 64-bit). The API accepts larger numbers (up to 2**62), and
#: PostgreSQL refuses to compare a column with a value it cannot hold ("integer out of
#: range"), so lookups check ``storable_id`` first: no row can have such an id.
MAX_ID = 2**31 - 1


def storable_id(value: int) -> bool:
    """Whether ``value`` can be the id (or version) of a row on either engine."""
    return 0 < value <= MAX_ID


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
    # The hours as staff wrote them (Chinese), or the Chinese rendering of OSM input (0006).
    Column("opening_hours_text", String(500), nullable=False, default=""),
    Column("phone", String(60), nullable=False, default=""),
    Column("status", String(32), nullable=False, default="open"),
    Column("notes", Text, nullable=False, default=""),
    Column("geocoded", Boolean, nullable=False, default=False),
    Column("version", Integer, nullable=False, default=1),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("deleted_at", DateTime(timezone=True), nullable=True),
    # migration 0003 (trust): how riders get in, and when staff last checked the record
    Column("entry", String(16), nullable=False, default="", server_default=""),
    Column("no_smartphone_ok", Boolean, nullable=True),
    Column("verified_at", DateTime(timezone=True), nullable=True),
    # The organisation that runs the station (migration 0007); 1 is the root.
    Column("org_id", Integer, nullable=False, default=1, server_default="1", index=True),
    # migration 0009: published photo digests, door photo first (stations.photos)
    Column("photos", JSON, nullable=True),
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
    # The change feed's position (migration 0005): gapless and in COMMIT order on both
    # engines, unlike ``id`` (a PostgreSQL sequence hands out numbers in start order). See
    # ``change_clock_table``.
    Column("seq", Integer, nullable=True, index=True, unique=True),
)

# One row, one counter. A writing transaction advances it as its LAST statement and holds the
# row lock until it commits, so the next writer can only take number n+1 after n is visible:
# numbers are handed out in commit order and what any reader sees is a prefix (no gaps to
# skip past and come back for). SQLite serialises writers anyway; PostgreSQL needs the lock.
change_clock_table = Table(
    "change_clock",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("value", Integer, nullable=False),
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

# -- staff accounts and rider reports (migration 0002) -----------------------------------------

# Staff who may change data. Passwords (console login) are stored as scrypt hashes only.
users_table = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(200), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("disabled_at", DateTime(timezone=True), nullable=True),
    # Where the user may write: this organisation and everything below it (migration 0007).
    Column("org_id", Integer, nullable=False, default=1, server_default="1"),
)

# API tokens: only the SHA-256 of the (high-entropy) secret is kept; the secret is shown once.
api_tokens_table = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("label", String(100), nullable=False, default=""),
    Column("prefix", String(16), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)

# Console sessions, keyed by the SHA-256 of the cookie value; shared by every API replica.
sessions_table = Table(
    "sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column(
        "user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

# What riders tell staff; reviewed by an editor, never applied by itself.
reports_table = Table(
    "rider_reports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("station_id", Integer, ForeignKey("stations.id"), nullable=False, index=True),
    Column("kind", String(32), nullable=False),
    Column("text", String(500), nullable=False, default=""),
    Column("status", String(16), nullable=False, index=True),
    Column("count", Integer, nullable=False, default=1),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("reviewed_by", String(100), nullable=True),
    Column("reviewed_at", DateTime(timezone=True), nullable=True),
    Column("station_version", Integer, nullable=True),
)

# -- webhooks (migration 0005) -----------------------------------------------------------------

# Registered consumers of the change feed. Their outbox is the change log itself (history rows
# are written in the same transaction as the change, numbered in commit order): each consumer
# keeps only how far it has been delivered, so a 100k-row import adds no rows per consumer.
webhook_consumers_table = Table(
    "webhook_consumers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("url", String(2000), nullable=False),
    Column("secret", String(100), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(100), nullable=False, default=""),
    Column("disabled_at", DateTime(timezone=True), nullable=True),
    Column("delivered_seq", Integer, nullable=False, default=0),
    Column("delivered_count", Integer, nullable=False, default=0),
    Column("failures", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime(timezone=True), nullable=True),
    Column("last_attempt_at", DateTime(timezone=True), nullable=True),
    Column("last_success_at", DateTime(timezone=True), nullable=True),
    Column("last_status", Integer, nullable=True),
    Column("last_error", String(500), nullable=True),
    Column("lease_owner", String(64), nullable=True),
    Column("lease_until", DateTime(timezone=True), nullable=True),
)

# -- rider confirmations and station photos (migration 0003) ----------------------------------

# One row per rider tap at a station (stations.trust.rules); the device only as a salted hash.
confirmations_table = Table(
    "confirmations",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("station_id", Integer, ForeignKey("stations.id"), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("state", String(8), nullable=False),
    Column("amenity", String(32), nullable=True),
    Column("device_hash", String(32), nullable=False),
    Column("onsite", Boolean, nullable=False),
    Column("distance_m", Float(precision=53), nullable=True),
    Column("scheduled", Boolean, nullable=True),
)

# Secrets the database keeps for every replica: the salt of device hashes.
# One row per (station, device) that voted: its last vote, and until when the device may not
# vote there again. The once-an-hour rule is one ``INSERT … ON CONFLICT DO UPDATE … WHERE
# until <= the new vote's time``.
confirmation_claims_table = Table(
    "confirmation_claims",
    metadata,
    Column("station_id", Integer, ForeignKey("stations.id"), primary_key=True),
    Column("device_hash", String(32), primary_key=True),
    Column("last_at", DateTime(timezone=True), nullable=False),
    Column("until", DateTime(timezone=True), nullable=False),
)

trust_secrets_table = Table(
    "trust_secrets",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", String(128), nullable=False),
)

# Photos of a station (stations.photos): bytes live in the photo store, keyed by digest.
photos_table = Table(
    "station_photos",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("station_id", Integer, ForeignKey("stations.id"), nullable=False),
    # Indexed (migration 0014): "was this digest published", "does anything still use it".
    Column("digest", String(64), nullable=False, index=True),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("source", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(100), nullable=False),
    Column("reviewed_by", String(100), nullable=True),
    Column("reviewed_at", DateTime(timezone=True), nullable=True),
    # The rider's confirmation this photo came with (migration 0010; unique where set).
    Column("confirmation_id", BigInteger().with_variant(Integer, "sqlite"), nullable=True),
)

# -- organisations (migration 0007) ------------------------------------------------------------

#: The root organisation: existing stations and users, and users added without ``--org``.
ROOT_ORG_ID = 1

# The tree of union bodies (全国 → 北京市 → 北京经济技术开发区 → 园区工会). ``path`` is the
# materialised path of ids ("/1/4/9/"): "is X under Y" is one string prefix test, and a
# subtree one indexed LIKE, on both engines.
orgs_table = Table(
    "orgs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("parent_id", Integer, ForeignKey("orgs.id"), nullable=True),
    Column("path", String(400), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
