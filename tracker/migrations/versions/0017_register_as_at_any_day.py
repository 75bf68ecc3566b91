"""the register as at any day from the prepared month-end before it and the month's changes:
each month-end keeps its term and age band sums per care type (filled for the councils
already built), and the ends of versions, placements and unavailability are indexed per
council (what changed since a month-end is found by index)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 20:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_household_version_ends", "household_version", ["authority_code", "valid_to"]),
    ("ix_placement_ends", "placement", ["authority_code", "end_on"]),
    ("ix_unavailability_ends", "place_unavailability", ["authority_code", "end_on"]),
    ("ix_unavailability_household", "place_unavailability", ["household_id", "start_on"]),
)


def upgrade() -> None:
    with op.batch_alter_table("register_month") as batch:
        batch.add_column(sa.Column("terms_and_bands", sa.JSON(), nullable=True))
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)
    _fill()


def _fill() -> None:
    """Store every built council's month-ends again, now with their term and age band sums
    (the refresh every register write runs, from the first month to the last stored)."""
    from forecast.months import parse_month
    from tracker.capacity.monthly import first_register_day, refresh_register_months

    bind = op.get_bind()
    built = bind.execute(
        sa.text(
            "SELECT p.authority_code, max(r.month) FROM prepared_authority p "
            "JOIN register_month r ON r.authority_code = p.authority_code "
            "GROUP BY p.authority_code ORDER BY p.authority_code"
        )
    ).all()
    session = Session(bind=bind)
    for code, last in built:
        first = first_register_day(session, code)
        if first is not None:
            refresh_register_months(session, code, first, parse_month(last))
    session.flush()


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    with op.batch_alter_table("register_month") as batch:
        batch.drop_column("terms_and_bands")
