"""stored target trajectories, with the basis each was computed on; an index for the latest
audited change of a council

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 12:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "target_trajectory",
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("authority_code", sa.String(length=9), nullable=False),
        sa.Column("target_version", sa.Integer(), nullable=False),
        sa.Column("target_updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("forecast_run_id", sa.Integer(), nullable=True),
        sa.Column("audit_id", sa.Integer(), nullable=True),
        sa.Column("mapping_digest", sa.String(length=64), nullable=False),
        sa.Column("as_at", sa.Date(), nullable=False),
        sa.Column("computed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["target_id"], ["target.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("target_id"),
    )
    with op.batch_alter_table("target_trajectory", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_target_trajectory_authority_code"), ["authority_code"], unique=False
        )
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.create_index("ix_audit_entry_authority_id", ["authority_code", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_entry_authority_id")
    with op.batch_alter_table("target_trajectory", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_target_trajectory_authority_code"))
    op.drop_table("target_trajectory")
