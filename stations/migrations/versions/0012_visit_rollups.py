"""Visit roll-ups that shrink the data reports read: per station and month, per area and day,
and each station's last visit day; filled from the day roll-up and the hand tallies.

Revision ID: 0012
Revises: 0010 (the chain runs 0009 → 0011 → 0010 → 0012)
Create Date: 2026-12-06

The day roll-up (station, day, hour, worker type) barely shrinks a busy network's raw rows,
so the monthly report and the dashboard took seconds at 10 million check-ins. The new tables
are written in the check-in's own transaction from now on; this revision fills them from
``visit_daily`` and ``visit_tallies`` (district and host type as the stations have them now),
so every total reads the same before and after.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "visit_monthly",
        sa.Column("station_id", sa.Integer, primary_key=True),
        sa.Column("month", sa.Date, primary_key=True),
        sa.Column("worker_type", sa.String(16), primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
    )
    op.create_index("ix_visit_monthly_month", "visit_monthly", ["month"])
    op.create_table(
        "visit_area_daily",
        sa.Column("scope", sa.String(12), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("area", sa.String(60), primary_key=True),
        sa.Column("worker_type", sa.String(16), primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
    )
    op.create_table(
        "visit_station_last",
        sa.Column("station_id", sa.Integer, primary_key=True),
        sa.Column("last_day", sa.Date, nullable=False),
    )
    op.create_index("ix_visit_station_last_day", "visit_station_last", ["last_day"])

    for statement in backfill_statements(op.get_bind().dialect.name == "postgresql"):
        op.execute(statement)


def backfill_statements(pg: bool) -> list[str]:
    """The SQL that fills the new roll-ups from ``visit_daily`` and ``visit_tallies`` (also
    run by ``bench/visits_bench.py`` on its generated data)."""
    month = "date_trunc('month', day)::date" if pg else "date(day, 'start of month')"
    hour = "lpad(hour::text, 2, '0')" if pg else "printf('%02d', hour)"
    # Scans and tallies as one stream of (station, day, hour or NULL, worker type, count).
    visits = (
        "(SELECT station_id, day, hour, worker_type, count FROM visit_daily"
        " UNION ALL SELECT station_id, day, NULL, 'hand_tally', count FROM visit_tallies)"
    )
    out = [
        "INSERT INTO visit_monthly (station_id, month, worker_type, count)"
        f" SELECT station_id, {month}, worker_type, sum(count) FROM {visits} v"
        " GROUP BY 1, 2, 3 HAVING sum(count) <> 0"
    ]
    for scope, area in (
        ("network", "''"),
        ("district", "coalesce(s.district, '')"),
        ("host_type", "coalesce(s.host_type, '')"),
    ):
        out.append(
            "INSERT INTO visit_area_daily (scope, day, area, worker_type, count)"
            f" SELECT '{scope}', v.day, {area}, v.worker_type, sum(v.count) FROM {visits} v"
            " LEFT JOIN stations s ON s.id = v.station_id"
            " GROUP BY 1, 2, 3, 4 HAVING sum(v.count) <> 0"
        )
    out.append(
        "INSERT INTO visit_area_daily (scope, day, area, worker_type, count)"
        f" SELECT 'hour', day, {hour}, worker_type, sum(count) FROM visit_daily"
        " GROUP BY 1, 2, 3, 4 HAVING sum(count) <> 0"
    )
    out.append(
        "INSERT INTO visit_station_last (station_id, last_day)"
        f" SELECT station_id, max(day) FROM {visits} v WHERE count > 0 GROUP BY station_id"
    )
    return out


def downgrade() -> None:
    op.drop_index("ix_visit_station_last_day", table_name="visit_station_last")
    op.drop_table("visit_station_last")
    op.drop_table("visit_area_daily")
    op.drop_index("ix_visit_monthly_month", table_name="visit_monthly")
    op.drop_table("visit_monthly")
