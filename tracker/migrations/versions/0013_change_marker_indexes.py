"""indexes for the capacity views' change marker: the latest household and placement change,
per council and overall

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 13:50:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_household_changed", "household", ["authority_code", "updated_at"]),
    ("ix_household_updated_at", "household", ["updated_at"]),
    ("ix_placement_recorded", "placement", ["authority_code", "created_at"]),
    ("ix_placement_created_at", "placement", ["created_at"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
