"""regional recruitment hubs: hubs, their member councils (with data sharing agreements),
their postcode district choices, the enquiries they log with their handovers, their
targets, and hub tokens

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 02:21:44.970902
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "hub",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("handover_stage", sa.String(length=20), nullable=False),
        sa.Column("decision_days", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "hub_district",
        sa.Column("hub_id", sa.Integer(), nullable=False),
        sa.Column("district", sa.String(length=4), nullable=False),
        sa.Column("authority_code", sa.String(length=9), nullable=False),
        sa.ForeignKeyConstraint(
            ["authority_code"],
            ["authority.code"],
        ),
        sa.ForeignKeyConstraint(["hub_id"], ["hub.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("hub_id", "district"),
    )
    op.create_table(
        "hub_member",
        sa.Column("hub_id", sa.Integer(), nullable=False),
        sa.Column("authority_code", sa.String(length=9), nullable=False),
        sa.Column("shared_stages", sa.JSON(), nullable=False),
        sa.Column("shared_fields", sa.JSON(), nullable=False),
        sa.Column("agreed_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["authority_code"],
            ["authority.code"],
        ),
        sa.ForeignKeyConstraint(["hub_id"], ["hub.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("hub_id", "authority_code"),
    )
    op.create_table(
        "hub_enquiry",
        sa.Column("enquiry_id", sa.Integer(), nullable=False),
        sa.Column("hub_id", sa.Integer(), nullable=False),
        sa.Column("routed_by", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("offered_on", sa.Date(), nullable=True),
        sa.Column("decision_due", sa.Date(), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("decline_reason", sa.String(length=30), nullable=True),
        sa.Column("email_key", sa.String(length=64), nullable=True),
        sa.Column("phone_key", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["enquiry_id"], ["enquiry.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["hub_id"], ["hub.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("enquiry_id"),
    )
    op.create_table(
        "hub_target",
        sa.Column("hub_id", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(length=20), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("target", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["hub_id"], ["hub.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("hub_id", "metric", "year"),
    )
    with op.batch_alter_table("hub_enquiry", schema=None) as batch_op:
        batch_op.create_index("ix_hub_enquiry_email_key", ["email_key"], unique=False)
        batch_op.create_index("ix_hub_enquiry_hub_status", ["hub_id", "status"], unique=False)
        batch_op.create_index("ix_hub_enquiry_phone_key", ["phone_key"], unique=False)

    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hub_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_api_token_hub_id_hub", "hub", ["hub_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_constraint("fk_api_token_hub_id_hub", type_="foreignkey")
        batch_op.drop_column("hub_id")

    with op.batch_alter_table("hub_enquiry", schema=None) as batch_op:
        batch_op.drop_index("ix_hub_enquiry_phone_key")
        batch_op.drop_index("ix_hub_enquiry_hub_status")
        batch_op.drop_index("ix_hub_enquiry_email_key")

    op.drop_table("hub_target")
    op.drop_table("hub_enquiry")
    op.drop_table("hub_member")
    op.drop_table("hub_district")
    op.drop_table("hub")
