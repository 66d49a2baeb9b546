"""Opening hours as staff wrote them, beside the OSM form.

``opening_hours_text`` keeps the Chinese hours exactly as written (``周一至周五 9:00-18:00``),
or the Chinese rendering of hours given in OSM syntax. Existing rows start empty: readers
fall back to rendering ``opening_hours`` (``stations.hours.hours_zh``), and the next write
of a row fills it.

Revision ID: 0006
Revises: 0004 (the newest at the time; 0003 and 0004 both followed 0005 then)
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "stations",
        sa.Column("opening_hours_text", sa.String(500), nullable=False, server_default=""),
    )


def downgrade() -> None:
    op.drop_column("stations", "opening_hours_text")
