"""each council's revision, moved by every audited change when it commits (what kept
capacity views are keyed by)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 15:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "council_revision",
        sa.Column("authority_code", sa.String(length=9), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("authority_code"),
    )


def downgrade() -> None:
    op.drop_table("council_revision")
