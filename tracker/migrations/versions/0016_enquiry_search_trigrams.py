"""on PostgreSQL, the enquiry search reads trigram indexes of each searched field per council
(pg_trgm and btree_gin) instead of scanning the council's every entry of ix_enquiry_search,
which it then no longer needs (SQLite keeps it)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 17:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Index name -> the searched column (tracker.enquiries.tables.SEARCHED_COLUMNS as of 0016).
SEARCHED_COLUMNS = {
    "ix_enquiry_trgm_name": "enquirer_name",
    "ix_enquiry_trgm_email": "email",
    "ix_enquiry_trgm_ref": "external_ref",
}
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
    if op.get_bind().dialect.name != "postgresql":
        return
    # Both are trusted extensions (PostgreSQL 13 and later): a database owner may add them.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    for name, column in SEARCHED_COLUMNS.items():
        op.execute(
            f"CREATE INDEX {name} ON enquiry USING gin "
            f"(authority_code, lower({column}) gin_trgm_ops) WITH (gin_pending_list_limit = 256)"
        )
    op.drop_index("ix_enquiry_search", table_name="enquiry")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.create_index("ix_enquiry_search", "enquiry", SEARCH_COLUMNS, unique=False)
    for name in reversed(SEARCHED_COLUMNS):
        op.drop_index(name, table_name="enquiry")
