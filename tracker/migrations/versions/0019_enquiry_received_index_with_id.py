"""the index of a council's enquiries by day received ends with the id, as the enquiry list's
newest and oldest orders do: a page is read off the index in order, with no sort of the
enquiries that share a day (a bulk of them logged or imported on one day made every list
page sort them all on PostgreSQL, whose indexes, unlike SQLite's, do not end with the id)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 13:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_enquiry_authority_received"


def upgrade() -> None:
    op.drop_index(NAME, table_name="enquiry")
    op.create_index(NAME, "enquiry", ["authority_code", "received_on", "id"], unique=False)


def downgrade() -> None:
    op.drop_index(NAME, table_name="enquiry")
    op.create_index(NAME, "enquiry", ["authority_code", "received_on"], unique=False)
