"""The change feed's commit-ordered numbering and the webhook consumers.

``station_history.seq`` numbers every change in commit order (see ``change_clock`` in
``stations.store.schema``); existing rows are numbered by their id, which was commit order
on SQLite and the best order known on PostgreSQL. A trigger numbers any history row
inserted without one, so a writer that forgets cannot open a hole in the feed.

Revision ID: 0005
Revises: 0002 (0003 and 0004 had not landed when this was written; re-chain when they do)
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("station_history", sa.Column("seq", sa.Integer, nullable=True))
    op.execute("UPDATE station_history SET seq = id")
    op.create_index("ix_station_history_seq", "station_history", ["seq"], unique=True)
    op.create_table(
        "change_clock",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("value", sa.Integer, nullable=False),
    )
    op.execute(
        "INSERT INTO change_clock (id, value) SELECT 1, coalesce(max(id), 0) FROM station_history"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION station_history_seq() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN UPDATE change_clock SET value = value + 1 WHERE id = 1 "
            "RETURNING value INTO NEW.seq; RETURN NEW; END $$"
        )
        op.execute(
            "CREATE TRIGGER station_history_seq BEFORE INSERT ON station_history "
            "FOR EACH ROW WHEN (NEW.seq IS NULL) EXECUTE FUNCTION station_history_seq()"
        )
    else:
        op.execute(
            "CREATE TRIGGER station_history_seq AFTER INSERT ON station_history "
            "WHEN NEW.seq IS NULL BEGIN "
            "UPDATE change_clock SET value = value + 1 WHERE id = 1; "
            "UPDATE station_history SET seq = (SELECT value FROM change_clock WHERE id = 1) "
            "WHERE id = NEW.id; END"
        )
    op.create_table(
        "webhook_consumers",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("secret", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_seq", sa.Integer, nullable=False),
        sa.Column("delivered_count", sa.Integer, nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status", sa.Integer, nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("lease_owner", sa.String(64), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("webhook_consumers")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS station_history_seq ON station_history")
        op.execute("DROP FUNCTION IF EXISTS station_history_seq()")
    else:
        op.execute("DROP TRIGGER IF EXISTS station_history_seq")
    op.drop_table("change_clock")
    op.drop_index("ix_station_history_seq", table_name="station_history")
    with op.batch_alter_table("station_history") as batch:
        batch.drop_column("seq")
