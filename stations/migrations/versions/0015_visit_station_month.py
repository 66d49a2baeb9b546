"""One row per station and month with a column per worker type: the monthly report and the
busiest stations read it; it replaces ``visit_monthly``.

Revision ID: 0015
Revises: 0014 (the chain runs 0012 → 0014 → 0015)
Create Date: 2026-12-06

``visit_monthly`` (station, month, worker type) barely shrinks a busy network's data: the
monthly report still pivoted about a row and a half per station, and ranking the busiest
stations summed every station's month. A wide row per (station, month) is exactly the report's
line, and an index on (month, total DESC) hands out a month's busiest stations in order. The
rows are filled from ``visit_monthly``, which nothing else reads, so it is dropped (the
downgrade makes it again from the wide rows).
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

#: The worker types a stored visit can carry (``stations.visits.vocabulary.WORKER_COLUMNS``
#: when this revision was written) and the hand tallies' key.
WORKERS = ("delivery", "courier", "sanitation", "ride_hailing", "other", "unspecified")
HAND_TALLY = "hand_tally"


def upgrade() -> None:
    op.create_table(
        "visit_station_month",
        sa.Column("station_id", sa.Integer, primary_key=True),
        sa.Column("month", sa.Date, primary_key=True),
        *(
            sa.Column(c, sa.Integer, nullable=False, server_default="0")
            for c in (*WORKERS, HAND_TALLY, "total")
        ),
    )
    op.create_index(
        "ix_visit_station_month_total", "visit_station_month", ["month", sa.text("total DESC")]
    )
    op.execute(
        fill_statement("(SELECT station_id, month, worker_type, count FROM visit_monthly) AS m")
    )
    op.drop_index("ix_visit_monthly_month", table_name="visit_monthly")
    op.drop_table("visit_monthly")


def fill_statement(source: str) -> str:
    """SQL that fills ``visit_station_month`` from ``source``, rows of (station_id, month,
    worker_type, count) (also run by ``bench/visits_bench.py`` on its generated data)."""
    columns = (*WORKERS, HAND_TALLY)
    sums = ", ".join(f"sum(CASE WHEN worker_type = '{c}' THEN count ELSE 0 END)" for c in columns)
    return (
        f"INSERT INTO visit_station_month (station_id, month, {', '.join(columns)}, total)"
        f" SELECT station_id, month, {sums}, sum(count) FROM {source}"
        " GROUP BY station_id, month HAVING sum(count) <> 0"
    )


def downgrade() -> None:
    op.create_table(
        "visit_monthly",
        sa.Column("station_id", sa.Integer, primary_key=True),
        sa.Column("month", sa.Date, primary_key=True),
        sa.Column("worker_type", sa.String(16), primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
    )
    op.create_index("ix_visit_monthly_month", "visit_monthly", ["month"])
    op.execute(
        "INSERT INTO visit_monthly (station_id, month, worker_type, count) "
        + " UNION ALL ".join(
            f"SELECT station_id, month, '{c}', {c} FROM visit_station_month WHERE {c} <> 0"
            for c in (*WORKERS, HAND_TALLY)
        )
    )
    op.drop_index("ix_visit_station_month_total", table_name="visit_station_month")
    op.drop_table("visit_station_month")
