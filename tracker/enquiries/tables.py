"""The stored enquiries: each holds the date every funnel stage was reached in its own column,
so funnel figures are plain SQL aggregates; `enquiry_event` keeps the full history of every
change (date, who, note)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint, func, text
from sqlmodel import Field, SQLModel, col

from tracker.core.clock import utcnow
from tracker.enquiries.stages import (
    Stage,
)

PERSONAL_FIELDS = ("enquirer_name", "email", "phone", "postcode_district", "ethnicity")
# What erasure blanks: the personal data, and free text that may name a person (a campaign
# written as "referred by ..."); an import never writes them back onto an erased enquiry.
ERASED_FIELDS = (*PERSONAL_FIELDS, "campaign")
# Open enquiries (neither closed nor approved): a few hundred of a council's tens of
# thousands, so the work tray's overdue counts and the open list read small partial indexes.
OPEN_ONLY = "closed_on IS NULL AND approved_on IS NULL"


def _open_index(name: str, *columns: str) -> Index:
    """An index of the open enquiries only (partial, on SQLite and PostgreSQL)."""
    where = text(OPEN_ONLY)
    return Index(name, *columns, sqlite_where=where, postgresql_where=where)


# The fields a search term is looked for in (any case, anywhere in the value), each with its
# PostgreSQL index of the council's lower-case trigrams (pg_trgm with btree_gin, migration
# 0016): `lower(column) LIKE '%term%'` of one council reads the matches' entries, not the
# council's every row. Being indexes of the columns, an erasure blanking a field leaves
# nothing of it searchable. GIN's pending list of recent entries (which every search scans)
# is held to 256 kB: a write stays cheap (0.5 s for a large council's 19,000 enquiries
# against 3.6 s with no list, 0.4 s with the default 4 MB), a search's extra scan small.
SEARCHED_COLUMNS = {
    "ix_enquiry_trgm_name": "enquirer_name",
    "ix_enquiry_trgm_email": "email",
    "ix_enquiry_trgm_ref": "external_ref",
}


class Enquiry(SQLModel, table=True):
    """One enquiry from a prospective fostering household, followed to approval or closure."""

    __tablename__ = "enquiry"
    __table_args__ = (
        UniqueConstraint("authority_code", "external_ref", name="uq_enquiry_external_ref"),
        # In the list's newest and oldest orders (the id breaks ties): a page is read off
        # it in order, however many enquiries share a day.
        Index("ix_enquiry_authority_received", "authority_code", "received_on", "id"),
        Index("ix_enquiry_authority_stage", "authority_code", "stage"),
        Index("ix_enquiry_authority_application", "authority_code", "application_on"),
        Index("ix_enquiry_authority_approved", "authority_code", "approved_on"),
        _open_index("ix_enquiry_open_stage", "authority_code", "stage", "received_on", "id"),
        _open_index("ix_enquiry_open_application", "authority_code", "application_on", "id"),
        # What the list's search reads and sorts by on SQLite: a search scans this, not the
        # rows. PostgreSQL finds the matches in the trigram indexes below instead.
        Index(
            "ix_enquiry_search",
            "authority_code",
            "enquirer_name",
            "email",
            "external_ref",
            "phone",
            "received_on",
            "id",  # SQLite's rows carry it
        ).ddl_if(dialect="sqlite"),
    )

    id: int | None = Field(default=None, primary_key=True)
    authority_code: str = Field(sa_type=String(9), sa_column_args=[ForeignKey("authority.code")])
    external_ref: str | None = Field(default=None, sa_type=String(64))
    received_on: date
    channel: str = Field(sa_type=String(20))
    campaign: str | None = Field(default=None, sa_type=String(80))
    enquirer_name: str | None = Field(default=None, sa_type=String(200))
    email: str | None = Field(default=None, sa_type=String(254))
    phone: str | None = Field(default=None, sa_type=String(30))
    postcode_district: str | None = Field(default=None, sa_type=String(4))
    household_type: str | None = Field(default=None, sa_type=String(20))
    ethnicity: str | None = Field(default=None, sa_type=String(40))
    interests: list[str] = Field(default_factory=list, sa_type=JSON)
    stage: str = Field(default=Stage.ENQUIRY.value, sa_type=String(20))
    first_contact_on: date | None = None
    initial_visit_on: date | None = None
    application_on: date | None = None
    stage_1_on: date | None = None
    stage_2_on: date | None = None
    panel_on: date | None = None
    approved_on: date | None = None
    closed_on: date | None = None
    closure_reason: str | None = Field(default=None, sa_type=String(30))
    withdrawal_reason: str | None = Field(default=None, sa_type=String(3))
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    erased_at: datetime | None = None


for _name, _column in SEARCHED_COLUMNS.items():
    # GIN of (authority_code, lower(column)) trigrams, on PostgreSQL only (attached to the
    # table by naming its columns).
    Index(
        _name,
        col(Enquiry.authority_code),
        func.lower(getattr(Enquiry, _column)).label(f"lower_{_column}"),
        postgresql_using="gin",
        postgresql_ops={f"lower_{_column}": "gin_trgm_ops"},
        postgresql_with={"gin_pending_list_limit": 256},
    ).ddl_if(dialect="postgresql")


class EnquiryEvent(SQLModel, table=True):
    """One entry in an enquiry's history: created, moved, closed, reopened, edited, erased."""

    __tablename__ = "enquiry_event"

    id: int | None = Field(default=None, primary_key=True)
    enquiry_id: int = Field(
        sa_column_args=[ForeignKey("enquiry.id", ondelete="CASCADE")], index=True
    )
    action: str = Field(sa_type=String(20))
    stage: str | None = Field(default=None, sa_type=String(20))
    on_date: date | None = None
    note: str | None = Field(default=None, sa_type=String(2000))
    actor: str = Field(sa_type=String(200))
    recorded_at: datetime = Field(default_factory=utcnow)
