"""prepared monthly figures: the funnel per council and month (cohort by channel and
campaign, closures, duration histograms, events), the register per council and month
(month-end places per care type, approvals and deregistrations), and the councils built

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 12:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STAGES = (
    "enquiry", "first_contact", "initial_visit", "application", "stage_1", "stage_2", "panel",
    "approved",
)  # fmt: skip


def _key(*extra: sa.Column) -> list[sa.Column]:
    return [
        sa.Column("authority_code", sa.String(length=9), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        *extra,
    ]


def _counts(*names: str) -> list[sa.Column]:
    return [sa.Column(n, sa.Integer(), nullable=False) for n in names]


def upgrade() -> None:
    op.create_table(
        "prepared_authority",
        sa.Column("authority_code", sa.String(length=9), nullable=False),
        sa.Column("built_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["authority_code"], ["authority.code"]),
        sa.PrimaryKeyConstraint("authority_code"),
    )
    op.create_table(
        "funnel_month",
        sa.Column("id", sa.Integer(), nullable=False),
        *_key(
            sa.Column("channel", sa.String(length=20), nullable=False),
            sa.Column("campaign", sa.String(length=80), nullable=True),
        ),
        *_counts(*(f"reached_{s}" for s in STAGES), "closed", "approved"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_funnel_month_authority_month", "funnel_month", ["authority_code", "month"])
    op.create_table(
        "funnel_month_closure",
        *_key(
            sa.Column("stage", sa.String(length=20), nullable=False),
            sa.Column("reason", sa.String(length=40), nullable=False),
        ),
        *_counts("count"),
        sa.PrimaryKeyConstraint("authority_code", "month", "stage", "reason"),
    )
    op.create_table(
        "funnel_month_duration",
        *_key(
            sa.Column("pair", sa.Integer(), nullable=False),
            sa.Column("days", sa.Integer(), nullable=False),
        ),
        *_counts("count"),
        sa.PrimaryKeyConstraint("authority_code", "month", "pair", "days"),
    )
    op.create_table(
        "funnel_month_events",
        *_key(),
        *_counts("enquiries", "applications", "approvals", "closures"),
        sa.PrimaryKeyConstraint("authority_code", "month"),
    )
    op.create_table(
        "register_month",
        *_key(sa.Column("care_type", sa.String(length=40), nullable=False)),
        *_counts("households", "approved", "filled", "unavailable", "vacant"),
        sa.PrimaryKeyConstraint("authority_code", "month", "care_type"),
    )
    op.create_table(
        "register_month_flow",
        *_key(),
        *_counts("approvals"),
        sa.Column("deregistrations", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("authority_code", "month"),
    )


def downgrade() -> None:
    for table in (
        "register_month_flow",
        "register_month",
        "funnel_month_events",
        "funnel_month_duration",
        "funnel_month_closure",
        "funnel_month",
        "prepared_authority",
    ):
        op.drop_table(table)
