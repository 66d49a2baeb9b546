"""Organisations: a tree of union bodies; every station and user belongs to one.

Existing stations and users go to the root (id 1), so a single-district deployment keeps
working unchanged: its editors' scope is the whole tree.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "orgs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("parent_id", sa.Integer, sa.ForeignKey("orgs.id"), nullable=True),
        sa.Column("path", sa.String(400), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_orgs_path", "orgs", ["path"])
    op.execute(
        "INSERT INTO orgs (id, name, parent_id, path, created_at) "
        "VALUES (1, 'root', NULL, '/1/', CURRENT_TIMESTAMP)"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("SELECT setval(pg_get_serial_sequence('orgs', 'id'), 1)")
    op.add_column("stations", sa.Column("org_id", sa.Integer, nullable=False, server_default="1"))
    op.create_index("ix_stations_org_id", "stations", ["org_id"])
    op.add_column("users", sa.Column("org_id", sa.Integer, nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("org_id")
    op.drop_index("ix_stations_org_id", table_name="stations")
    with op.batch_alter_table("stations") as batch:
        batch.drop_column("org_id")
    op.drop_index("ix_orgs_path", table_name="orgs")
    op.drop_table("orgs")
