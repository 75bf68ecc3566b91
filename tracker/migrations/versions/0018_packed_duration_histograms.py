"""the prepared funnel's duration histograms packed one row a month and pair (the day counts
in order and the enquiries of each) instead of one row a day count, filled from the rows
stored: a year of a large council's durations is read as 120 rows, not 1,500

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 01:00:00.000000
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _key() -> list[sa.Column]:
    return [
        sa.Column("authority_code", sa.String(length=9), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("pair", sa.Integer(), nullable=False),
    ]


def upgrade() -> None:
    histogram = op.create_table(
        "funnel_month_histogram",
        *_key(),
        sa.Column("days", sa.JSON(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("authority_code", "month", "pair"),
    )
    bind = op.get_bind()
    codes = bind.execute(sa.text("SELECT DISTINCT authority_code FROM funnel_month_duration"))
    for (code,) in codes.all():
        rows = bind.execute(
            sa.text(
                "SELECT month, pair, days, count FROM funnel_month_duration "
                "WHERE authority_code = :code ORDER BY month, pair, days"
            ),
            {"code": code},
        ).all()
        packed: dict[tuple[str, int], dict] = {}
        for month, pair, days, count in rows:
            row = packed.setdefault((month, pair), {"days": [], "counts": []})
            row["days"].append(int(days))
            row["counts"].append(int(count))
        bind.execute(
            histogram.insert(),
            [
                {"authority_code": code, "month": month, "pair": pair, **row}
                for (month, pair), row in packed.items()
            ],
        )
    op.drop_table("funnel_month_duration")


def downgrade() -> None:
    duration = op.create_table(
        "funnel_month_duration",
        *_key(),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("authority_code", "month", "pair", "days"),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT authority_code, month, pair, days, counts FROM funnel_month_histogram")
    )
    unpacked = []
    for code, month, pair, days, counts in rows:
        days = json.loads(days) if isinstance(days, str) else days
        counts = json.loads(counts) if isinstance(counts, str) else counts
        unpacked += [
            {"authority_code": code, "month": month, "pair": pair, "days": d, "count": n}
            for d, n in zip(days, counts, strict=True)
        ]
    if unpacked:
        bind.execute(duration.insert(), unpacked)
    op.drop_table("funnel_month_histogram")
