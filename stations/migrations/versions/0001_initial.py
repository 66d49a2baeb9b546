"""Stations, their history and the geocoding cache.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("external_id", sa.String(64), nullable=True, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("address", sa.String(300), nullable=False),
        sa.Column("district", sa.String(60), nullable=False),
        sa.Column("lon", sa.Float(precision=53), nullable=False),
        sa.Column("lat", sa.Float(precision=53), nullable=False),
        sa.Column("host_type", sa.String(32), nullable=False),
        sa.Column("host_org", sa.String(200), nullable=False),
        sa.Column("amenities", sa.JSON, nullable=False),
        sa.Column("opening_hours", sa.String(500), nullable=False),
        sa.Column("phone", sa.String(60), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("notes", sa.Text, nullable=False),
        sa.Column("geocoded", sa.Boolean, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "station_history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("station_id", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("before", sa.JSON, nullable=True),
        sa.Column("after", sa.JSON, nullable=True),
    )
    op.create_index("ix_station_history_station_id", "station_history", ["station_id"])
    op.create_table(
        "geocode_cache",
        sa.Column("query", sa.String(400), primary_key=True),
        sa.Column("provider", sa.String(40), primary_key=True),
        sa.Column("lon", sa.Float(precision=53), nullable=True),
        sa.Column("lat", sa.Float(precision=53), nullable=True),
        sa.Column("address", sa.Text, nullable=True),
        sa.Column("candidates", sa.Integer, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        # A generated column keeps the PostGIS geometry in step with lon/lat by construction.
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        op.execute(
            "ALTER TABLE stations ADD COLUMN geom geometry(Point, 4326) "
            "GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)) STORED"
        )
        op.execute("CREATE INDEX ix_stations_geom ON stations USING gist (geom)")
        # Every committed write wakes the other processes' catalogs (LISTEN stations_changed);
        # one notification per statement, so a 100k-row import sends one, not 100k.
        op.execute(
            "CREATE FUNCTION stations_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN PERFORM pg_notify('stations_changed', ''); RETURN NULL; END $$"
        )
        op.execute(
            "CREATE TRIGGER station_history_notify AFTER INSERT ON station_history "
            "FOR EACH STATEMENT EXECUTE FUNCTION stations_notify_change()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS station_history_notify ON station_history")
        op.execute("DROP FUNCTION IF EXISTS stations_notify_change()")
    op.drop_table("geocode_cache")
    op.drop_index("ix_station_history_station_id", table_name="station_history")
    op.drop_table("station_history")
    op.drop_table("stations")
