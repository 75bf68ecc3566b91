"""each setting of a council's annual approvals target, kept with its day, so past years are
measured against the target that applied then; a council's current target is kept as set on
the day of this migration (what it was before then is not known)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 18:00:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "approvals_target_setting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("authority_code", sa.String(length=9), nullable=False),
        sa.Column("set_on", sa.Date(), nullable=False),
        sa.Column("target", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["authority_code"], ["authority.code"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_approvals_target_setting_authority",
        "approvals_target_setting",
        ["authority_code", "id"],
        unique=False,
    )
    op.execute(
        sa.text(
            "INSERT INTO approvals_target_setting (authority_code, set_on, target) "
            "SELECT code, :today, annual_approvals_target FROM authority "
            "WHERE annual_approvals_target IS NOT NULL"
        ).bindparams(sa.bindparam("today", datetime.now(UTC).date(), type_=sa.Date()))
    )


def downgrade() -> None:
    op.drop_index("ix_approvals_target_setting_authority", table_name="approvals_target_setting")
    op.drop_table("approvals_target_setting")
