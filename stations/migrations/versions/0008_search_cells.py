"""Search demand: counts of nearest-station searches per H3 cell and local day.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06

No position is stored: the service counts each query's H3 cell (resolution 8) in memory.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "search_cells",
        sa.Column("cell", sa.String(16), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
    )
    op.create_index("ix_search_cells_day", "search_cells", ["day"])


def downgrade() -> None:
    op.drop_index("ix_search_cells_day", table_name="search_cells")
    op.drop_table("search_cells")
