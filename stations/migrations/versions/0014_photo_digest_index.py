"""An index on ``station_photos.digest``.

Revision ID: 0014
Revises: 0012 (the newest when this landed)
Create Date: 2026-12-06

Every photo served asks whether its digest was ever published, and every rejection and
``stations photos prune`` asks whether any other row still uses the digest; without an
index each of these read the whole table.
"""

from alembic import op

revision = "0014"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_station_photos_digest", "station_photos", ["digest"])


def downgrade() -> None:
    op.drop_index("ix_station_photos_digest", table_name="station_photos")
