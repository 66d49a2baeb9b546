"""Rider confirmations, station photos, entry method and verification (issue 16).

Revision ID: 0003
Revises: 0005 (0005 landed first, pointing at 0002)
Create Date: 2026-12-06
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0005"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")  # SQLite: INTEGER PRIMARY KEY


def upgrade() -> None:
    with op.batch_alter_table("stations") as batch:
        batch.add_column(sa.Column("entry", sa.String(16), nullable=False, server_default=""))
        batch.add_column(sa.Column("no_smartphone_ok", sa.Boolean, nullable=True))
        batch.add_column(sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "confirmations",
        sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("station_id", sa.Integer, sa.ForeignKey("stations.id"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("amenity", sa.String(32), nullable=True),
        sa.Column("device_hash", sa.String(32), nullable=False),
        sa.Column("onsite", sa.Boolean, nullable=False),
        sa.Column("distance_m", sa.Float(precision=53), nullable=True),
        sa.Column("scheduled", sa.Boolean, nullable=True),
    )
    op.create_index("ix_confirmations_station_at", "confirmations", ["station_id", "at"])
    op.create_index("ix_confirmations_device", "confirmations", ["device_hash", "station_id", "at"])
    op.create_index("ix_confirmations_at", "confirmations", ["at"])
    secrets_table = op.create_table(
        "trust_secrets",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("value", sa.String(128), nullable=False),
    )
    op.bulk_insert(secrets_table, [{"name": "device_salt", "value": secrets.token_hex(32)}])
    op.create_table(
        "station_photos",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("station_id", sa.Integer, sa.ForeignKey("stations.id"), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("reviewed_by", sa.String(100), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_station_photos_station", "station_photos", ["station_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_station_photos_station", table_name="station_photos")
    op.drop_table("station_photos")
    op.drop_table("trust_secrets")
    op.drop_index("ix_confirmations_at", table_name="confirmations")
    op.drop_index("ix_confirmations_device", table_name="confirmations")
    op.drop_index("ix_confirmations_station_at", table_name="confirmations")
    op.drop_table("confirmations")
    with op.batch_alter_table("stations") as batch:
        batch.drop_column("verified_at")
        batch.drop_column("no_smartphone_ok")
        batch.drop_column("entry")
