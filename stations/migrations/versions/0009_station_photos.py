"""A station's published photos (digests, door photo first) on the station record.

Revision ID: 0009
Revises: 0008 (the newest when this landed)
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stations") as batch:
        batch.add_column(sa.Column("photos", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("stations") as batch:
        batch.drop_column("photos")
