"""Confirmation claims: the once-an-hour rule per device and station as one upsert.

Revision ID: 0011
Revises: 0009 (the newest when this landed)
Create Date: 2026-12-06

Votes of the last hour are carried over, so a device that voted just before the upgrade
still waits out its hour.
"""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None

_INTERVAL = timedelta(hours=1)


def upgrade() -> None:
    claims = op.create_table(
        "confirmation_claims",
        sa.Column("station_id", sa.Integer, sa.ForeignKey("stations.id"), primary_key=True),
        sa.Column("device_hash", sa.String(32), primary_key=True),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
    )
    votes = sa.table(
        "confirmations",
        sa.column("station_id", sa.Integer),
        sa.column("device_hash", sa.String),
        sa.column("at", sa.DateTime(timezone=True)),
    )
    since = datetime.now(UTC) - _INTERVAL
    rows = op.get_bind().execute(
        sa.select(votes.c.station_id, votes.c.device_hash, sa.func.max(votes.c.at))
        .where(votes.c.at > since)
        .group_by(votes.c.station_id, votes.c.device_hash)
    )
    carried = []
    for sid, device, at in rows:
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
        carried.append(
            {"station_id": sid, "device_hash": device, "last_at": at, "until": at + _INTERVAL}
        )
    if carried:
        op.bulk_insert(claims, carried)


def downgrade() -> None:
    op.drop_table("confirmation_claims")
