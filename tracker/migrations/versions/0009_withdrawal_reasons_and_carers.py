"""enquiry withdrawal reason (Ofsted AW0-AW5) and household carers' number, age bands and
disability

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 00:37:06.405714

Every new column is optional: closures and households stored before keep NULL, which the
Ofsted return reads as "not recorded" (a withdrawal then counts under AW0, other or unknown).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("enquiry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("withdrawal_reason", sa.String(length=3), nullable=True))

    with op.batch_alter_table("household", schema=None) as batch_op:
        batch_op.add_column(sa.Column("carers", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("carers_age_bands", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("carers_disabled", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("household", schema=None) as batch_op:
        batch_op.drop_column("carers_disabled")
        batch_op.drop_column("carers_age_bands")
        batch_op.drop_column("carers")

    with op.batch_alter_table("enquiry", schema=None) as batch_op:
        batch_op.drop_column("withdrawal_reason")
