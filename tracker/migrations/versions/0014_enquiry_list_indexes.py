"""partial indexes of the open enquiries for the work tray's overdue counts and lists, and an
index of what the enquiry list's search reads

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 15:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_ONLY = "closed_on IS NULL AND approved_on IS NULL"
OPEN_INDEXES = (
    ("ix_enquiry_open_stage", ["authority_code", "stage", "received_on", "id"]),
    ("ix_enquiry_open_application", ["authority_code", "application_on", "id"]),
)
SEARCH_COLUMNS = [
    "authority_code",
    "enquirer_name",
    "email",
    "external_ref",
    "phone",
    "received_on",
    "id",
]


def upgrade() -> None:
    where = sa.text(OPEN_ONLY)
    for name, columns in OPEN_INDEXES:
        op.create_index(
            name, "enquiry", columns, unique=False, sqlite_where=where, postgresql_where=where
        )
    op.create_index("ix_enquiry_search", "enquiry", SEARCH_COLUMNS, unique=False)


def downgrade() -> None:
    op.drop_index("ix_enquiry_search", table_name="enquiry")
    for name, _ in reversed(OPEN_INDEXES):
        op.drop_index(name, table_name="enquiry")
