"""A rider's photo names the confirmation it was sent with (one photo per confirmation).

Revision ID: 0010
Revises: 0011 (the newest when this landed)
Create Date: 2026-12-06

No foreign key: confirmations age out of the rules after three days and may be pruned
later, while a reviewed photo's record stays; the unique index is what keeps "one photo per
confirmation" true under two simultaneous uploads (NULLs, photos without one, never clash).
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("station_photos") as batch:
        batch.add_column(
            sa.Column(
                "confirmation_id",
                sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                nullable=True,
            )
        )
    op.create_index(
        "ux_station_photos_confirmation", "station_photos", ["confirmation_id"], unique=True
    )


def downgrade() -> None:
    op.drop_index("ux_station_photos_confirmation", table_name="station_photos")
    with op.batch_alter_table("station_photos") as batch:
        batch.drop_column("confirmation_id")
